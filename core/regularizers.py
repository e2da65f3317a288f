"""Regularizers: losses that keep the optimized input natural (keras-vis's `vis/regularizers.py`).

Both are normalised by the number of input values `C*H*W` (the product of
every non-batch dimension), as in keras-vis, so their weights transfer
between input sizes.
"""

import math

import keras
import tensorflow as tf

from .losses import Loss
from .validation import check_keras_tensor, check_real

__all__ = ["LPNorm", "TotalVariation"]


def _per_sample_size(x):
    """The number of values in one sample of `x`, as a float32 scalar tensor."""
    return tf.cast(tf.reduce_prod(tf.shape(x)[1:]), tf.float32)


def _safe_pow(s, exponent):
    """`s ** exponent` for `s >= 0`, exact, with a zero (not NaN) gradient where `s == 0`."""
    positive = s > 0
    safe = tf.where(positive, s, tf.ones_like(s))
    return tf.where(positive, tf.pow(safe, exponent), tf.zeros_like(s))


def _power(x, p):
    """`x ** p` for `x >= 0`; whole powers up to 8 by multiplication (cheaper than pow)."""
    if float(p).is_integer() and 1 <= p <= 8:
        result, base, n = None, x, int(p)
        while n:  # square-and-multiply
            if n & 1:
                result = base if result is None else result * base
            n >>= 1
            if n:
                base = base * base
        return result
    return tf.pow(x, p)


class LPNorm(Loss):
    """The L-p norm of the input, so values stay in a natural range (keras-vis).

    The loss of a sample is `(sum |x|**p) ** (1/p) / (C*H*W)`; for
    `p = inf` it is `max |x| / (C*H*W)` (differs: keras-vis used `max x`,
    which is not a norm). It is computed as `m * (sum (|x|/m)**p) ** (1/p)`
    with `m = max |x|` held constant, which has the same value and gradient
    and does not overflow float32 for large `p`; an all-zero input has a
    zero gradient, not NaN.

    Args:
        img_input: the symbolic input tensor (`model.inputs[0]`).
        p: the norm's order, a real number >= 1 or `float("inf")`. The loss
            is named `L-{p} Norm Loss` with `p` formatted as given.

    Raises:
        ValueError: if `p < 1`.

    Example:
        ```python
        losses = [(ActivationMaximization(layer, 3), 1.0), (LPNorm(model.inputs[0]), 10.0)]
        ```
    """

    def __init__(self, img_input, p=6.0):
        check_keras_tensor(img_input, "img_input")
        check_real(p, "p", min_value=1, max_value=math.inf)
        super().__init__(img_input)
        self.p = p
        self.name = f"L-{p} Norm Loss"

    def call(self, value):
        """Returns the normalised L-p norm of each sample."""
        x = tf.abs(tf.cast(value, tf.float32))
        axes = list(range(1, x.shape.rank))
        peak = tf.stop_gradient(tf.reduce_max(x, axis=axes, keepdims=True))
        if math.isinf(self.p):
            norm = tf.reduce_max(x, axis=axes)
        else:
            scale = tf.where(peak > 0, peak, tf.ones_like(peak))
            powered = tf.reduce_sum(_power(x / scale, self.p), axis=axes)
            norm = tf.reshape(scale, [-1]) * _safe_pow(powered, 1.0 / self.p)
        return norm / _per_sample_size(x)

    def get_config(self):
        """Returns `{"p": p}`."""
        return {"p": self.p}


class TotalVariation(Loss):
    """Total variation of the input, for smooth, blob-like images (keras-vis).

    For a sample with image dimensions `D1..Dk` (1-D, 2-D or 3-D), the loss is
    `sum over the (D1-1) x ... x (Dk-1) region and channels of
    (sum_d diff_d ** 2) ** (beta / 2) / (C*H*W)`, where `diff_d` is the
    difference between neighbours along image dimension `d`. Where all
    differences are zero the gradient is zero, not NaN, also for `beta < 2`.

    Args:
        img_input: the symbolic input tensor (`model.inputs[0]`), with a batch
            axis, at least one image dimension and a channel axis.
        beta: the exponent, a real number > 0; the loss is named
            `TV({beta}) Loss`.
        data_format: `"channels_last"` or `"channels_first"`; default
            `keras.config.image_data_format()`.

    Raises:
        ValueError: for `beta <= 0` or an input with no image dimension.

    Example:
        ```python
        tv = TotalVariation(model.inputs[0], beta=2.0)
        ```
    """

    def __init__(self, img_input, beta=2.0, data_format=None):
        check_keras_tensor(img_input, "img_input")
        check_real(beta, "beta", min_value=0, min_inclusive=False)
        if len(img_input.shape) < 3:
            raise ValueError(
                "TotalVariation needs an input with a batch axis, image dimensions and a "
                f"channel axis. Received: img_input with shape {img_input.shape}"
            )
        super().__init__(img_input)
        self.beta = beta
        self.data_format = data_format or keras.config.image_data_format()
        self.name = f"TV({beta}) Loss"

    def call(self, value):
        """Returns the normalised total variation of each sample."""
        x = tf.cast(value, tf.float32)
        rank = x.shape.rank
        first = 2 if self.data_format == "channels_first" else 1
        image_axes = list(range(first, first + rank - 2))
        body = [slice(None)] * rank
        for axis in image_axes:
            body[axis] = slice(None, -1)
        squared = 0.0
        for axis in image_axes:
            shifted = list(body)
            shifted[axis] = slice(1, None)
            squared += tf.square(x[tuple(shifted)] - x[tuple(body)])
        tv = squared if self.beta == 2 else _safe_pow(squared, self.beta / 2.0)
        return tf.reduce_sum(tv, axis=list(range(1, rank))) / _per_sample_size(x)

    def get_config(self):
        """Returns `{"beta": beta, "data_format": data_format}`."""
        return {"beta": self.beta, "data_format": self.data_format}
