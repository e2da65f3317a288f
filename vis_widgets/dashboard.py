"""Dashboard: steer an Optimizer with sliders and watch the input form, in one widget.

Data flow: every control is `link`ed to one `DashboardState`; `EngineBinding`
alone writes the engine's weight and jitter variables. Run, Continue and
Sweep start `minimize` on one background thread (`Runner`, whose `running`
trait is the only "a run is going") with a `LivePlot` (the run's live
model), a `StopMonitor` and a `RunRecorder` attached. The views follow
traits: the image, the curves, the value range and the progress follow the
`LivePlot`; the live plot follows the state's `raw_curves`, `display`,
`labels` and `current`; the state's `iteration` follows the live plot. Stop
goes through the engine's `stop()`. Widget callbacks only copy values or
start / stop the runner.

This module builds the dashboard (argument checks, the widgets and their
links, the read-outs, `close`); its methods come from one mixin per idea:
`dashboard_run.RunControl` (Run, Continue, Stop, Reset and the run thread's
job), `dashboard_sweep.SweepRestore` (the weight sweep, taking a sweep
cell or a kept run back) and `dashboard_export.DashboardExport` (code, PNG
and GIF).
"""

import threading

import ipywidgets as widgets
import numpy as np
from traitlets import TraitError, dlink, link

from vis_widgets.controls import ControlPanel
from vis_widgets.core import grad_modifiers
from vis_widgets.core.callbacks import OptimizerCallback
from vis_widgets.core.input_modifiers import InputModifier, Jitter
from vis_widgets.core.optimizer import Optimizer
from vis_widgets.dashboard_export import DashboardExport
from vis_widgets.dashboard_run import RunControl
from vis_widgets.dashboard_sweep import SweepRestore
from vis_widgets.display import DISPLAY_MODES, returned_images
from vis_widgets.export import ExportPanel
from vis_widgets.live_view import LiveView
from vis_widgets.liveplot import LivePlot
from vis_widgets.runner import Runner
from vis_widgets.runs import RunGallery
from vis_widgets.state import DashboardState, EngineBinding
from vis_widgets.sweep import SweepPanel, default_sweep_loss

_LIVE_OPTIONS = ("image_fps", "curve_fps", "keep_frames", "threaded")


def _check_options(live_options):
    options = dict(live_options or {})
    unknown = sorted(set(options) - set(_LIVE_OPTIONS))
    if unknown:
        raise ValueError(f"`live_options` may hold {list(_LIVE_OPTIONS)}. Received: {unknown}")
    return options


