"""The run loop: iterations of a compiled step, callbacks between them, and the run's record.

`LiveRun` is what one `minimize` call updates while it runs (the optimizer's
read-outs such as `current_input` and `per_sample_losses` look there);
`run_loop` drives the step; `RunResult` is the frozen record of a finished
run (`Optimizer.last_run`), assigned before any callback's `on_end`.
"""

import dataclasses
import types
import warnings

import numpy as np

__all__ = ["RunResult"]  # the rest serves the Optimizer


def _frozen(array):
    """A read-only copy of `array` (None stays None)."""
    if array is None:
        return None
    array = np.array(array, copy=True)
    array.setflags(write=False)
    return array


@dataclasses.dataclass(frozen=True)
class RunResult:
    """The record of one finished `minimize` call (`Optimizer.last_run`).

    Arrays are read-only copies with the batch axis; mappings are read-only.

    Attributes:
        returned: what `minimize` returned as its image, batch axis kept
            (keras-vis path: the best input de-processed per sample;
            parameterized path: the last finite image).
        best_input: the best input (the state after the update of the
            iteration with the lowest finite loss), in input units.
        last_input: the input after the last iteration, in input units.
        iterations: the iterations done.
        max_iter: the iterations asked for.
        stopped: True when `stop()` ended the run before `max_iter`.
        error: None, or the `repr` of the exception the run raised.
        warnings: the run's warnings (as `Optimizer.run_warnings`).
        losses: the last iteration's weighted loss values, `{loss key: (N,)}`.
        raw_losses: the same, unweighted.
        overall_loss: the last iteration's overall loss per sample, `(N,)`,
            or None when no iteration ran.

    Example:
        ```python
        opt.minimize(max_iter=50, verbose=False)
        run = opt.last_run
        print(run.iterations, run.stopped, run.overall_loss)
        ```
    """

    returned: np.ndarray
    best_input: np.ndarray
    last_input: np.ndarray
    iterations: int
    max_iter: int
    stopped: bool
    error: str | None
    warnings: tuple
    losses: types.MappingProxyType
    raw_losses: types.MappingProxyType
    overall_loss: np.ndarray | None


class LiveRun:
    """The state of the run in progress (or of the last one): what read-outs look at.

    Args:
        loss_keys: the optimizer's unique loss keys.
    """

    def __init__(self, loss_keys):
        self.loss_keys = list(loss_keys)
        self.iterations = 0
        self.warnings = []
        self.step = None  # the compiled step of the run
        self.state = None  # the step's state tuple after the latest iteration
        self._current = None  # (iterations, numpy current input): computed once per iteration
        self.stats = None  # (2 * losses + 1, N): raw rows, weighted rows, overall
        self._stats_np = None

    def current_numpy(self):
        """The current input as numpy (None before a run), fetched once per iteration."""
        if self.state is None:
            return None
        if self._current is None or self._current[0] != self.iterations:
            self._current = (self.iterations, self.step.current(self.state).numpy())
        return self._current[1].copy()

    def set_stats(self, stats):
        """Keeps the latest iteration's statistics (fetched to numpy on demand)."""
        self.stats, self._stats_np = stats, None

    def stats_numpy(self):
        """The latest statistics as one numpy array (one device fetch per iteration)."""
        if self._stats_np is None and self.stats is not None:
            self._stats_np = self.stats.numpy()
        return self._stats_np

    def per_sample(self, rows):
        """`{loss key: (N,)}` of the raw (rows=0) or weighted (rows=1) losses."""
        stats = self.stats_numpy()
        if stats is None:
            return {}
        n = len(self.loss_keys)
        block = stats[rows * n : (rows + 1) * n]
        return {key: block[k].copy() for k, key in enumerate(self.loss_keys)}

    def overall(self):
        """The overall loss per sample, `(N,)`, or None before the first iteration."""
        stats = self.stats_numpy()
        return None if stats is None else stats[-1].copy()

    def named_losses(self, loss_names):
        """`(named_losses, overall_loss)` as callbacks get them: means over samples, floats."""
        means = self.stats_numpy().mean(axis=1).tolist()  # one numpy call for every row
        n = len(loss_names)
        return list(zip(loss_names, means[n : 2 * n])), means[-1]

    def warn(self, message, stacklevel):
        """Warns, and keeps the message in `warnings` (a UI thread can show it)."""
        self.warnings.append(message)
        warnings.warn(message, RuntimeWarning, stacklevel=stacklevel + 1)

    def result(self, returned, best, last, max_iter, stopped, error):
        """The frozen `RunResult` of this run."""
        return RunResult(
            returned=_frozen(returned),
            best_input=_frozen(best),
            last_input=_frozen(last),
            iterations=self.iterations,
            max_iter=max_iter,
            stopped=stopped,
            error=None if error is None else repr(error),
            warnings=tuple(self.warnings),
            losses=types.MappingProxyType({k: _frozen(v) for k, v in self.per_sample(1).items()}),
            raw_losses=types.MappingProxyType(
                {k: _frozen(v) for k, v in self.per_sample(0).items()}
            ),
            overall_loss=_frozen(self.overall()),
        )


