"""Dashboard: steer an Optimizer with sliders and watch the input form, in one widget.

Data flow (ARCHITECTURE.md): widgets are `link`ed to one `DashboardState`;
`EngineBinding` alone writes the engine's weight and jitter variables; Run,
Continue and Sweep start `minimize` on one background thread (`Runner`)
with a `LivePlot` attached; Stop goes through the engine's `stop()`. Widget
callbacks only copy values or start/stop the runner.
"""

import contextlib
import threading
import time
import traceback

import ipywidgets as widgets
import numpy as np
from traitlets import TraitError, dlink, link

from vis_widgets.controls import ControlPanel
from vis_widgets.core import grad_modifiers
from vis_widgets.core.callbacks import OptimizerCallback
from vis_widgets.core.input_modifiers import Jitter
from vis_widgets.core.optimizer import Optimizer
from vis_widgets.export import ExportPanel, losses_snippet, write_gif, write_png
from vis_widgets.history import HistoryGallery, RunRecord
from vis_widgets.liveplot import LivePlot
from vis_widgets.presets import keras_vis_losses
from vis_widgets.render import display_images
from vis_widgets.runner import Runner
from vis_widgets.seeds import check_seed
from vis_widgets.state import DashboardState, EngineBinding
from vis_widgets.sweep import SweepPanel, check_values, sweep_values


class _StopMonitor(OptimizerCallback):
    """Turns a Stop requested before or during a run into `optimizer.stop()`.

    `Optimizer.stop()` does nothing before `minimize` has begun, so a Stop
    clicked right after Run would be lost; this callback checks the flag
    at `on_begin` and after every iteration.
    """

    def __init__(self, event):
        self._event = event
        self.began = False

    def on_begin(self):
        self.began = True
        self._check()

    def callback(self, i, named_losses, overall_loss, grads, wrt_value):
        self._check()

    def _check(self):
        if self._event.is_set():
            self.optimizer.stop()


def _scalar_weights(optimizer):
    weights = []
    for index, key in enumerate(optimizer.loss_keys):
        weight = optimizer.get_weight(index)
        if isinstance(weight, np.ndarray):
            raise ValueError(
                f"Loss '{key}' has one weight per sample ({weight.tolist()}); the dashboard "
                f"needs one number per loss: call opt.set_weight({index}, value) first."
            )
        weights.append(weight)
    return weights


