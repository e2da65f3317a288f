"""RunRecorder: the callback that records one dashboard run as a `RunRecord`.

What a run was asked to do (its `RunPlan`) is known when it starts; what it
did is read from the optimizer in `on_end`, which the engine calls exactly
once, also when the run is stopped or fails. So the record of a run is
built by the run itself, the way Keras's `History` records `fit`, and the
dashboard never pulls leftovers off the optimizer afterwards.
"""

import dataclasses
import time

import numpy as np

from vis_widgets.core.callbacks import OptimizerCallback
from vis_widgets.display import result_input, returned_images
from vis_widgets.runs import RunRecord


@dataclasses.dataclass(frozen=True)
class RunPlan:
    """What a run is asked to do.

    Attributes:
        number: the run's 1-based number in its dashboard.
        kind: `"run"`, `"continue"` or `"sweep"`.
        seed: the raw seed batch.
        max_iter: the run's `max_iter`.
        labels: the per-sample captions, or None.
        sweep: `(loss key, values)` for a sweep, else None.
    """

    number: int
    kind: str
    seed: np.ndarray
    max_iter: int
    labels: list = None
    sweep: tuple = None


class RunRecorder(OptimizerCallback):
    """Builds the `RunRecord` of one run in `on_end` (also for a stopped or failed run).

    Put it after the `LivePlot` in the callbacks, so the live view's final
    frame is among the record's frames.

    Args:
        plan: the run's `RunPlan`.
        settings: the dashboard's state (its `weights` and `jitter` at the
            end of the run go into the record).
        frames_from: the `LivePlot` whose `frames` the record keeps, or None.

    Attributes:
        record: the `RunRecord`, None until `on_end`.
        began: whether `on_begin` was called.

    Example:
        ```python
        recorder = RunRecorder(RunPlan(1, "run", seed, 200), dash.state, live)
        opt.minimize(seed, max_iter=200, callbacks=[live, recorder], verbose=False)
        recorder.record.summary()
        ```
    """

    def __init__(self, plan, settings, frames_from=None):
        self.plan = plan
        self.settings = settings
        self.frames_from = frames_from
        self.record = None
        self.began = False
        self._started = None

    def on_begin(self):
        """Notes the start time."""
        self.began = True
        self._started = time.perf_counter()

    def on_end(self):
        """Builds `record` from the plan, the settings and the run's `Optimizer.last_run`."""
        opt, plan, run = self.optimizer, self.plan, self.optimizer.last_run
        seconds = time.perf_counter() - self._started if self._started is not None else 0.0
        frames = self.frames_from.frames if self.frames_from is not None else []
        state = result_input(opt)
        self.record = RunRecord(
            number=plan.number,
            kind=plan.kind,
            image=np.array(run.returned[0] if len(run.returned) == 1 else run.returned),
            returned=returned_images(opt, state),
            weights=self.settings.weights,
            max_iter=plan.max_iter,
            jitter=self.settings.jitter,
            iterations=run.iterations,
            stopped=run.stopped,
            named_losses={k: float(np.mean(v)) for k, v in run.losses.items()},
            raw_losses={k: float(np.mean(v)) for k, v in run.raw_losses.items()},
            overall_loss=_mean(run.overall_loss),
            seconds=seconds,
            seed=np.array(plan.seed),
            last_input=np.array(run.last_input),
            best_input=np.array(run.best_input),
            result_input=state,
            frames=list(frames),
            warnings=list(run.warnings),
            labels=plan.labels,
            sweep=plan.sweep,
            recipe=getattr(self.settings, "recipe", ""),
        )


def _mean(values):
    return float(np.mean(values)) if values is not None else float("nan")
