"""The sanity-check tab: cascading model randomization of the maps shown, in one click.

Adebayo et al. (2018) re-initialize a trained network's layers from the
output down and watch the maps: a map that explains what the network
learned must change (its rank correlation with the trained map falls
towards 0); one that stays the same shows the input, not the network.
The tab runs `cascading_randomization` for the image, the class and every
pane's method on a copy of the model (the user's model is not touched), on
its own background thread, and shows one row of maps per re-initialized
layer, each with its Spearman correlation.
"""

import html
import traceback

import ipywidgets as widgets
from traitlets import dlink

from vis_widgets.core.attribution import cascading_randomization
from vis_widgets.core.attribution import graph as graph_lib
from vis_widgets.explorer.pictures import MAP_SIZE, overlay_picture, picture_png
from vis_widgets.explorer.views import close_tree, picture_widget, styled
from vis_widgets.runner import Runner

CELL = MAP_SIZE * 2 // 3
MAX_ROWS = 8
EXPLANATION = (
    "<b>Sanity check</b> (cascading model randomization, Adebayo et al. 2018). Each row "
    "re-initializes one more layer of a copy of the model, from the output down, and redraws "
    "every pane's map for this image and class; &rho; is the Spearman rank correlation with the "
    "trained model's map. <b>A method that passes</b> depends on what the network learned: its "
    "maps change as the weights are destroyed and &rho; falls towards 0. <b>A method that "
    "fails</b> keeps &rho; high down to the first layers: its map shows the input's edges "
    "whatever the network learned (guided backprop is the classic case)."
)


def weighted_layers(model, limit=None):
    """The names of the layers with weights, from the output down (nested models entered).

    Args:
        model: a Keras model.
        limit: keep the top `limit` of them (None: all).
    """
    names = [
        layer.name
        for _, layer in graph_lib.iter_layers(model)
        if layer.weights and not graph_lib.is_model(layer)
    ][::-1]
    return names if limit is None else names[:limit]


class SanityPanel:
    """The Sanity check tab: a button, what passing and failing look like, the rows of maps.

    Args:
        model: the model (a copy is randomized).
        request: returns the explorer's current `Request` (image, class, panes).
        images: the `ExplorerImages`.
        layers: the layers to re-initialize, in order: None (every layer with
            weights if there are at most 8, else the top 8), an int k (the
            top k), or a list of names.

    Attributes:
        button: `vw-attr-sanity`.
        status: a `Label` (`vw-attr-sanity-status`).
        rows: the `VBox` of rows (`vw-attr-sanity-rows`); each row
            (`vw-attr-sanity-row`) has a caption and one cell per pane, an
            `Image` (`vw-attr-sanity-map`) over an `HTML` with its &rho;
            (`vw-attr-sanity-rho`).
        result: the `RandomizationResult` of each pane, after a check.
        widget: the tab's `VBox`.

    Example:
        ```python
        panel = explorer.sanity  # an explorer's Sanity check tab
        panel.run()  # True: the check runs on its own thread
        panel.wait()
        panel.result[0].spearman[:, 0]  # one rank correlation per layer re-initialized
        ```
    """

    def __init__(self, model, request, images, layers=None):
        self.model, self._request, self.images = model, request, images
        if layers is None:
            layers = weighted_layers(model)
            layers = layers if len(layers) <= MAX_ROWS else layers[:MAX_ROWS]
        elif isinstance(layers, int) and not isinstance(layers, bool):
            layers = weighted_layers(model, layers)
        self.layers = list(layers)
        self.runner = Runner("vis_widgets-sanity")
        self.result = []
        self.button = styled(
            widgets.Button(
                description="Run sanity check",
                button_style="info",
                tooltip="re-initialize the layers from the top and redraw the maps",
                layout=widgets.Layout(width="180px"),
            ),
            "vw-attr-sanity",
        )
        self.button.on_click(lambda _: self.run())
        dlink((self.runner, "running"), (self.button, "disabled"))
        self.status = styled(widgets.Label(), "vw-attr-sanity-status")
        self.rows = styled(widgets.VBox(), "vw-attr-sanity-rows")
        self.errors = styled(widgets.Output(), "vw-attr-sanity-errors")
        self.widget = widgets.VBox(
            [
                widgets.HTML(f"<small>{EXPLANATION}</small>"),
                widgets.HBox([self.button, self.status]),
                self.errors,
                self.rows,
            ]
        )

    def run(self):
        """Starts the check for the current image, class and panes; False if one is running.

        The rows are made here, on the caller's thread (the check's thread only
        sets their values).
        """
        request, cells = self._request(), []

        def prepare():  # only once the start is accepted: a running check keeps its rows
            cells.extend(self._make_rows(request))
            self._started()

        return self.runner.start(lambda: self._check(request, cells), prepare=prepare)

    def wait(self, timeout=None):
        """Waits for the check; True when none runs."""
        return self.runner.wait(timeout)

    def _started(self):
        self.errors.outputs = ()
        self.status.value = f"re-initializing {len(self.layers)} layers, one at a time..."

    def _make_rows(self, request):
        names = ["trained model", *(f"{k}. + {name}" for k, name in enumerate(self.layers, 1))]
        cells, rows = [], []
        for name in names:
            row_cells = []
            for spec in request.panes:
                image = picture_widget("vw-attr-sanity-map", "")
                image.layout = widgets.Layout(width=f"{CELL}px", height="auto")
                rho = styled(
                    widgets.HTML(_small(spec.label()), layout=widgets.Layout(width=f"{CELL}px")),
                    "vw-attr-sanity-rho",
                )
                row_cells.append((image, rho))
            caption = widgets.HTML(_small(html.escape(name)), layout=widgets.Layout(width="130px"))
            boxes = [widgets.VBox([image, rho]) for image, rho in row_cells]
            rows.append(styled(widgets.HBox([caption, *boxes]), "vw-attr-sanity-row"))
            cells.append(row_cells)
        old = self.rows.children
        self.rows.children = rows
        for row in old:
            close_tree(row)
        return cells

    def _check(self, request, cells):
        try:
            image = self.images.batch[request.index : request.index + 1]
            picture = self.images.picture(request.index)
            results = []
            for column, spec in enumerate(request.panes):
                kwargs = spec.kwargs()
                method = kwargs.pop("method")
                result = cascading_randomization(
                    self.model,
                    image,
                    [request.target],
                    method=method,
                    layers=self.layers,
                    **kwargs,
                )
                results.append(result)
                for step, row in enumerate(cells):
                    over = overlay_picture(
                        result.maps[step, 0], picture, request.colormap, request.alpha
                    )
                    image_widget, rho = row[column]
                    image_widget.value = picture_png(over, CELL)
                    text = (
                        spec.label()
                        if step == 0
                        else f"&rho; = {result.spearman[step - 1, 0]:.2f}"
                    )
                    rho.value = _small(text)
            self.result = results
            self.status.value = self._summary(request, results)
        except Exception as err:
            self.status.value = f"the check failed: {type(err).__name__}"
            self.errors.append_stderr("".join(traceback.format_exception_only(err)))

    def _summary(self, request, results):
        last = ", ".join(
            f"{spec.label()} {result.spearman[-1, 0]:.2f}"
            for spec, result in zip(request.panes, results)
        )
        return f"ρ with every layer re-initialized: {last}"


def _small(text):
    return f"<small>{text}</small>"
