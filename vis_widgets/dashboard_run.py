"""The dashboard's run control: Run, Continue, Stop, Reset, and the run thread's job.

`RunControl` is a mixin of `Dashboard`: its methods start `minimize` on the
dashboard's one `Runner` thread (a second start while one runs is ignored)
with the dashboard's `LivePlot`, a `StopMonitor` and a `RunRecorder`
attached, and keep, show and report each finished run. It reads what
`Dashboard.__init__` builds: `state`, `runner`, `live`, `optimizer`,
`gallery`, `sweep_panel`, `export_panel`, `errors`, the run settings
(`callbacks`, `grad_modifier`, `jitter_modifier`, `input_modifiers`) and
the private run state (`_seed`, `_binding`, `_stop_requested`, `_closed`).
"""

import contextlib
import traceback

import numpy as np

from vis_widgets.recorder import RunPlan, RunRecorder
from vis_widgets.runner import StopMonitor


class RunControl:
    """The `Dashboard` methods behind Run, Stop, Continue and Reset (a mixin).

    Example:
        ```python
        dash.reset()                  # a new random seed
        dash.run(); dash.wait()       # from it
        dash.continue_(); dash.stop(); dash.wait()  # refine, then keep what formed
        ```
    """

    def run(self):
        """Starts a run from the seed on the background thread.

        Returns:
            True if it started, False if a run is already going (ignored).
        """
        return self._start("run", self._seed)

    def continue_(self):
        """Starts a run from the current image (the latest run's result).

        Returns:
            True if it started, False if a run is already going.
        """
        return self._start("continue", self.state.current)

    def stop(self):
        """Asks the running run (if any) to end after its current iteration; keeps its result."""
        self._stop_requested.set()
        if self.runner.running:
            self.optimizer.stop()

    def wait(self, timeout=None):
        """Waits for the current run to finish; returns True if idle, False on timeout."""
        return self.runner.wait(timeout)

    def reset(self, seed_input=None):
        """Draws a new random seed (or takes `seed_input`) and shows it; ignored while running.

        Returns:
            True if the seed changed, False while a run is going.
        """
        if self.runner.running:
            return False
        self._seed = self.optimizer.make_seed(seed_input, samples=1)
        self._set_current(self._seed)
        self.state.status = "New seed: Run starts from it."
        return True

    def _set_current(self, batch, labels=None):
        with self.state.hold_trait_notifications():
            self.state.labels = labels
            self.state.current = np.array(batch)

    def _start(self, kind, seed, sweep=None, labels=None):
        if self._closed:
            return False
        max_iter = self.state.max_iter
        plan = RunPlan(self._next_number(), kind, np.array(seed), max_iter, labels, sweep)

        def prepare():
            self.gallery.ensure_cards(len(self.gallery.records) + 1)
            self._stop_requested.clear()
            self.errors.outputs = ()
            self.state.labels = labels
            self.state.status = f"Running #{plan.number} ({kind}, {plan.max_iter} iterations)…"

        return self.runner.start(lambda: self._job(plan), prepare=prepare)

    def _job(self, plan):
        recorder = RunRecorder(plan, self.state, frames_from=self.live)
        callbacks = [StopMonitor(self._stop_requested), self.live, recorder, *self.callbacks]
        try:
            context = contextlib.nullcontext()
            if plan.sweep is not None:
                index = self.state.index_for(plan.sweep[0])
                context = self._binding.sweeping(index, plan.sweep[1])
            with context:
                self.optimizer.minimize(
                    plan.seed,
                    max_iter=plan.max_iter,
                    input_modifiers=[self.jitter_modifier, *self.input_modifiers],
                    grad_modifier=self.grad_modifier,
                    callbacks=callbacks,
                    verbose=False,
                )
            self._finished(recorder.record)
        except Exception as err:
            self.last_error = err
            self.errors.append_stderr(traceback.format_exc())
            first_line = (str(err).splitlines() or [""])[0]
            self.state.status = f"Error: {type(err).__name__}: {first_line}"
            if recorder.record is not None and plan.sweep is None:
                self._set_current(recorder.record.result_input)

    def _next_number(self):
        result = self.result
        return result.number + 1 if result is not None else 1

    def _finished(self, record):
        """Keeps a finished run, shows it, and reports it (and the engine's warnings)."""
        self.gallery.add(record)
        if record.sweep is not None:
            self.sweep_panel.show(record)
        else:
            self._set_current(record.result_input)
        self.export_panel.refresh_gif()
        for message in record.warnings:  # on the worker thread, they reach no cell
            self.errors.append_stderr(f"Warning: {message}\n")
        self.state.status = record.summary()
