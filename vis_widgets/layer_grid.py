"""The layer browser's grid: one labelled cell per filter, drawn live, each opening a dashboard.

`FilterGrid` is a mixin of `LayerBrowser`. A cell (`vw-layer-cell`) holds
the filter's image (`vw-layer-image`, `CELL_SIZE` pixels wide) and a button
(`vw-layer-open`) that opens the filter in a `Dashboard` below the grid.
`draw_cells` takes the latest `Returned` pictures of a running chunk (from
the run's `GridFeed`, on the render thread) and keeps them, so a change of
the display setting redraws every formed cell. It reads what the browser
builds: `cells`, `display`, the selected layer and recipe, `results`, the
seeds, `max_iter_slider` and the `opened` box.
"""

import ipywidgets as widgets
from traitlets import link

from vis_widgets.core.utils import upscale
from vis_widgets.display import Returned, shown
from vis_widgets.render import encode_png, placeholder_png

CELL_SIZE = 96


class FilterGrid:
    """The `LayerBrowser` methods that make, draw and open its cells (a mixin).

    Example:
        ```python
        browser = LayerBrowser(model, "conv2", input_range=(0, 255), filters=(0, 3))
        browser.run(); browser.wait()
        browser.display = "as returned"  # every formed cell is redrawn
        dash = browser.open(2)           # filter 2 in a dashboard below the grid
        browser.close()
        ```
    """

    def _cell(self, f):
        image = widgets.Image(
            format="png",
            value=placeholder_png(CELL_SIZE, CELL_SIZE, "waiting"),
            layout=widgets.Layout(width=f"{CELL_SIZE}px"),
        )
        image.add_class("vw-layer-image")
        button = widgets.Button(
            description=f"filter {f}",
            tooltip=f"open filter {f} of {self.layer_select.value} in a dashboard",
            layout=widgets.Layout(width=f"{CELL_SIZE}px"),
        )
        button.add_class("vw-layer-open")
        button.on_click(lambda _, f=f: self.open(f))
        cell = widgets.VBox([image, button])
        cell.add_class("vw-layer-cell")
        return cell

    def draw_cells(self, filters, returned):
        """Draws `Returned` images (one per filter, in order) into their cells."""
        with self._draw_lock:
            for k, f in enumerate(filters):
                one = Returned(returned.images[k : k + 1], returned.value_range)
                self._returned[f] = one
                self._draw(f, one)

    def _draw(self, f, one):
        cell = self.cells.get(f)
        if cell is not None:
            picture = shown(one, self.display).images[0]
            cell.children[0].value = encode_png(upscale(picture, CELL_SIZE))

    def _redraw(self):
        with self._draw_lock:
            for f, one in self._returned.items():
                self._draw(f, one)

    # ------------------------------------------------------------------ open
    def open(self, f):
        """Opens filter `f` of the selected layer in a `Dashboard` below the grid.

        The dashboard has the browser's recipe (weights and jitter included)
        and `max_iter`, starts from the seed the browser's filters started
        from, and shows the filter's result (when formed) as its current
        image. It replaces the dashboard opened before.

        Returns:
            The `Dashboard`.
        """
        from vis_widgets.dashboard import Dashboard

        layer, recipe = self.layer, self._recipe(self.recipe)
        if self.dashboard is not None:
            self._dashboard_link.unlink()
            self.dashboard.close()
        dash = Dashboard.from_model(
            self.model,
            layer,
            int(f),
            input_range=self.input_range,
            recipe=recipe,
            pre_activation=self.pre_activation,
            max_iter=self.max_iter_slider.value,
            seed_input=self._seeds.get(recipe.name),
            display=self.display,
            layers_tab=False,
        )
        self._dashboard_link = link((self, "display"), (dash.state, "display"))
        if f in self.results:
            dash.state.current = self.results[f].copy()
        title = widgets.HTML(f"<b>{layer.name}, filter {f}</b>")
        self.opened.children = (title, dash.widget)
        self.dashboard = dash
        return dash
