"""Helpers for the engine tests: losses with known values, recording callbacks, checks."""

import keras
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


class MeanAbsoluteError(Loss):
    """`mean |x - target|` per sample: fitting a given image."""

    name = "MAE"

    def __init__(self, tensor, target):
        super().__init__(tensor)
        self.target = tf.constant(target, tf.float32)

    def call(self, value):
        return tf.reduce_mean(tf.abs(value - self.target), axis=list(range(1, value.shape.rank)))


class NanLoss(Linear):
    """A `Linear` loss that is NaN everywhere."""

    name = "Nan"

    def call(self, value):
        return super().call(value) * np.float32("nan")


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
                "raw": self.optimizer.per_sample_raw_losses,
            }
        )

    def on_end(self):
        self.events.append("end")


class At(Recorder):
    """A `Recorder` that calls `action(optimizer)` in the callback of iteration `i`."""

    def __init__(self, i, action):
        super().__init__()
        self.at, self.action = i, action

    def callback(self, i, named_losses, overall_loss, grads, wrt_value):
        super().callback(i, named_losses, overall_loss, grads, wrt_value)
        if i == self.at:
            self.action(self.optimizer)


def overall_loss(opt, batch):
    """The optimizer's weighted objective per sample for `batch`, with no modifier."""
    x = opt.input_tensor
    batch = tf.constant(batch, tf.float32)
    total = 0.0
    for k, loss in enumerate(opt.losses):
        value = batch if loss.tensor is x else keras.Model(x, loss.tensor)(batch, training=False)
        total += np.asarray(opt.get_weight(k), np.float32) * loss.call(value).numpy()
    return np.asarray(total)


def assert_descends(opt, max_iter=20, seed_input=None, **minimize_kwargs):
    """Lucid's assert_gradient_ascent for a minimizer: the objective of the final input is lower.

    The objective is evaluated on the seed and on `opt.last_input` without
    any modifier (so random transforms do not make it noisy). Returns both.
    """
    seed = opt.make_seed(seed_input)
    opt.minimize(seed, max_iter=max_iter, verbose=False, **minimize_kwargs)
    start, end = overall_loss(opt, seed), overall_loss(opt, opt.last_input)
    assert np.all(end < start), (start, end)
    return start, end
