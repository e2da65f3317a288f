"""LayerBrowser: every filter of a layer in one batched run, filling a labelled grid live.

Pick a layer and a range of its filters; Run optimizes them all at once (one
sample per filter, `vis_widgets.layer_run`), split into chunks only when a
batch would not fit the memory budget. While the run goes, a render thread
redraws the cells of the running chunk a few times a second (the latest
snapshot only, as the live view does). Stop ends the running chunk within
one iteration and skips the rest: what has formed stays. A cell's button
opens that filter in a `Dashboard` below the grid, starting from the same
seed, with the cell's result as its current image (Continue refines it).

This module holds the browser's controls and its run; the grid's cells
(making, drawing and opening them) are `vis_widgets.layer_grid.FilterGrid`,
and the batched run's pieces (the chunk rule, the recipe of a layer, the
feed that draws the cells) are `vis_widgets.layer_run`.
"""

import dataclasses
import threading
import time

import ipywidgets as widgets
import numpy as np
from traitlets import Enum, dlink, link

from vis_widgets.controls import button
from vis_widgets.core import RECIPES, get_recipe
from vis_widgets.core.utils import get_num_filters
from vis_widgets.display import DISPLAY_MODES, STRETCHED, result_input
from vis_widgets.layer_grid import CELL_SIZE, FilterGrid
from vis_widgets.layer_run import (
    MEMORY_BUDGET,
    GridFeed,
    chunk_size,
    filter_layers,
    layer_recipe,
    resolve_layer,
    split,
)
from vis_widgets.progress import ProgressView, RunProgress
from vis_widgets.render import placeholder_png
from vis_widgets.runner import Runner, StopMonitor

DEFAULT_FILTERS = 32


