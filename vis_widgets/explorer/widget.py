"""AttributionExplorer: where does the network look? Saliency and CAMs, live, side by side.

Data flow: every control is `link`ed to one `ExplorerState`; any change of
a setting submits the state's `Request` to a `LatestWorker` (one background
thread, the latest request winning); the worker asks the engine for each
pane's map (`MapSource`, cached), draws the overlays as PNG bytes and writes
them into the state (each pane's `png` and `caption`, `image_png`,
`status`), which the views follow through `dlink`s. Widget callbacks only
set traits or start a job.
"""

import ipywidgets as widgets
import numpy as np
from traitlets import dlink

from vis_widgets.core.attribution import Attributor
from vis_widgets.core.attribution.checks import CAM_METHODS
from vis_widgets.explorer.inputs import resolve_images
from vis_widgets.explorer.maps import MapSource, cam_candidates, cam_rule, class_probabilities
from vis_widgets.explorer.pictures import picture_png
from vis_widgets.explorer.sanity import SanityPanel
from vis_widgets.explorer.shown import ShownMaps
from vis_widgets.explorer.snippet import explorer_snippet
from vis_widgets.explorer.state import MAX_PANES, ExplorerState
from vis_widgets.explorer.views import (
    ClassPicker,
    ImagePicker,
    PaneView,
    ParameterControls,
    add_button,
    close_tree,
    styled,
)
from vis_widgets.explorer.worker import LatestWorker
from vis_widgets.export import ExportPanel, write_bytes

SETTINGS = (
    "index",
    "target",
    "samples",
    "noise",
    "steps",
    "max_n",
    "cam_layer",
    "colormap",
    "alpha",
)
PANE_SETTINGS = ("method", "backprop_modifier")
ADD_ORDER = (
    "saliency",
    "gradcam",
    "smoothgrad",
    "integrated_gradients",
    "gradcam++",
    "layercam",
    "scorecam",
    "input_x_gradient",
    "guided_gradcam",
)
EXPORT_NOTE = (
    "<small>Python that recomputes the maps shown and draws the same overlays (expects "
    "<code>model</code>). The PNG holds the image and every pane, as shown. "
    "<i>Download</i> saves in your browser; <i>Save</i> writes on the kernel's machine.</small>"
)


