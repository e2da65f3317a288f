"""The dashboard's sweep and restore: try several weights at once, then take settings back.

`SweepRestore` is a mixin of `Dashboard`: `sweep` runs one batched
`minimize` with one value of a loss's weight per sample (through the run
control's `_start`), `use_sweep_cell` takes a sweep cell's weight (and
image) back, and `restore` takes a kept run's settings (and images) back
into the controls.
"""

import numpy as np

from vis_widgets.runs import RunRecord
from vis_widgets.sweep import check_sweep_values, sweep_values


class SweepRestore:
    """The `Dashboard` methods behind the Sweep tab and the runs' Restore buttons (a mixin).

    Example:
        ```python
        dash.sweep("TV(2.0) Loss", [0.0, 10.0]); dash.wait()
        dash.use_sweep_cell(dash.result, 1)  # its weight into the slider
        dash.restore(dash.runs[0])           # the first kept run's settings
        ```
    """

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

        Raises:
            ValueError: for an unknown loss or bad values.

        Example:
            ```python
            dash.sweep("TV(2.0) Loss", [0.1, 1, 10, 100]); dash.wait()
            ```
        """
        key = self.state.key_for(loss)
        values = sweep_values(start, stop, num).tolist() if values is None else values
        values = check_sweep_values(values)
        seed = np.repeat(self._seed, len(values), axis=0)
        labels = [f"w={v:.3g}" for v in values]
        if not self.runner.running:
            self.sweep_panel.ensure_cells(len(values))
        return self._start("sweep", seed, sweep=(key, values), labels=labels)

    def use_sweep_cell(self, record, k):
        """Takes sweep cell `k`'s weight into its slider and, when idle, its image as current."""
        key, values = record.sweep
        self.state.set_weight(key, values[k])
        if not self.runner.running:
            self._set_current(record.result_input[k : k + 1])
        self.state.status = f"{key} = {values[k]:.4g} (from sweep #{record.number})"

    def restore(self, record):
        """Restores a run's weights, `max_iter` and jitter (and, when idle, its images).

        Args:
            record: a `RunRecord` or its number.

        Raises:
            KeyError: for a run number that is not among the kept runs.
        """
        if not isinstance(record, RunRecord):
            record = self.gallery.find(record)
        if record.recipe and record.recipe != self.state.recipe and not self.runner.running:
            self.state.recipe = record.recipe  # first: a recipe brings its own settings
        for key, weight in record.weights.items():
            self.state.set_weight(key, weight)
        self.state.max_iter = record.max_iter
        self.state.jitter = record.jitter
        if not self.runner.running and record.kind != "sweep":
            if record.kind == "run":
                self._seed = record.seed.copy()
            self._set_current(record.result_input)
        self.state.status = f"Restored the settings of run #{record.number}."