class LayerBrowser(FilterGrid, RunProgress):
    """Browse a layer's filters: one batched run over a range of them fills a labelled grid.

    Args:
        model: a single-input Keras model.
        layer: the layer to start on (object, name or index); default: the
            last browsable layer.
        input_range: the input's `(min, max)`.
        filters: the filters to start with, `(first, last)` inclusive;
            default: the first 32 (or all, when fewer).
        recipe: the recipe (`"keras-vis"`, `"robust pixel"`, `"fourier"`,
            see `vis_widgets.core.RECIPES`); the browser's `vw-layer-recipe`
            choice changes it.
        max_iter: the iterations of each filter (None: the recipe's).
        weights: `(activation, L-6 norm, total variation)` loss weights for
            the first recipe (None, or a None entry: the recipe's).
        jitter: the first recipe's jitter fraction (None: the recipe's).
        pre_activation: maximize the values before the layer's activation;
            None: True for a softmax layer.
        chunk: the most filters per batch; None: by the memory rule of
            `vis_widgets.layer_run`.
        settings: a state whose `display` the browser follows (a dashboard's).
        callbacks: more `OptimizerCallback`s for every chunk's run.

    Attributes:
        display: the display setting of the cells (a trait).
        iteration, max_iter, seconds, finished: the progress over all chunks
            (traits; the progress view follows them).
        runner: the `Runner` (`runner.running` while a run goes).
        results: `{filter: input state of its result (1, ...)}` of the formed
            filters (`display.result_input`: what a dashboard continues from).
        seed: the raw seed every filter starts from.
        cells: `{filter: cell VBox (vw-layer-cell)}` of the latest run.
        dashboard: the `Dashboard` the latest opened cell made, or None.
        widget: the browser's `VBox` (`vw-layer-browser`).

    Example:
        ```python
        browser = LayerBrowser(model, "conv2", input_range=(0, 255), filters=(0, 15))
        browser            # displays it
        browser.run(); browser.wait()
        dash = browser.open(3)  # filter 3 in a dashboard
        ```
    """

    display = Enum(DISPLAY_MODES, STRETCHED)

    def __init__(
        self,
        model,
        layer=None,
        input_range=(0, 255),
        filters=None,
        recipe="keras-vis",
        max_iter=None,
        weights=None,
        jitter=None,
        pre_activation=None,
        chunk=None,
        settings=None,
        callbacks=None,
    ):
        super().__init__()
        names = filter_layers(model)
        if not names:
            raise ValueError(f"Model '{model.name}' has no layer with filters to browse.")
        self.model = model
        self.input_range = input_range
        first = get_recipe(recipe)
        names_of = ("act_max_weight", "lp_norm_weight", "tv_weight")
        overrides = {k: float(w) for k, w in zip(names_of, weights or ()) if w is not None}
        if jitter is not None:
            overrides["jitter"] = jitter
        self._first = dataclasses.replace(first, **overrides)  # overrides: this recipe's only
        self.pre_activation = pre_activation
        self.chunk = chunk
        self.callbacks = list(callbacks or [])
        self.runner = Runner("vis_widgets-layers")
        self.results = {}
        self.cells = {}
        self.dashboard = None
        self.last_error = None
        self._optimizers = {}
        self._returned = {}  # filter -> its latest Returned picture
        self._draw_lock = threading.Lock()
        self._stop = threading.Event()
        self._dashboard_link = None
        self._seeds = {}  # recipe name -> the seed its filters start from
        self._seed = None
        layer = resolve_layer(model, layer if layer is not None else names[-1])
        self._build(names, layer.name, filters, first.name)
        if max_iter is not None:
            self.max_iter_slider.value = max_iter
        if settings is not None:
            link((settings, "display"), (self, "display"))
        self.observe(lambda _: self._redraw(), names="display")

    # ------------------------------------------------------------------ widgets
    def _build(self, names, layer_name, filters, recipe):
        self.layer_select = widgets.Dropdown(options=names, value=layer_name, description="layer")
        self.layer_select.add_class("vw-layer-select")
        self.filter_range = widgets.IntRangeSlider(description="filters", min=0, max=1)
        self.filter_range.add_class("vw-layer-filters")
        self._layer_changed(None, filters)
        self.layer_select.observe(self._layer_changed, names="value")
        self.recipe_select = widgets.Dropdown(
            options=list(RECIPES), value=recipe, description="recipe"
        )
        self.recipe_select.add_class("vw-layer-recipe")
        self.max_iter_slider = widgets.IntSlider(min=1, max=2000, description="max_iter")
        self.max_iter_slider.add_class("vw-layer-max-iter")
        self._recipe_changed(None)
        self.recipe_select.observe(self._recipe_changed, names="value")
        dlink((self.runner, "running"), (self.recipe_select, "disabled"))
        self.run_button = button("Run", "vw-layer-run", "Run the filters", "success", "play")
        self.stop_button = button("Stop", "vw-layer-stop", "Keep what formed", "danger", "stop")
        self.run_button.on_click(lambda _: self.run())
        self.stop_button.on_click(lambda _: self.stop())
        self.runner.observe(self._running_changed, names="running")
        self._running_changed(None)
        self.display_toggle = widgets.ToggleButtons(
            options=list(DISPLAY_MODES), style={"button_width": "auto"}
        )
        self.display_toggle.add_class("vw-layer-display")
        link((self, "display"), (self.display_toggle, "value"))
        self.progress = ProgressView(self, css_prefix="vw-layer")
        self.status = widgets.HTML("<small>Pick a layer and its filters, then Run.</small>")
        self.status.add_class("vw-layer-status")
        self.grid = widgets.GridBox(
            [], layout=widgets.Layout(grid_template_columns="repeat(8, 104px)", grid_gap="4px")
        )
        self.grid.add_class("vw-layer-grid")
        self.opened = widgets.VBox([])
        self.opened.add_class("vw-layer-dashboard")
        help_text = widgets.HTML(
            "<small>All the chosen filters are optimized at once, one sample each (in chunks "
            "when a batch would not fit in memory). A cell's button opens that filter in a "
            "dashboard below.</small>"
        )
        controls = [
            help_text,
            widgets.HBox([self.layer_select, self.filter_range]),
            widgets.HBox([self.recipe_select]),
            widgets.HBox([self.max_iter_slider, self.run_button, self.stop_button]),
            widgets.HBox([self.display_toggle, self.progress.widget]),
            self.status,
        ]
        self.widget = widgets.VBox([*controls, self.grid, self.opened])
        self.widget.add_class("vw-layer-browser")

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)

    def _layer_changed(self, change, filters=None):
        count = get_num_filters(self.layer)
        first, last = filters if filters is not None else (0, min(count, DEFAULT_FILTERS) - 1)
        if not 0 <= first <= last < count:
            raise ValueError(
                f"`filters` must be (first, last) with 0 <= first <= last < {count} for layer "
                f"'{self.layer.name}'. Received: filters={filters!r}"
            )
        self.filter_range.max = max(1, count - 1)
        self.filter_range.value = (first, last)

    def _recipe_changed(self, change):
        name = self.recipe_select.value
        max_iter = self._recipe(name).max_iter
        self.max_iter_slider.max = max(self.max_iter_slider.max, max_iter)
        self.max_iter_slider.value = max_iter

    def _recipe(self, name):
        """The browser's `Recipe` of a name (the first one with its overrides)."""
        return self._first if name == self._first.name else get_recipe(name)

    @property
    def recipe(self):
        """The chosen recipe's name."""
        return self.recipe_select.value

    def _running_changed(self, change):
        running = self.runner.running
        self.run_button.disabled = running
        self.stop_button.disabled = not running

    @property
    def layer(self):
        """The selected layer."""
        return self.model.get_layer(self.layer_select.value)

    @property
    def seed(self):
        """The seed `(1, ...)` the latest run's filters started from, or None before a run."""
        return None if self._seed is None else self._seed.copy()

    # ------------------------------------------------------------------ runs
    def run(self, filters=None):
        """Optimizes the chosen filters (default: the slider's range) as one batched run.

        Returns:
            True if it started, False if a run is already going.
        """
        if filters is None:
            first, last = self.filter_range.value
            filters = list(range(first, last + 1))
        filters = [int(f) for f in filters]
        layer, max_iter, recipe = self.layer, self.max_iter_slider.value, self.recipe
        size = self.chunk or chunk_size(self.model, layer, len(filters), MEMORY_BUDGET)
        chunks = split(filters, size)

        def prepare():
            self._stop.clear()
            self.results, self._returned = {}, {}
            self.cells = {f: self._cell(f) for f in filters}
            self.grid.children = tuple(self.cells.values())
            with self.hold_trait_notifications():
                self.max_iter = max_iter * len(chunks)
                self.seconds, self.finished, self.iteration = 0.0, False, 0
            self.status.value = (
                f"<small>Running {len(filters)} filters of {layer.name} in {len(chunks)} "
                f"batch{'es' if len(chunks) > 1 else ''} of up to {size}…</small>"
            )

        job = lambda: self._job(layer, recipe, chunks, max_iter)  # noqa: E731
        return self.runner.start(job, prepare=prepare)

    def stop(self):
        """Ends the running chunk after its current iteration and skips the rest."""
        self._stop.set()

    def wait(self, timeout=None):
        """Waits for the run to finish; returns True if idle, False on timeout."""
        return self.runner.wait(timeout)

    def _built(self, layer, recipe):
        key = (layer.name, recipe)
        if key not in self._optimizers:
            self._optimizers[key] = layer_recipe(
                self.model, layer, self.input_range, self._recipe(recipe), self.pre_activation
            )
        return self._optimizers[key]

    def _job(self, layer, recipe, chunks, max_iter):
        started = time.perf_counter()
        done = 0  # chunks run to their end (or stopped)
        try:
            built = self._built(layer, recipe)
            opt = built.optimizer
            if recipe not in self._seeds:
                self._seeds[recipe] = opt.make_seed(samples=1)
            self._seed = self._seeds[recipe]
            for index, chunk in enumerate(chunks):
                if self._stop.is_set():
                    break
                built.loss.assign(chunk)
                feed = GridFeed(self.draw_cells, self, chunk, index * max_iter, started)
                opt.minimize(
                    np.repeat(self._seed, len(chunk), axis=0),
                    max_iter=max_iter,
                    input_modifiers=built.input_modifiers,
                    callbacks=[StopMonitor(self._stop), feed, *self.callbacks],
                    verbose=False,
                )
                result = result_input(opt)
                for k, f in enumerate(chunk):
                    self.results[f] = result[k : k + 1].copy()
                done += 1
            stopped = done < len(chunks) or self._stop.is_set()
            formed = len(self.results)
            self.status.value = (
                f"<small>{'Stopped' if stopped else 'Done'}: {formed} of "
                f"{sum(map(len, chunks))} filters of {layer.name} ({recipe}) formed in "
                f"{time.perf_counter() - started:.1f} s; a cell's button opens it.</small>"
            )
        except Exception as err:
            self.last_error = err
            self.status.value = f"<small>Error: {type(err).__name__}: {err}</small>"
        finally:
            for f, cell in self.cells.items():
                if f not in self._returned:
                    cell.children[0].value = placeholder_png(CELL_SIZE, CELL_SIZE, "not run")
            with self.hold_trait_notifications():
                self.finished = True
                self.seconds = time.perf_counter() - started

    def close(self):
        """Stops the run and closes the opened dashboard and every widget."""
        self.stop()
        if self.dashboard is not None:
            self.dashboard.close()
        stack = [self.widget]
        while stack:
            w = stack.pop()
            stack.extend(getattr(w, "children", ()))
            w.close()
