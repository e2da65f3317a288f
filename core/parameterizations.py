"""Image parameterizations: what the optimizer changes when it is not the pixels themselves.

With `Optimizer(..., parameterization=...)` the optimized variable is a
parameter `p` and the model sees `lo + (hi - lo) * to_image(p)`, an image in
`(lo, hi)` by construction (a sigmoid), updated with Adam. Lucid's two image
parameterizations:

- `PixelImage`: one parameter per pixel, through a sigmoid;
- `FourierImage`: the image's 2-D Fourier spectrum, scaled by
  `1 / frequency ** decay_power` (low frequencies move first: a smoother
  picture for the same number of steps), with Lucid's colour decorrelation
  for RGB inputs, through a sigmoid.

A parameterization is built once for the optimizer's input
(`build(input_shape, data_format)`); `to_image` is traced into the compiled
step; `from_image` inverts a seed image into the parameter. Tunable values
(`FourierImage.decay_power`) live in `tf.Variable`s: changing one during a
run takes effect at the next iteration without retracing.
"""

import numpy as np
import tensorflow as tf

from .validation import check_bool, check_real

__all__ = [
    "COLOR_CORRELATION_SVD_SQRT",
    "DEFAULT_LEARNING_RATE",
    "FourierImage",
    "Parameterization",
    "PixelImage",
    "check_parameterization",
]

DEFAULT_LEARNING_RATE = 0.05  # Adam's step size on the parameterized path (Lucid's)

# Lucid's square root of ImageNet's RGB colour covariance (lucid/optvis/param/color.py):
# decorrelated channels d map to RGB as rgb = (C / max column norm) @ d.
COLOR_CORRELATION_SVD_SQRT = np.array(
    [[0.26, 0.09, 0.02], [0.27, 0.00, -0.05], [0.27, -0.09, 0.03]], np.float32
)
_COLOR = COLOR_CORRELATION_SVD_SQRT / np.max(np.linalg.norm(COLOR_CORRELATION_SVD_SQRT, axis=0))
IMAGE_EPSILON = 1e-4  # seed images are clipped to [eps, 1 - eps] before the logit


def _logit(image01):
    x = np.clip(np.asarray(image01, np.float64), IMAGE_EPSILON, 1.0 - IMAGE_EPSILON)
    return np.log(x / (1.0 - x))


class Parameterization:
    """Base class: an image in [0, 1] represented by a parameter tensor.

    A subclass implements `build` (checks the input, not traced),
    `parameter_shape(samples)`, `to_image(p)` (traced: TensorFlow ops, the
    batch axis first, the image in the optimizer's data format, values in
    [0, 1]) and `from_image(image)` (numpy, its inverse). Every sample of a
    batch must be represented independently of the others.

    Example:
        ```python
        class Tanh(Parameterization):  # a pixel image through tanh instead of a sigmoid
            def build(self, input_shape, data_format):
                self.shape = tuple(input_shape[1:])

            def parameter_shape(self, samples):
                return (samples, *self.shape)

            def to_image(self, p):
                return 0.5 + 0.5 * tf.tanh(p)

            def from_image(self, image):
                return np.arctanh(np.clip(2 * image - 1, -0.9999, 0.9999)).astype("float32")
        ```
    """

    sd = 0.01

    def build(self, input_shape, data_format):
        """Checks the parameterization can represent the optimizer's input.

        Args:
            input_shape: the input's shape, batch axis included (may be None).
            data_format: the input's data format.

        Raises:
            ValueError: if it cannot represent this input.
        """

    def parameter_shape(self, samples):
        """The parameter's shape for `samples` images (batch axis first)."""
        raise NotImplementedError

    def to_image(self, p):
        """Returns the images `p` represents, in [0, 1] (traced into the compiled step)."""
        raise NotImplementedError

    def from_image(self, image):
        """Returns a float32 parameter whose image is `image` (values in [0, 1], batch first)."""
        raise NotImplementedError

    def random_parameter(self, samples):
        """A random starting parameter: N(0, sd^2) from numpy's global random state."""
        return np.random.normal(0.0, self.sd, self.parameter_shape(samples)).astype(np.float32)

    def random_image(self, samples, input_range):
        """The image, in `input_range` units, of a random starting parameter (numpy)."""
        lo, hi = (float(v) for v in input_range)
        image = self.to_image(tf.constant(self.random_parameter(samples))).numpy()
        return lo + (hi - lo) * image

    @property
    def variables(self):
        """The `tf.Variable`s holding tunable values (read live by the compiled step)."""
        return []

    def get_config(self):
        """Returns the constructor arguments."""
        return {}

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class PixelImage(Parameterization):
    """One parameter per input value through a sigmoid: `image = sigmoid(p)` (Lucid's pixel image).

    Works for any input shape (images, 1-D signals, volumes). A random start
    `p ~ N(0, sd^2)` is a flat mid-grey; a seed image is inverted exactly
    (values clipped to `[1e-4, 1 - 1e-4]` of the range first).

    Args:
        sd: the standard deviation of the random starting parameter, >= 0.

    Example:
        ```python
        opt = Optimizer(model.inputs[0], losses, input_range=(0, 255),
                        parameterization=PixelImage(), learning_rate=0.05)
        img, _, _ = opt.minimize(max_iter=256, input_modifiers=standard_transforms(32))
        ```
    """

    def __init__(self, sd=0.01):
        self.sd = check_real(sd, "sd", min_value=0)
        self._shape = None

    def build(self, input_shape, data_format):
        """Records the sample shape (any rank)."""
        self._shape = tuple(input_shape[1:])

    def parameter_shape(self, samples):
        """`(samples,) + input_shape[1:]`."""
        return (samples, *self._shape)

    def to_image(self, p):
        """`sigmoid(p)`."""
        return tf.sigmoid(p)

    def from_image(self, image):
        """`logit(clip(image))`: exact for values inside the clip."""
        return _logit(image).astype(np.float32)

    def get_config(self):
        """Returns `{"sd": sd}`."""
        return {"sd": self.sd}