class Dashboard(RunControl, SweepRestore, DashboardExport):
    """An interactive activation-maximization workbench over an `Optimizer`.

    Shows one widget: a log-feel slider per loss weight (reaching 0, with an
    exact-value box), `max_iter` and jitter sliders; Run, Stop, Continue and
    Reset; a progress bar with iterations/s and ETA; the live input
    (contrast-stretched or as returned, with the values it shows); one small
    curve panel per loss (weighted, or unweighted for tuning) with the
    latest values; and tabs: the runs so far, a weight sweep, the layer
    browser (for `from_model` dashboards) and the export (code, PNG, GIF, as
    browser downloads and kernel-side files).

    Runs go on one background thread, so the notebook stays responsive.
    Moving a weight or the jitter during a run changes the objective at the
    next iteration, without retracing. A second Run while one runs is
    ignored; Stop ends the run within one iteration and keeps its result;
    an error is shown in the widget, which stays usable. Every button has a
    method (`run`, `stop`, `continue_`, `reset`, `sweep`, `restore`,
    `save_png`, `save_gif`), plus `wait()`, `result` and `runs`.

    Args:
        optimizer: the `Optimizer` to drive; its current (scalar, >= 0)
            weights become the sliders' initial values.
        max_iter: the initial `max_iter`.
        jitter: the initial jitter, a fraction of the image size in [0, 1).
        seed_input: the first seed (one sample); default: random, as
            `minimize` would make it. Reset draws a new random one.
        grad_modifier: passed to every `minimize`.
        callbacks: more `OptimizerCallback`s for every run (not modified).
        live_options: `LivePlot` arguments for the live view (`image_fps`,
            `curve_fps`, `keep_frames`, `threaded`).
        keep_runs: how many finished runs are kept and shown.
        display: `"stretched"` or `"as returned"`, the initial display setting.
        input_modifiers: more `InputModifier`s for every run, after the
            dashboard's `Jitter` (e.g. a recipe's transforms).

    Attributes:
        widget: the root `VBox` (CSS class `vw-dashboard`).
        state: the `DashboardState` every control is linked to.
        runner: the `Runner`; `runner.running` is True while a run goes.
        live: the `LivePlot` every run reports to (the views follow it).
        image, curves: the `Image` views (`vw-image`, `vw-curves`);
            `range_text` (`vw-display-range`), `values` (`vw-curves-values`),
            `display_toggle` (`vw-display`), `curves_mode`
            (`vw-curves-mode`), `progress` (a `ProgressView`).
        controls: the `ControlPanel`; its `weight_sliders`, `weight_texts`,
            `max_iter_slider`, `jitter_slider` and buttons are attributes of
            the dashboard too.
        jitter_modifier: the `Jitter` every run uses; `input_modifiers` the
            other modifiers (a recipe's transforms).
        recipe_panel: the recipe choice and its live sliders (`vw-recipe`,
            `vw-recipe-controls`) of a `from_model` dashboard, else None.
        gallery, sweep_panel, export_panel: the tabs' panels; `layers` is
            the `LayerBrowser` of a `from_model` dashboard, else None.
        errors: the `Output` showing errors and the engine's warnings.

    Example:
        ```python
        dash = Dashboard(opt, max_iter=300, jitter=0.05)
        dash                     # displays the widget
        dash.run(); dash.wait()
        dash.state.set_weight("TV(2.0) Loss", 50.0)
        dash.continue_()
        ```
    """

    def __init__(
        self,
        optimizer,
        max_iter=200,
        jitter=0.05,
        seed_input=None,
        grad_modifier=None,
        callbacks=None,
        live_options=None,
        keep_runs=10,
        display="stretched",
        input_modifiers=None,
    ):
        if not isinstance(optimizer, Optimizer):
            raise TypeError(
                f"`optimizer` must be a vis_widgets.core.Optimizer. Received: {optimizer!r}"
            )
        if isinstance(callbacks, OptimizerCallback):
            callbacks = [callbacks]  # as `minimize` accepts one callback
        callbacks = list(callbacks or [])
        for c in callbacks:
            if not isinstance(c, OptimizerCallback):
                raise TypeError(f"Each callback must be an OptimizerCallback. Received: {c!r}")
        if isinstance(keep_runs, bool) or not isinstance(keep_runs, int) or keep_runs < 1:
            raise ValueError(f"`keep_runs` must be an int >= 1. Received: keep_runs={keep_runs!r}")
        if display not in DISPLAY_MODES:
            raise ValueError(
                f"`display` must be one of {list(DISPLAY_MODES)}. Received: display={display!r}"
            )
        grad_modifiers.get(grad_modifier)  # an unknown name fails here, not at the first Run
        self.input_modifiers = list(input_modifiers or [])
        for m in self.input_modifiers:
            if not isinstance(m, InputModifier):
                raise TypeError(f"Each input modifier must be an InputModifier. Received: {m!r}")
        self.optimizer = optimizer
        self.grad_modifier = grad_modifier
        self.callbacks = callbacks
        self.keep_runs = keep_runs
        try:
            self.state = DashboardState.from_optimizer(optimizer, max_iter, jitter)
        except TraitError as err:
            raise ValueError(str(err)) from None
        self.state.display = display
        self.jitter_modifier = Jitter(jitter, data_format=optimizer.data_format)
        self._binding = EngineBinding(self.state, optimizer, self.jitter_modifier)
        self.live = LivePlot(auto_display=False, **_check_options(live_options))
        self.runner = Runner()
        self._stop_requested = threading.Event()
        self._closed = False
        self.last_error = None
        self.layers = None
        self.recipe_panel = None
        self._seed = optimizer.make_seed(seed_input, samples=1)
        self._build()
        self.state.current = self._seed

    # ------------------------------------------------------------------ construction helpers
    @classmethod
    def from_model(cls, model, layer, filter_indices=None, input_range=(0, 255), **kwargs):
        """Builds a recipe for one layer's filters and its `ModelDashboard`.

        See `vis_widgets.model_dashboard.ModelDashboard` for the arguments
        (`recipe`, the initial weights, `pre_activation`, `layers_tab`, and
        every `Dashboard` argument): a dashboard that also offers a recipe
        choice with the recipe's live sliders and a Layers tab.

        Returns:
            A `ModelDashboard`.

        Example:
            ```python
            dash = Dashboard.from_model(model, "predictions", 3, input_range=(0, 255))
            fourier = Dashboard.from_model(model, "predictions", 3, recipe="fourier")
            ```
        """
        from vis_widgets.model_dashboard import ModelDashboard  # it builds on this class

        return ModelDashboard(model, layer, filter_indices, input_range, **kwargs)

    def _build(self):
        state, live = self.state, self.live
        link((state, "raw_curves"), (live, "raw"))
        link((state, "display"), (live, "display"))
        dlink((state, "labels"), (live, "labels"))
        dlink((state, "current"), (live, "shown"), transform=self._returned)
        dlink((live, "iteration"), (state, "iteration"))
        self.view = view = LiveView(live, settings=state, raw_trait="raw_curves")
        self.image, self.curves, self.values = view.image, view.curves, view.values
        self.range_text, self.display_toggle = view.range_text, view.display_toggle
        self.curves_mode, self.progress = view.curves_mode, view.progress
        self.controls = c = ControlPanel(state, self.runner, view.progress.widget)
        c.run_button.on_click(lambda _: self.run())
        c.stop_button.on_click(lambda _: self.stop())
        c.continue_button.on_click(lambda _: self.continue_())
        c.reset_button.on_click(lambda _: self.reset())
        self.weight_sliders, self.weight_texts = c.weight_sliders, c.weight_texts
        self.max_iter_slider, self.jitter_slider = c.max_iter_slider, c.jitter_slider
        self.run_button, self.stop_button = c.run_button, c.stop_button
        self.continue_button, self.reset_button = c.continue_button, c.reset_button
        self.errors = widgets.Output(layout=widgets.Layout(max_height="240px", overflow="auto"))
        self.errors.add_class("vw-errors")
        self.gallery = RunGallery(self.keep_runs, on_restore=self.restore, settings=state)
        self.sweep_panel = SweepPanel(
            state.loss_keys,
            on_sweep=self.sweep,
            on_use=self.use_sweep_cell,
            settings=state,
            default=default_sweep_loss(self.optimizer.losses),
        )
        dlink((self.runner, "running"), (self.sweep_panel.button, "disabled"))
        self.export_panel = ExportPanel(
            self.export_code, self.png_bytes, self.gif_bytes, self.save_png, self.save_gif
        )
        self.export_text = self.export_panel.code
        names = [*state.weight_traits, "max_iter", "jitter"]
        state.observe(lambda _: self.export_panel.refresh_code(), names=names)
        state.observe(lambda _: self.export_panel.refresh_png(), names="current")
        self.export_panel.refresh_code()
        self.tabs = widgets.Tab(
            [self.gallery.widget, self.sweep_panel.widget, self.export_panel.widget],
            titles=("Runs", "Sweep", "Export"),
        )
        row = widgets.HBox([c.widget, view.widget], layout=widgets.Layout(flex_flow="row wrap"))
        self.widget = widgets.VBox([row, self.errors, self.tabs])
        self.widget.add_class("vw-dashboard")
        self.widget.observe(self._widget_closed, names="comm")

    def set_recipe(self, name):
        """Switches to another recipe: only a `from_model` dashboard has recipes.

        Raises:
            ValueError: always, for a dashboard over a given optimizer.
        """
        raise ValueError(
            "Only a dashboard made by `Dashboard.from_model` can switch recipes: it knows "
            "the model, layer and filters to build one for."
        )

    def _returned(self, batch):
        return None if batch is None else returned_images(self.optimizer, batch)

    # ------------------------------------------------------------------ display
    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)

    # ------------------------------------------------------------------ public API
    @property
    def running(self):
        """True while a run (or sweep) is going (the runner's `running`)."""
        return self.runner.running

    @property
    def runs(self):
        """The kept `RunRecord`s, oldest first (at most `keep_runs`)."""
        return list(self.gallery.records)

    @property
    def result(self):
        """The latest finished `RunRecord` (its `image` is `minimize`'s result), or None."""
        records = self.gallery.records
        return records[-1] if records else None

    @property
    def weights(self):
        """`{loss key: weight}`: the state's current weights."""
        return self.state.weights

    @property
    def current_input(self):
        """The raw input Continue starts from (batch axis of 1), a copy."""
        return np.array(self.state.current)

    def close(self):
        """Stops the run (if any) and closes every widget of the dashboard."""
        self.stop()
        self._closed = True
        if self.layers is not None:
            self.layers.close()
        seen = set()
        for w in self._all_widgets():
            if id(w) not in seen:
                seen.add(id(w))
                w.close()

    # ------------------------------------------------------------------ misc
    def _widget_closed(self, change):
        if change["new"] is None:
            self.stop()
            self._closed = True

    def _all_widgets(self):
        stack = [self.widget, *self.gallery.cards, *self.sweep_panel.cells]
        while stack:
            w = stack.pop()
            yield w
            stack.extend(getattr(w, "children", ()))
