"""The loss series of a run: `core.History` plus the unweighted values, readable while recorded."""

import numpy as np

from vis_widgets.core import History, ignores_arrays

OVERALL = "overall loss"


class LossSeries(History):
    """Records every iteration's weighted and unweighted loss values.

    `history` and `iterations` are `core.History`'s (weighted values, keyed
    by `Optimizer.loss_keys`, plus `"overall loss"`); `raw_history` has the
    unweighted values (the mean over samples for a batch). Another thread
    may call `snapshot` at any time: every key exists from `on_begin`, and
    an iteration counts once its last value (`iterations`) is appended.

    Example:
        ```python
        series = LossSeries()
        opt.minimize(callbacks=[series], verbose=False)
        x, values = series.snapshot(raw=True)
        ```
    """

    def __init__(self):
        super().__init__()
        self.raw_history = {}

    def on_begin(self):
        """Starts a fresh record with every key present."""
        keys = list(self.optimizer.loss_keys)
        self.raw_history = {key: [] for key in keys}
        self.history = {key: [] for key in [*keys, OVERALL]}
        self.iterations = []

    @ignores_arrays
    def callback(self, i, named_losses, overall_loss, grads, wrt_value):
        """Appends this iteration's unweighted, then weighted values, then `i` (last)."""
        raw = self.optimizer.per_sample_raw_losses
        for key, values in self.raw_history.items():
            sample = raw[key]
            values.append(float(sample[0]) if sample.size == 1 else float(sample.mean()))
        super().callback(i, named_losses, overall_loss, grads, wrt_value)

    def snapshot(self, raw=False):
        """Returns `(x, {key: values})` of the iterations recorded so far.

        Args:
            raw: the losses' unweighted values instead of the weighted ones
                (the overall loss is always the weighted sum).

        Returns:
            The 0-based iterations as an array and one array per loss key and
            `"overall loss"`, all of one length.
        """
        iterations, weighted = self.iterations, self.history
        source = self.raw_history if raw else weighted
        series = {key: values for key, values in list(source.items()) if key != OVERALL}
        series[OVERALL] = weighted.get(OVERALL, [])
        n = min([len(iterations), *(len(v) for v in series.values())])
        return np.asarray(iterations[:n]), {k: np.asarray(v[:n]) for k, v in series.items()}

    def latest(self):
        """`{key: (weighted, unweighted or None)}` of the last recorded iteration."""
        n = len(self.iterations)
        if not n:
            return {}
        weighted, raw = self.history, self.raw_history
        return {
            key: (float(values[n - 1]), float(raw[key][n - 1]) if key in raw else None)
            for key, values in list(weighted.items())
        }