class AttributionExplorer:
    """Saliency maps and class activation maps of a model, explored live in one widget.

    Pick an image and a class (the model's top 5 with their probabilities,
    or any class typed in), one to four methods side by side, each with its
    backprop modifier; SmoothGrad's samples and noise, Integrated Gradients'
    steps and the CAM layer show up when a method shown takes them. The maps
    are drawn over the image with a colormap and an alpha. Any change
    recomputes on a background thread, the latest change winning: a slider
    dragged through five values computes at most the first and the last.
    An error is shown in the widget, which stays usable. The Sanity check
    tab re-initializes the model's layers from the top and shows how each
    method's map changes; the Export tab saves the picture as PNG (in the
    kernel or as a browser download) and gives Python that recomputes it.

    Args:
        model: a single-input Keras image classifier.
        images: a numpy batch (or one image) in the model's input shape, an
            image file's path or a list of paths (`utils.load_img`), or None
            for the demo model's held-out digits.
        methods: the panes shown first: method names or `(method,
            backprop_modifier)` pairs (1 to 4).
        labels: the true class of each image (optional).
        class_names: a name per class (optional).
        input_range: the image values shown black to white (default: `(0,
            1)` or `(0, 255)` when the images fit, else their range).
        colormap: the heatmaps' matplotlib colormap.
        alpha: the heatmap's weight over the image, in [0, 1].
        attributor: an `Attributor` of `model` to use (default: a new one).
        sanity_layers: the layers the sanity check re-initializes (see
            `SanityPanel`).

    Attributes:
        state: the `ExplorerState` every control is linked to.
        attributor: the engine.
        images: the `ExplorerImages`.
        probabilities: `(N, C)`: the model's class probabilities per image.
        shown: the latest `ShownMaps` (request, maps, overlays), or None.
        widget: the root `VBox` (`vw-explorer`).

    Example:
        ```python
        from vis_widgets import AttributionExplorer
        from vis_widgets.demo import load_demo_model

        explorer = AttributionExplorer(load_demo_model(), methods=["saliency", "gradcam"])
        explorer.wait()
        explorer.state.target = 3  # the maps are recomputed for class 3
        explorer.wait()
        explorer.shown.maps[1].shape  # (16, 16): the Grad-CAM of class 3
        explorer  # displays the widget
        ```
    """

    def __init__(
        self,
        model,
        images=None,
        methods=("saliency", "gradcam"),
        labels=None,
        class_names=None,
        input_range=None,
        colormap="jet",
        alpha=0.5,
        attributor=None,
        sanity_layers=None,
    ):
        self.model = model
        self._own_attributor = attributor is None
        self.attributor = Attributor(model) if attributor is None else attributor
        engine = self.attributor
        self.images = resolve_images(
            images, engine.input_shape, engine.data_format, labels, class_names, input_range
        )
        names = self.images.class_names
        if names is not None and len(names) != engine.num_classes:
            raise ValueError(
                f"`class_names` must name each of the model's {engine.num_classes} classes. "
                f"Received: {len(names)} names"
            )
        self.probabilities = class_probabilities(engine, self.images.batch)
        top = int(np.argmax(self.probabilities[0]))
        self.state = ExplorerState(
            len(self.images),
            engine.num_classes,
            panes=methods,
            cam_layers=cam_candidates(model, engine.data_format),
            target=top,
            colormap=colormap,
            alpha=alpha,
        )
        self.shown = None
        self._maps = MapSource(engine, self.images.batch)
        self._worker = LatestWorker(self._compute)
        dlink((self._worker, "running"), (self.state, "computing"))
        self._build_views(sanity_layers)
        self.state.observe(self._image_changed, names="index")  # first: the class follows
        self.state.observe(lambda _: self.refresh(), names=list(SETTINGS))
        self.state.observe(self._panes_changed, names="panes")
        self._observed = []
        self._panes_changed()

    # ------------------------------------------------------------------ building
    def _build_views(self, sanity_layers):
        state = self.state
        self.picker = ImagePicker(state, self.images)
        self.class_picker = ClassPicker(state, self.images, self.probabilities)
        self.cam_rule_layer, rule_text = cam_rule(self.attributor)
        self.controls = ParameterControls(state, state.cam_layers, rule_text)
        self.add = add_button()
        self.add.on_click(lambda _: self.add_pane())
        self.pane_views = {}
        self.maps_row = widgets.HBox(
            layout=widgets.Layout(flex_flow="row wrap", align_items="flex-start")
        )
        self.status = styled(widgets.Label(), "vw-attr-status")
        self.errors = styled(widgets.Output(), "vw-errors", "vw-attr-errors")
        self._status_link = dlink((state, "status"), (self.status, "value"))
        self.sanity = SanityPanel(self.model, self.state.request, self.images, sanity_layers)
        self.export_panel = ExportPanel(
            self.code_snippet,
            self.png_bytes,
            None,
            self.save_png,
            note=EXPORT_NOTE,
            names={"code": "attribution_maps.py", "png": "attribution.png"},
        )
        tabs = widgets.Tab([self.sanity.widget, self.export_panel.widget])
        tabs.titles = ("Sanity check", "Export")
        tabs.selected_index = None  # folded until asked for
        self.widget = styled(
            widgets.VBox(
                [
                    widgets.HBox([self.picker.slider, self.class_picker.widget]),
                    self.maps_row,
                    self.controls.widget,
                    self.status,
                    self.errors,
                    tabs,
                ]
            ),
            "vw-explorer",
        )

    # ------------------------------------------------------------------ panes
    def add_pane(self, method=None, backprop_modifier="none"):
        """Adds a pane (the next method not shown by default); returns its `PaneState` or None."""
        if len(self.state.panes) >= MAX_PANES:
            return None
        if method is None:
            shown = {p.method for p in self.state.panes}
            method = next((m for m in ADD_ORDER if m not in shown), "saliency")
        return self.state.add_pane(method, backprop_modifier)

    def remove_pane(self, pane):
        """Removes a pane (never the last one)."""
        if len(self.state.panes) > 1:
            self.state.remove_pane(pane)

    def _panes_changed(self, change=None):
        for pane in self._observed:
            pane.unobserve(self._pane_setting_changed, names=list(PANE_SETTINGS))
        panes = list(self.state.panes)
        for pane in list(self.pane_views):
            if pane not in panes:
                self.pane_views.pop(pane).close()
        for pane in panes:
            if pane not in self.pane_views:
                self.pane_views[pane] = PaneView(pane, self.remove_pane)
            pane.observe(self._pane_setting_changed, names=list(PANE_SETTINGS))
        self._observed = panes
        single = len(panes) == 1
        for view in self.pane_views.values():
            view.remove.disabled = single
        self.add.disabled = len(panes) >= MAX_PANES
        self.maps_row.children = [
            self.picker.widget,
            *(self.pane_views[p].widget for p in panes),
            self.add,
        ]
        self._update_controls()
        self.refresh()

    def _pane_setting_changed(self, change):
        self._update_controls()
        self.refresh()

    def _update_controls(self):
        has_cam = any(p.method in CAM_METHODS for p in self.state.panes)
        self.controls.update_visibility(has_cam)

    def _image_changed(self, change):
        self.state.target = int(np.argmax(self.probabilities[change["new"]]))

    # ------------------------------------------------------------------ computing
    def refresh(self, force=False):
        """Recomputes (in the background) what the settings ask for.

        Args:
            force: recompute even if the settings did not change (the cache
                is cleared: e.g. after training the model further).

        Returns:
            False when the settings equal those of the latest request (nothing to do).
        """
        if force:
            self._maps.clear()
            self._worker.forget()
        return self._worker.submit(self.state.request())

    def wait(self, timeout=None):
        """Waits until the maps for the latest settings are shown; True if idle."""
        return self._worker.wait(timeout)

    def _compute(self, request):
        self.state.status = "computing..."
        results = []
        for spec in request.panes:
            if self._worker.superseded():
                return
            results.append(self._maps.get(request.index, request.target, spec))
        if self._worker.superseded():
            return
        self._publish(request, results)

    def _publish(self, request, results):
        shown = ShownMaps(request, results, self.images)
        shown.write_panes()
        self.state.image_png = picture_png(shown.picture)
        self.shown = shown
        self.errors.outputs = ()
        for message in shown.errors:
            self.errors.append_stderr(message + "\n")
        self.state.status = shown.status()
        self.export_panel.refresh_code()
        self.export_panel.refresh_png()

    # ------------------------------------------------------------------ export
    def code_snippet(self):
        """Python that recomputes the maps shown and draws the same overlays (a string)."""
        request = self.shown.request if self.shown is not None else self.state.request()
        return explorer_snippet(request, self.images, self.cam_rule_layer, self._own_attributor)

    def png_bytes(self):
        """The picture shown (the image and each pane, captioned) as PNG bytes.

        Raises:
            ValueError: before the first maps are shown.
        """
        if self.shown is None:
            raise ValueError("There is nothing to export yet: wait for the first maps.")
        return self.shown.png_bytes()

    def save_png(self, path):
        """Writes `png_bytes()` to `path` on the kernel's machine; returns the `pathlib.Path`."""
        return write_bytes(path, self.png_bytes())

    # ------------------------------------------------------------------ display
    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)

    def close(self):
        """Closes every widget of the explorer."""
        for view in self.pane_views.values():
            view.close()
        close_tree(self.widget)