class FourierImage(Parameterization):
    """The image's 2-D Fourier spectrum, frequency-scaled, colour-decorrelated, sigmoid (Lucid).

    Per sample and channel, the parameter holds the real and imaginary parts
    of an `rfft2d` spectrum `s` of shape `(H, W // 2 + 1)`. The image is
    `sigmoid(M @ (irfft2d(s * scale) / 4))` with
    `scale(f) = sqrt(H W) / max(f, 1 / max(H, W)) ** decay_power`, `f` the
    frequency in cycles per pixel (so the transform is unitary at decay 0 and
    low frequencies dominate as the decay grows) and `M` Lucid's colour
    decorrelation matrix (its ImageNet colour covariance square root, scaled
    so no direction is amplified) for 3 channels, the identity otherwise.
    The decay lives in a `tf.Variable`: `fourier.decay_power = 2.0` during a
    run takes effect at the next iteration without retracing.

    A seed image is inverted exactly (values clipped to `[1e-4, 1 - 1e-4]`
    of the range; the inverse uses the decay at that moment). Small images
    want a larger decay: at 16 px a decay of 1 still leaves about 31% of the
    prior's energy above 0.25 cycles/pixel, a decay of 2 about 3%.

    Args:
        decay_power: the spectrum's decay exponent, a number >= 0 (Lucid: 1).
        sd: the standard deviation of the random starting spectrum, >= 0.
        decorrelate: apply the colour matrix; None: when the input has 3
            channels. True on an input without 3 channels is an error.

    Raises:
        ValueError: (at `Optimizer` construction) for an input that is not a
            batch of 2-D images of known size, or `decorrelate=True` without
            3 channels.

    Example:
        ```python
        fourier = FourierImage(decay_power=1.5)
        opt = Optimizer(model.inputs[0], losses, parameterization=fourier)
        fourier.decay_power = 2.0  # live: no retrace
        ```
    """

    def __init__(self, decay_power=1.0, sd=0.01, decorrelate=None):
        decay = check_real(decay_power, "decay_power", min_value=0)
        self.sd = check_real(sd, "sd", min_value=0)
        self.decorrelate = None if decorrelate is None else check_bool(decorrelate, "decorrelate")
        self._decay = tf.Variable(decay, trainable=False, name="decay_power")
        self._built = None  # (H, W, C, data_format, decorrelate)

    @property
    def decay_power(self):
        """The current decay exponent (a float)."""
        return float(self._decay.numpy())

    @decay_power.setter
    def decay_power(self, value):
        self._decay.assign(check_real(value, "decay_power", min_value=0))

    @property
    def variables(self):
        """`[decay_power]`."""
        return [self._decay]

    def build(self, input_shape, data_format):
        """Checks the input is a batch of 2-D images of known size and the channel count."""
        input_shape = tuple(input_shape)
        if len(input_shape) != 4:
            raise ValueError(
                "FourierImage needs a batch of 2-D images with channels, (batch, height, "
                f"width, channels). Received: input shape {input_shape}; use PixelImage for "
                "other inputs."
            )
        if data_format == "channels_first":
            channels, height, width = input_shape[1:]
        else:
            height, width, channels = input_shape[1:]
        if None in (height, width, channels):
            raise ValueError(
                "FourierImage needs an input of known height, width and channels. "
                f"Received: input shape {input_shape}"
            )
        decorrelate = channels == 3 if self.decorrelate is None else self.decorrelate
        if decorrelate and channels != 3:
            raise ValueError(
                "`decorrelate=True` needs 3 (RGB) channels. Received: an input with "
                f"{channels} channel(s), shape {input_shape}; use decorrelate=None or False."
            )
        built = (height, width, channels, data_format, decorrelate)
        if self._built is not None and self._built != built:
            raise ValueError(
                f"This FourierImage is already built for (height, width, channels) "
                f"{self._built[:3]} in {self._built[3]}; create one per input. Received: input "
                f"shape {input_shape}"
            )
        self._built = built

    def parameter_shape(self, samples):
        """`(samples, 2, channels, height, width // 2 + 1)`: real and imaginary parts."""
        height, width, channels = self._built[:3]
        return (samples, 2, channels, height, width // 2 + 1)

    def _frequencies(self):
        height, width = self._built[:2]
        fy = np.fft.fftfreq(height)[:, None]
        fx = np.fft.rfftfreq(width)[None, :]
        return np.sqrt(fx * fx + fy * fy).astype(np.float32)

    def _scale(self, decay):
        """`sqrt(H W) / max(f, 1 / max(H, W)) ** decay` (decay: a tensor or a float)."""
        height, width = self._built[:2]
        floor = np.float32(1.0 / max(height, width))
        freqs = tf.maximum(tf.constant(self._frequencies()), floor)
        return tf.pow(freqs, -tf.cast(decay, tf.float32)) * np.float32(np.sqrt(height * width))

    def _to_layout(self, nchw):
        """NCHW to the optimizer's layout (a 3-D transpose: much faster than a 4-D one on CPU)."""
        if self._built[3] == "channels_first":
            return nchw
        height, width, channels = self._built[:3]
        if channels == 1:
            return tf.reshape(nchw, [-1, height, width, 1])
        flat = tf.reshape(nchw, [-1, channels, height * width])
        return tf.reshape(tf.transpose(flat, [0, 2, 1]), [-1, height, width, channels])

    def to_image(self, p):
        """The images of spectra `p`, in [0, 1] and the optimizer's data format.

        The colour matrix and the frequency scale (with Lucid's `/ 4`) are
        applied to the real and imaginary parts before the inverse transform,
        which they commute with: cheaper than on the image.
        """
        height, width, channels = self._built[:3]
        wf = width // 2 + 1
        q = p * (self._scale(self._decay) / 4.0)  # (N, 2, C, H, Wf), real
        if self._built[4]:
            flat = tf.reshape(q, [-1, channels, height * wf])
            q = tf.reshape(tf.matmul(tf.constant(_COLOR), flat), tf.shape(p))
        spectrum = tf.complex(q[:, 0], q[:, 1])
        image = tf.signal.irfft2d(spectrum, fft_length=[height, width])  # (N, C, H, W)
        return self._to_layout(tf.sigmoid(image))

    def from_image(self, image):
        """The spectra whose images are `image` (N, ...) in [0, 1]: exact inside the clip."""
        height, width = self._built[:2]
        logits = _logit(image).astype(np.float32)
        if self._built[3] != "channels_first":
            logits = np.transpose(logits, [0, 3, 1, 2])
        if self._built[4]:
            logits = np.einsum("ij,njhw->nihw", np.linalg.inv(_COLOR), logits)
        spectrum = tf.signal.rfft2d(tf.constant(4.0 * logits, tf.float32), [height, width])
        spectrum = spectrum / tf.cast(self._scale(self.decay_power), tf.complex64)
        return np.stack([np.real(spectrum), np.imag(spectrum)], axis=1).astype(np.float32)

    def get_config(self):
        """Returns `decay_power`, `sd` and `decorrelate`."""
        return {"decay_power": self.decay_power, "sd": self.sd, "decorrelate": self.decorrelate}


def check_parameterization(parameterization, learning_rate, wrt_tensor, input_tensor, data_format):
    """Checks the parameterized path's arguments and builds the parameterization.

    Args:
        parameterization: None or a `Parameterization`.
        learning_rate: None (the default, 0.05, with a parameterization) or a
            number > 0; must be None without a parameterization.
        wrt_tensor: the optimizer's wrt tensor (must be the input).
        input_tensor: the model's symbolic input.
        data_format: the input's data format.

    Returns:
        `(parameterization, learning rate as a float or None)`.

    Raises:
        TypeError: for a parameterization of the wrong type or a
            non-numeric learning rate.
        ValueError: for a learning rate without a parameterization or <= 0,
            a `wrt_tensor` with a parameterization, or an input the
            parameterization cannot represent.
    """
    if parameterization is None:
        if learning_rate is not None:
            raise ValueError(
                "`learning_rate` needs a `parameterization`: keras-vis's update has no step "
                f"size. Received: learning_rate={learning_rate!r}, parameterization=None"
            )
        return None, None
    if not isinstance(parameterization, Parameterization):
        raise TypeError(
            "`parameterization` must be None or a Parameterization (PixelImage, "
            f"FourierImage). Received: parameterization={parameterization!r}"
        )
    if wrt_tensor is not input_tensor:
        raise ValueError(
            "`wrt_tensor` cannot be used with a `parameterization`: the gradient goes to "
            f"the parameter. Received: wrt_tensor={wrt_tensor.name!r}, "
            f"parameterization={parameterization!r}"
        )
    rate = DEFAULT_LEARNING_RATE if learning_rate is None else learning_rate
    rate = check_real(rate, "learning_rate", min_value=0, min_inclusive=False)
    parameterization.build(tuple(input_tensor.shape), data_format)
    return parameterization, rate