class RunReadOuts:
    """The optimizer's read-outs of its latest run (live while it runs), from `self._live`."""

    @property
    def iterations(self):
        """The iterations done by the latest run (so far, while it runs)."""
        return self._live.iterations

    @property
    def run_warnings(self):
        """The latest run's warnings (filled before `on_end`, reset at every call)."""
        return self._live.warnings

    @property
    def current_input(self):
        """The input state after the latest iteration (update and `post` applied), numpy.

        Unlike a callback's `wrt_value` it is not jittered, so it is what a
        live view should show; `None` before the first run.
        """
        return self._live.current_numpy()

    @property
    def per_sample_losses(self):
        """The latest iteration's weighted loss values: `{loss key: array of N}`."""
        return self._live.per_sample(1)

    @property
    def per_sample_raw_losses(self):
        """The latest iteration's unweighted loss values: `{loss key: array of N}`."""
        return self._live.per_sample(0)

    @property
    def per_sample_overall_loss(self):
        """The latest iteration's overall loss of each sample, an array of N (or None)."""
        return self._live.overall()


def run_loop(live, step, max_iter, variables, callbacks, loss_names, stop_event):
    """Runs up to `max_iter` iterations of `step` from `live.state`.

    After each iteration `live` holds the new state, current input, count
    and statistics; then the callbacks run (they see the gradients and the
    value they were taken against, as numpy, unless none of them reads
    those: `CallbackList.reads_arrays`); a `stop_event` set by then ends the
    run before the next iteration.

    Returns:
        `(grads, wrt_value)` of the last iteration (tf tensors).
    """
    # The concrete function for these shapes (traced at most once, as the first call
    # would): calling it directly skips tf.function's per-call argument matching,
    # ~0.5 ms per iteration (bench/bench_engine.py), which dominates on small models.
    function = step.function.get_concrete_function(*live.state, variables)
    grads = wrt_value = None
    for i in range(max_iter):
        live.state, stats, grads, wrt_value = function(*live.state, variables)
        live.set_stats(stats)
        live.iterations = i + 1
        if callbacks:
            named, overall = live.named_losses(loss_names)
            if callbacks.reads_arrays:
                callbacks.iteration(i, named, overall, grads.numpy(), wrt_value.numpy())
            else:
                callbacks.iteration(i, named, overall, None, None)
        if stop_event.is_set():
            break
    return grads, wrt_value


def check_finite(live, best_loss, last_x, what):
    """Warns (into `live.warnings`) when losses or inputs were NaN or inf.

    Args:
        live: the run.
        best_loss: the best loss per sample (inf: never finite).
        last_x: the input after the last iteration (numpy).
        what: what is returned instead, e.g. "the best input".
    """
    never = np.flatnonzero(~np.isfinite(best_loss))
    if never.size:
        live.warn(
            f"The loss of sample(s) {never.tolist()} was never finite together with its "
            "updated input (NaN or inf at every iteration): returning their seed input.",
            stacklevel=4,
        )
    last_ok = np.all(np.isfinite(live.stats_numpy()[-1])) and np.all(np.isfinite(last_x))
    if not last_ok and never.size < best_loss.size:
        live.warn(
            f"The loss or the input became NaN or inf within {live.iterations} "
            f"iterations: returning {what} among the iterations whose loss and "
            "updated input were finite.",
            stacklevel=4,
        )