class Dashboard:
    """An interactive activation-maximization workbench over an `Optimizer`.

    Shows one widget: a log-feel slider per loss weight (reaching 0, with an
    exact-value box), `max_iter` and jitter sliders; Run, Stop, Continue and
    Reset; a progress bar with iterations/s and ETA; the live input and the
    per-loss curves (weighted, or unweighted for tuning); a history of
    runs; a weight sweep; and an export of the losses as Python.

    Runs go on one background thread, so the notebook stays responsive.
    Moving a weight or the jitter during a run changes the objective at the
    next iteration, without retracing. A second Run while one runs is
    ignored; Stop ends the run within one iteration and keeps its result;
    an error is shown in the widget, which stays usable. Every button has
    a method: `run()`, `stop()`, `continue_()` (alias `resume()`),
    `reset()`, `sweep()`, `restore()`, `save_png()`, `save_gif()`, plus
    `wait()`, `result` and `history` for notebooks and tests.

    Args:
        optimizer: the `Optimizer` to drive; its current (scalar, >= 0)
            weights become the sliders' initial values.
        max_iter: the initial `max_iter`.
        jitter: the initial jitter, a fraction of the image size in [0, 1).
        seed_input: the first seed (one sample); default: random, as
            `minimize` would make it. Reset draws a new random one.
        grad_modifier: passed to every `minimize`.
        callbacks: more `OptimizerCallback`s for every run (not modified).
        liveplot: the `LivePlot` to use (e.g. with other frame rates).
        history_size: how many finished runs are kept and shown.

    Attributes:
        widget: the root `VBox` (CSS class `vw-dashboard`).
        state: the `DashboardState` every control is linked to.
        jitter: the `Jitter` instance used by every run.
        live: the `LivePlot` (its `image`, `curves`, `progress` widgets).
        controls: the `ControlPanel`; its `weight_sliders` (`{loss key:
            FloatSlider}`, class `vw-weight`, valued by log10 position),
            `weight_texts`, `max_iter_slider`, `jitter_slider` and the
            `run_button`, `stop_button`, `continue_button` and
            `reset_button` are attributes of the dashboard too.
        gallery, sweep_panel, export_panel: the tabs' panels.
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
        liveplot=None,
        history_size=10,
    ):
        if not isinstance(optimizer, Optimizer):
            raise TypeError(
                f"`optimizer` must be a vis_widgets.core.Optimizer. Received: {optimizer!r}"
            )
        if liveplot is not None and not isinstance(liveplot, LivePlot):
            raise TypeError(f"`liveplot` must be a LivePlot or None. Received: {liveplot!r}")
        if isinstance(callbacks, OptimizerCallback):
            callbacks = [callbacks]  # as `minimize` accepts one callback
        callbacks = list(callbacks or [])
        for c in callbacks:
            if not isinstance(c, OptimizerCallback):
                raise TypeError(f"Each callback must be an OptimizerCallback. Received: {c!r}")
        if isinstance(history_size, bool) or not isinstance(history_size, int) or history_size < 1:
            raise ValueError(f"`history_size` must be an int >= 1. Received: {history_size!r}")
        grad_modifiers.get(grad_modifier)  # an unknown name fails here, not at the first Run
        self.optimizer = optimizer
        self.grad_modifier = grad_modifier
        self.callbacks = callbacks
        self.history_size = history_size
        try:
            self.state = DashboardState.create(
                optimizer.loss_keys, _scalar_weights(optimizer), max_iter, jitter
            )
        except TraitError as err:
            raise ValueError(str(err)) from None
        self.jitter = Jitter(jitter, data_format=optimizer.data_format)
        self._binding = EngineBinding(self.state, optimizer, self.jitter)
        self.live = liveplot if liveplot is not None else LivePlot()
        self.live.auto_display = False
        self.live.set_optimizer(optimizer, {"max_iter": max_iter, "batch_size": 1})
        self._runner = Runner()
        self._stop_requested = threading.Event()
        self._closed = False
        self.last_error = None
        self._seed = check_seed(optimizer, seed_input)
        self._current = self._seed
        self._build()
        self.live.show(self._current)

    # ------------------------------------------------------------------ construction helpers
    @classmethod
    def from_model(
        cls,
        model,
        layer,
        filter_indices=None,
        input_range=(0, 255),
        act_max_weight=1.0,
        lp_norm_weight=10.0,
        tv_weight=10.0,
        pre_activation=None,
        **kwargs,
    ):
        """Builds keras-vis's three losses for one layer's filters and their dashboard.

        Args:
            model: a single-input Keras model.
            layer: the layer, its name, or its index in `model.layers`.
            filter_indices: an int, a list of ints, or None.
            input_range: the input's `(min, max)`.
            act_max_weight: the activation loss's initial weight.
            lp_norm_weight: the L-6 norm's initial weight.
            tv_weight: the total variation's initial weight.
            pre_activation: maximize the values before the layer's
                activation; None: True for a softmax layer (the usual trap).
            **kwargs: more `Dashboard` arguments (`max_iter`, `jitter`, ...).

        Returns:
            A `Dashboard` (the losses are `presets.keras_vis_losses`).

        Example:
            ```python
            dash = Dashboard.from_model(model, "predictions", 3, input_range=(0.0, 1.0))
            ```
        """
        weights = (act_max_weight, lp_norm_weight, tv_weight)
        losses = keras_vis_losses(model, layer, filter_indices, *weights, pre_activation)
        return cls(Optimizer(model.inputs[0], losses, input_range=input_range), **kwargs)

    def _build(self):
        state, live = self.state, self.live
        self.controls = ControlPanel(state, [live.progress, live.progress_text])
        c = self.controls
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
        self.curves_mode = widgets.ToggleButtons(
            options=[("weighted", False), ("unweighted", True)],
            tooltips=["losses times their weights", "raw loss values (for tuning weights)"],
            style={"button_width": "90px"},
        )
        self.curves_mode.add_class("vw-curves-mode")
        link((state, "raw_curves"), (self.curves_mode, "value"))
        state.observe(lambda change: setattr(live, "raw", change["new"]), names="raw_curves")
        dlink((live.progress, "value"), (state, "step"))
        self.gallery = HistoryGallery(self.history_size, on_restore=self.restore)
        self.sweep_panel = SweepPanel(
            state.loss_keys, on_sweep=self.sweep, on_use=self.use_sweep_cell
        )
        dlink((state, "running"), (self.sweep_panel.button, "disabled"))
        self.export_panel = ExportPanel(self.export_code, self.save_png, self.save_gif)
        self.export_text = self.export_panel.code
        names = [*state.weight_traits, "max_iter", "jitter"]
        state.observe(lambda _: self.export_panel.refresh(), names=names)
        self.export_panel.refresh()
        live.progress.layout.width = "200px"
        views = widgets.HBox(
            [live.image, widgets.VBox([live.curves, self.curves_mode])],
            layout=widgets.Layout(align_items="flex-start"),
        )
        self.tabs = widgets.Tab(
            [self.gallery.widget, self.sweep_panel.widget, self.export_panel.widget],
            titles=("History", "Sweep", "Export"),
        )
        row = widgets.HBox(
            [self.controls.widget, views], layout=widgets.Layout(flex_flow="row wrap")
        )
        self.widget = widgets.VBox([row, self.errors, self.tabs])
        self.widget.add_class("vw-dashboard")
        self.widget.observe(self._widget_closed, names="comm")

    # ------------------------------------------------------------------ display
    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)

    # ------------------------------------------------------------------ public API
    @property
    def running(self):
        """True while a run (or sweep) is going."""
        return self._runner.busy

    @property
    def history(self):
        """The kept `RunRecord`s, oldest first (at most `history_size`)."""
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
        return self._current.copy()

    def run(self):
        """Starts a run from the seed on the background thread.

        Returns:
            True if it started, False if a run is already going (ignored).
        """
        return self._start("run", self._seed)

    def continue_(self):
        """Starts a run from the current image (the latest run's last input).

        Returns:
            True if it started, False if a run is already going.
        """
        return self._start("continue", self._current)

    resume = continue_

    def stop(self):
        """Asks the running run (if any) to end after its current iteration; keeps its result."""
        self._stop_requested.set()
        if self._runner.busy:
            self.optimizer.stop()

    def wait(self, timeout=None):
        """Waits for the current run to finish; returns True if idle, False on timeout."""
        return self._runner.wait(timeout)

    def reset(self, seed_input=None):
        """Draws a new random seed (or takes `seed_input`) and shows it; ignored while running.

        Returns:
            True if the seed changed, False while a run is going.
        """
        if self._runner.busy:
            return False
        self._seed = check_seed(self.optimizer, seed_input)
        self._current = self._seed
        self.live.show(self._current)
        self.state.status = "New seed: Run starts from it."
        return True

    def sweep(self, loss, values=None, *, start=0.1, stop=100.0, num=4):
        """Runs one batched `minimize` with one value of a loss's weight per sample.

        All samples start from the current seed; the other losses keep their
        (live) weights. The sweep tab then shows one labelled cell per value,
        and the loss's scalar weight is restored.

        Args:
            loss: the loss's key or index.
            values: the weights to try (1 to 16 numbers >= 0); default:
                `num` log-spaced values from `start` to `stop`.
            start: the first value of the default log spacing (> 0).
            stop: the last value of the default log spacing (> 0).
            num: the number of default values (1 to 16).

        Returns:
            True if it started, False if a run is already going.

        Example:
            ```python
            dash.sweep("TV(2.0) Loss", [0.1, 1, 10, 100]); dash.wait()
            ```
        """
        key = self.state.key_for(loss)
        values = sweep_values(start, stop, num).tolist() if values is None else values
        values = check_values(values)
        seed = np.repeat(self._seed, len(values), axis=0)
        labels = [f"w={v:.3g}" for v in values]
        if not self._runner.busy:
            self.sweep_panel.ensure_cells(len(values))
        return self._start("sweep", seed, sweep=(key, values), labels=labels)

    def use_sweep_cell(self, record, k):
        """Takes sweep cell `k`'s weight into its slider and, when idle, its image as current."""
        key, values = record.sweep
        self.state.set_weight(key, values[k])
        if not self._runner.busy:
            self._current = record.best_input[k : k + 1].copy()
            self.live.show(self._current)
        self.state.status = f"{key} = {values[k]:.4g} (from sweep #{record.number})"

    def restore(self, record):
        """Restores a run's weights, `max_iter` and jitter (and, when idle, its images).

        Args:
            record: a `RunRecord` or its number.

        Raises:
            KeyError: for a run number that is not in the history.
        """
        if not isinstance(record, RunRecord):
            record = self.gallery.find(record)
        for key, weight in record.weights.items():
            self.state.set_weight(key, weight)
        self.state.max_iter = record.max_iter
        self.state.jitter = record.jitter
        if not self._runner.busy and record.kind != "sweep":
            if record.kind == "run":
                self._seed = record.seed.copy()
            self._current = record.best_input.copy()
            self.live.show(self._current)
        self.state.status = f"Restored the settings of run #{record.number}."

    def export_code(self):
        """Returns the losses with the current weights as a ready-to-paste Python snippet.

        The snippet expects a variable `model` (the same model) and defines
        `losses`, `opt` and `img`.
        """
        return losses_snippet(
            self.optimizer,
            list(self.state.weights.values()),
            self.state.max_iter,
            self.state.jitter,
            self.grad_modifier,
        )

    def save_png(self, path="vis_widgets_image.png", record=None, min_size=256):
        """Saves the current image (or a record's result) as a PNG; returns the path.

        Args:
            path: the file to write.
            record: a `RunRecord` to save instead of the current image (a
                sweep gives a labelled grid).
            min_size: nearest-neighbour upscale to this long side (0: native).
        """
        batch = self._current if record is None else record.best_input
        labels = None if record is None else record.labels
        return write_png(path, self._display(batch), labels, min_size)

    def save_gif(self, path="vis_widgets_run.gif", record=None, duration=80):
        """Saves a run's live frames (default: the latest run) as an animated GIF.

        Raises:
            ValueError: when there is no finished run yet.
        """
        record = record if record is not None else self.result
        if record is None:
            raise ValueError("There is no finished run to save yet: run first.")
        return write_gif(path, record.frames, record.labels, duration)

    def close(self):
        """Stops the run (if any) and closes every widget of the dashboard."""
        self.stop()
        self._closed = True
        seen = set()
        for w in self._all_widgets():
            if id(w) not in seen:
                seen.add(id(w))
                w.close()

    # ------------------------------------------------------------------ runs
    def _start(self, kind, seed, sweep=None, labels=None):
        if self._closed:
            return False
        max_iter = self.state.max_iter

        def prepare():
            self.gallery.ensure_slots(len(self.gallery.records) + 1)
            self._stop_requested.clear()
            self.errors.outputs = ()
            self.live.labels = labels
            self.state.running = True
            self.state.status = f"Running #{self._next_number()} ({kind}, {max_iter} iterations)…"

        return self._runner.start(
            lambda: self._job(kind, seed, max_iter, sweep, labels), prepare=prepare
        )

    def _job(self, kind, seed, max_iter, sweep, labels):
        started = time.perf_counter()
        monitor = _StopMonitor(self._stop_requested)
        try:
            context = contextlib.nullcontext()
            if sweep is not None:
                index = self.state.index_for(sweep[0])
                context = self._binding.per_sample(index, sweep[1])
            with context:
                img, _, _ = self.optimizer.minimize(
                    seed,
                    max_iter=max_iter,
                    input_modifiers=[self.jitter],
                    grad_modifier=self.grad_modifier,
                    callbacks=[monitor, self.live, *self.callbacks],
                    verbose=False,
                )
            seconds = time.perf_counter() - started
            self._add(self._record(kind, img, seed, max_iter, seconds, sweep, labels))
        except Exception as err:
            self.last_error = err
            self.errors.append_stderr(traceback.format_exc())
            first_line = (str(err).splitlines() or [""])[0]
            self.state.status = f"Error: {type(err).__name__}: {first_line}"
            if monitor.began and sweep is None and self.optimizer.best_input is not None:
                self._current = self.optimizer.best_input
        finally:
            self.state.running = False

    def _next_number(self):
        result = self.result
        return result.number + 1 if result is not None else 1

    def _display(self, batch):
        """The display images `(N, H, W, C)` uint8 of a raw input batch."""
        return display_images(batch, self.optimizer.input_range, self.optimizer.data_format)

    def _record(self, kind, img, seed, max_iter, seconds, sweep, labels):
        opt = self.optimizer
        named = {k: float(np.mean(v)) for k, v in opt.per_sample_losses.items()}
        raw = {k: float(np.mean(v)) for k, v in opt.per_sample_raw_losses.items()}
        overall = opt.per_sample_overall_loss
        return RunRecord(
            number=self._next_number(),
            kind=kind,
            image=img,
            weights=self.state.weights,
            max_iter=max_iter,
            jitter=self.state.jitter,
            iterations=opt.iterations,
            stopped=opt.iterations < max_iter,
            named_losses=named,
            raw_losses=raw,
            overall_loss=float(np.mean(overall)) if overall is not None else float("nan"),
            seconds=seconds,
            seed=np.array(seed),
            last_input=np.array(opt.last_input),
            best_input=np.array(opt.best_input),
            frames=list(self.live.frames),
            warnings=list(opt.run_warnings),
            labels=labels,
            sweep=sweep,
        )

    def _add(self, record):
        """Keeps a finished run, shows it, and reports it (and the engine's warnings)."""
        images = self._display(record.best_input)
        self.gallery.add(record, images)
        if record.sweep is not None:
            self.sweep_panel.show(record, images)
        else:
            self._current = record.best_input
        for message in record.warnings:  # on the worker thread, they reach no cell
            self.errors.append_stderr(f"Warning: {message}\n")
        verb = "stopped at" if record.stopped else "done:"
        status = (
            f"#{record.number} {record.kind} {verb} {record.iterations}/{record.max_iter} "
            f"iterations in {record.seconds:.1f} s · overall loss {record.overall_loss:.4g}"
        )
        if record.warnings:
            count = len(record.warnings)
            status += f" · {count} warning{'s' if count > 1 else ''}, see below"
        self.state.status = status

    # ------------------------------------------------------------------ misc
    def _widget_closed(self, change):
        if change["new"] is None:
            self.stop()
            self._closed = True

    def _all_widgets(self):
        stack = [self.widget, *self.gallery.slots, *self.sweep_panel.cells]
        while stack:
            w = stack.pop()
            yield w
            stack.extend(getattr(w, "children", ()))
