"""Helpers for the engine tests: a loss with a known gradient, a recording callback."""

import numpy as np
import tensorflow as tf

from vis_widgets.core import Loss, OptimizerCallback


class Linear(Loss):
    """`sum(coef * x)` per sample: its gradient is `coef`, known exactly."""

    name = "Linear"

    def __init__(self, tensor, coef):
        super().__init__(tensor)
        self.coef = tf.constant(coef, tf.float32)

    def call(self, value):
        axes = list(range(1, value.shape.rank))
        return tf.reduce_sum(self.coef * value, axis=axes)


class Recorder(OptimizerCallback):
    """Keeps copies of everything the optimizer hands to its callbacks."""

    def __init__(self):
        self.calls = []
        self.events = []

    def on_begin(self):
        self.events.append("begin")

    def callback(self, i, named_losses, overall_loss, grads, wrt_value):
        self.calls.append(
            {
                "i": i,
                "named": named_losses,
                "overall": overall_loss,
                "grads": np.array(grads),
                "wrt": np.array(wrt_value),
            }
        )

    def on_end(self):
        self.events.append("end")
