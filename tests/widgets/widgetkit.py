"""Helpers for the widget tests: a gate that holds a run, a slow-down, a minimize spy."""

import threading
import time

from vis_widgets.core import (
    ActivationMaximization,
    LPNorm,
    OptimizerCallback,
    TotalVariation,
)

WAIT = 60  # seconds: generous upper bounds, never expected to be reached


class Gate(OptimizerCallback):
    """Blocks the run at iteration `at` until the test calls `open()`."""

    def __init__(self, at):
        self.at = at
        self.reached = threading.Event()
        self._open = threading.Event()

    def callback(self, i, named_losses, overall_loss, grads, wrt_value):
        if i == self.at:
            self.reached.set()
            self._open.wait(WAIT)

    def wait_reached(self):
        assert self.reached.wait(WAIT), "the run never reached the gate"

    def open(self):
        self._open.set()


class Slow(OptimizerCallback):
    """Sleeps after each iteration so a run lasts long enough to see frames."""

    def __init__(self, seconds):
        self.seconds = seconds

    def callback(self, i, named_losses, overall_loss, grads, wrt_value):
        time.sleep(self.seconds)


class CountCalls:
    """Wraps `opt.minimize` to record each call's arguments (the original still runs)."""

    def __init__(self, opt):
        self.calls = []
        self._original = opt.minimize

        def spy(*args, **kwargs):
            self.calls.append((args, kwargs))
            return self._original(*args, **kwargs)

        opt.minimize = spy


def three_losses(model, pre_activation=True):
    x = model.inputs[0]
    return [
        (ActivationMaximization(model.get_layer("pred"), 1, pre_activation=pre_activation), 1.0),
        (LPNorm(x), 10.0),
        (TotalVariation(x), 10.0),
    ]
