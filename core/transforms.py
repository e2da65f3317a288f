"""Transforms: random changes to the image INSIDE the gradient, between the image and the model.

Lucid's "transformation robustness": at every iteration the model sees a
randomly padded, shifted, scaled and rotated copy of the image, so a picture
only scores well if it works under all of them, which removes most of the
high-frequency patterns pixel-space optimization produces. The gradient
flows back through the transform to the image; nothing is undone afterwards
(there is no `post`: the optimized image itself is never moved).

A `Transform` is an `InputModifier` the optimizer applies inside its
gradient tape, after every plain modifier's `pre`, in list order, on either
path. Input losses (`LPNorm`, `TotalVariation`) read the image before the
transforms. The geometric ones (`Pad`, `RandomJitter`, `RandomScale`,
`RandomRotate`) are `AffineTransform`s: each run of consecutive ones is
composed into one affine map per sample and applied as ONE bilinear
resampling whose output has the model's input size, so the model always
receives its own input shape.

Coordinates: along each image axis a canvas of `n` pixels has pixel
centres at 0..n-1 and its centre at (n-1)/2. `Pad(p)` grows the canvas by
`2p` (filled with mid-grey, the middle of the optimizer's input range);
`RandomJitter(d)` crops it by `d` at a random offset in `[0, d]` per axis
(Lucid's crop-style jitter: a shift of up to `d/2` either way, offsets
continuous); `RandomScale` and `RandomRotate` resize or turn the content
about the canvas centre, keeping the canvas; at the end the canvas is
resized to the model's input size. Lucid's standard set on a 128 px image
(pad 12, jitter 8, scale, rotate, jitter 4) thus shows the model the
image on a 140 px canvas resized to 128.

Randomness: every sample of a batch draws its own amounts each iteration
from the transform's `tf.random.Generator` (seeded from numpy's global state
unless `seed` is given). Amounts live in `tf.Variable`s: `jitter.amount = 4`
during a run takes effect at the next iteration without retracing, and a new
instance passed to a later `minimize` reuses the traced step (its amounts
and generator state are copied in).
"""

import math

import numpy as np
import tensorflow as tf

from .input_modifiers import InputModifier
from .validation import check_amounts, check_int

__all__ = [
    "LUCID_TRANSFORMS",
    "AffineTransform",
    "Pad",
    "RandomJitter",
    "RandomRotate",
    "RandomScale",
    "Transform",
    "apply_transforms",
    "standard_transforms",
]


class Transform(InputModifier):
    """Base class: `transform(x, fill)` runs inside the gradient tape, random per sample.

    `pre` and `post` are the identity: the optimizer calls `transform` on the
    image between the optimized state and the model. A subclass implements
    `transform` with TensorFlow ops (it is traced into the compiled step).

    Example:
        ```python
        class Noise(Transform):
            def transform(self, x, fill):
                return x + tf.random.normal(tf.shape(x), stddev=2.0)
        ```
    """

    data_format = None

    def build(self, input_shape, data_format):
        """Records the optimizer's data format (the image axes depend on it)."""
        self.data_format = data_format

    def transform(self, x, fill):
        """Returns what the model sees.

        Args:
            x: the image batch in input units and the optimizer's data format.
            fill: the value of pixels coming from outside the image (the
                middle of the optimizer's input range).
        """
        raise NotImplementedError(f"{type(self).__name__} must implement transform(x, fill).")


class AffineTransform(Transform):
    """A geometric transform, composed with its neighbours into one resampling.

    A subclass implements `inverse(batch, size)`: per sample, the 3x3 matrix
    mapping its output canvas coordinates `(column, row, 1)` to its input
    canvas coordinates, and the output canvas size `(rows, columns)`. Only
    batches of 2-D images are supported.

    Example:
        ```python
        class Shift(AffineTransform):  # one pixel to the right, every sample
            def inverse(self, batch, size):
                one, zero = tf.ones([batch]), tf.zeros([batch])
                rows = [one, zero, -one, zero, one, zero, zero, zero, one]
                return tf.reshape(tf.stack(rows, axis=1), [-1, 3, 3]), size
        ```
    """

    def build(self, input_shape, data_format):
        """Checks the input is a batch of 2-D images (batch, H, W, C) or (batch, C, H, W)."""
        super().build(input_shape, data_format)
        if len(input_shape) != 4:
            raise ValueError(
                f"{type(self).__name__} needs a batch of 2-D images with channels, "
                f"(batch, height, width, channels). Received: input shape {tuple(input_shape)}"
            )

    def inverse(self, batch, size):
        """Returns `(matrices (batch, 3, 3), new size (2,) float32)` for input canvas `size`."""
        raise NotImplementedError(f"{type(self).__name__} must implement inverse(batch, size).")

    def transform(self, x, fill):
        """Applies this transform alone (the model's input size is kept)."""
        return apply_transforms([self], x, fill, self.data_format)


class _Amount(AffineTransform):
    """Shared plumbing of the built-in transforms: one validated amount variable."""

    _name = "amount"

    def __init__(self, amount):
        self._amount = tf.Variable(self._check(amount), trainable=False, name=self._name)

    def _check(self, value):
        raise NotImplementedError

    @property
    def amount(self):
        """The current amount (a float; `RandomScale`: a `(min, max)` pair)."""
        values = self._amount.numpy()
        return float(values[0]) if values.size == 1 else tuple(float(v) for v in values)

    @amount.setter
    def amount(self, value):
        self._amount.assign(self._check(value))

    @property
    def variables(self):
        """`[amount]`: copied into the traced step at every iteration."""
        return [self._amount]

    def trace_key(self):
        """Instances of one class share a trace: the amount is a variable, copied in."""
        return (type(self),)

    def get_config(self):
        """Returns the constructor arguments."""
        return {self._name: self.amount}

    def __repr__(self):
        return f"{type(self).__name__}({self._name}={self.amount!r})"


class _RandomAmount(_Amount):
    """An amount and a `tf.random.Generator` (seeded from numpy's state unless `seed`)."""

    def __init__(self, amount, seed):
        super().__init__(amount)
        if seed is None:  # follow numpy's global state, as Jitter and the random seed do
            seed = int(np.random.randint(2**31 - 1))
            self.seed = None
        else:
            self.seed = check_int(seed, "seed")
        self._generator = tf.random.Generator.from_seed(seed)

    def load_state(self, other):
        """Takes over `other`'s random generator state, so its `seed` is honoured."""
        self._generator.reset(other._generator.state)

    def get_config(self):
        """Returns the constructor arguments."""
        return {**super().get_config(), "seed": self.seed}


def _matrices(rows):
    """Stacks 9 per-sample tensors (row-major) into `(batch, 3, 3)` matrices."""
    return tf.reshape(tf.stack(rows, axis=1), [-1, 3, 3])


def _translation(tx, ty):
    one, zero = tf.ones_like(tx), tf.zeros_like(tx)
    return _matrices([one, zero, tx, zero, one, ty, zero, zero, one])


def _about_centre(linear, size, batch):
    """`in = c + L (out - c)` for per-sample 2x2 `linear` (a, b, c, d) and canvas centre c."""
    a, b, c, d = linear
    cy, cx = (size[0] - 1.0) / 2.0, (size[1] - 1.0) / 2.0
    tx = cx - a * cx - b * cy
    ty = cy - c * cx - d * cy
    one, zero = tf.ones([batch]), tf.zeros([batch])
    return _matrices([a, b, tx, c, d, ty, zero, zero, one])


class Pad(_Amount):
    """Pads the image by `pad` pixels on every side with mid-grey (Lucid's `pad`).

    Args:
        pad: pixels added on each side, a number >= 0 (fractions allowed).

    Example:
        ```python
        opt.minimize(input_modifiers=[Pad(2), RandomJitter(2)])
        ```
    """

    _name = "pad"

    def __init__(self, pad=12):
        super().__init__(pad)

    def _check(self, value):
        return check_amounts(value, "pad", min_value=0, size=1)

    def inverse(self, batch, size):
        """A translation by `-pad`; the canvas grows by `2 pad`."""
        pad = self._amount[0]
        shift = tf.fill([batch], -pad)
        return _translation(shift, shift), size + 2.0 * pad


class RandomJitter(_RandomAmount):
    """Crops the canvas by `jitter` pixels at a random offset per sample (Lucid's `jitter`).

    Each iteration each sample draws offsets uniformly in `[0, jitter]`
    (continuous) per axis: the content moves by up to `jitter / 2` pixels
    either way and the canvas shrinks by `jitter`.

    Args:
        jitter: pixels cropped, a number >= 0.
        seed: an int for reproducible draws, or None to draw one from
            numpy's global random state.

    Example:
        ```python
        opt.minimize(input_modifiers=[RandomJitter(4)])
        ```
    """

    _name = "jitter"

    def __init__(self, jitter=8, seed=None):
        super().__init__(jitter, seed)

    def _check(self, value):
        return check_amounts(value, "jitter", min_value=0, size=1)

    def inverse(self, batch, size):
        """A translation by the drawn offsets; the canvas shrinks by `jitter`."""
        jitter = self._amount[0]
        offsets = self._generator.uniform([2, batch]) * jitter
        return _translation(offsets[1], offsets[0]), tf.maximum(size - jitter, 1.0)


class RandomScale(_RandomAmount):
    """Scales the content about the centre by a random factor per sample (Lucid's `random_scale`).

    The factor is drawn uniformly in `[min, max]`; the canvas keeps its size
    (zooming in crops, zooming out shows the fill).

    Args:
        scale: a `(min, max)` pair with `0 < min <= max <= 10`, or a number
            `s` in `[0, 1)` meaning `(1 - s, 1 + s)`. Default: Lucid's
            factors span, `(0.9, 1.1)`.
        seed: an int for reproducible draws, or None (numpy's global state).

    Example:
        ```python
        scale = RandomScale((0.9, 1.1))
        scale.amount = 0.2  # (0.8, 1.2) from the next iteration
        ```
    """

    _name = "scale"

    def __init__(self, scale=(0.9, 1.1), seed=None):
        super().__init__(scale, seed)

    def _check(self, value):
        values = check_amounts(value, "scale", min_value=0, max_value=10)
        if values.size == 1:
            if values[0] >= 1:
                raise ValueError(
                    "`scale` must be a (min, max) pair or a number in [0, 1). "
                    f"Received: scale={value!r}"
                )
            values = np.array([1 - values[0], 1 + values[0]], np.float32)
        if values.size != 2 or not 0 < values[0] <= values[1]:
            raise ValueError(
                "`scale` must be a (min, max) pair with 0 < min <= max <= 10, or a number in "
                f"[0, 1). Received: scale={value!r}"
            )
        return values

    def inverse(self, batch, size):
        """`in = c + (out - c) / factor` about the canvas centre."""
        lo, hi = self._amount[0], self._amount[1]
        inv = 1.0 / (lo + (hi - lo) * self._generator.uniform([batch]))
        zero = tf.zeros([batch])
        return _about_centre((inv, zero, zero, inv), size, batch), size


class RandomRotate(_RandomAmount):
    """Rotates the content about the centre by a random angle per sample (Lucid's `random_rotate`).

    The angle is drawn uniformly in `[-degrees, degrees]` (Lucid drew
    integer degrees with extra weight on 0); the canvas keeps its size and
    the corners show the fill; bilinear (Lucid: nearest).

    Args:
        degrees: the largest angle, in `[0, 180]`.
        seed: an int for reproducible draws, or None (numpy's global state).

    Example:
        ```python
        opt.minimize(input_modifiers=[RandomRotate(10)])
        ```
    """

    _name = "degrees"

    def __init__(self, degrees=10, seed=None):
        super().__init__(degrees, seed)

    def _check(self, value):
        return check_amounts(value, "degrees", min_value=0, max_value=180, size=1)

    def inverse(self, batch, size):
        """`in = c + R(-angle) (out - c)` about the canvas centre."""
        limit = self._amount[0] * (math.pi / 180.0)
        angle = (2.0 * self._generator.uniform([batch]) - 1.0) * limit
        cos, sin = tf.cos(angle), tf.sin(angle)
        return _about_centre((cos, sin, -sin, cos), size, batch), size


def _resample(group, x, fill, data_format):
    """Applies a run of affine transforms as one resampling to the input's own size."""
    if not group:
        return x
    channels_first = data_format == "channels_first"
    images = tf.transpose(x, [0, 2, 3, 1]) if channels_first else x
    shape = tf.shape(images)
    batch, out_size = shape[0], tf.cast(shape[1:3], tf.float32)
    total = tf.eye(3, batch_shape=[batch])
    size = out_size
    for transform in group:
        inverse, size = transform.inverse(batch, size)
        total = total @ inverse
    # the last canvas, of `size`, resized to the model's input size (pixel centres aligned)
    sy, sx = size[0] / out_size[0], size[1] / out_size[1]
    one, zero = tf.ones([batch]), tf.zeros([batch])
    first_row = [one * sx, zero, one * (0.5 * sx - 0.5)]
    second_row = [zero, one * sy, one * (0.5 * sy - 0.5)]
    resize = _matrices([*first_row, *second_row, zero, zero, one])
    total = tf.reshape(total @ resize, [-1, 9])[:, :8]
    out = tf.raw_ops.ImageProjectiveTransformV3(
        images=images,
        transforms=total,
        output_shape=shape[1:3],
        fill_value=tf.cast(fill, images.dtype),
        interpolation="BILINEAR",
        fill_mode="CONSTANT",
    )
    out = tf.ensure_shape(out, images.shape)
    return tf.transpose(out, [0, 3, 1, 2]) if channels_first else out


def apply_transforms(modifiers, x, fill, data_format):
    """Applies modifiers in list order inside the tape: what the model sees.

    Consecutive `AffineTransform`s become one resampling; another `Transform`
    runs its `transform`; any other modifier runs its `pre` (the
    parameterized path's rule; the keras-vis path passes transforms only).

    Args:
        modifiers: the input modifiers, in order.
        x: the image batch, in input units and `data_format`.
        fill: the value of pixels from outside the image.
        data_format: the image's data format.
    """
    group = []
    for modifier in modifiers:
        if isinstance(modifier, AffineTransform):
            group.append(modifier)
            continue
        x = _resample(group, x, fill, data_format)
        group = []
        x = modifier.transform(x, fill) if isinstance(modifier, Transform) else modifier.pre(x)
    return _resample(group, x, fill, data_format)


# Lucid's standard_transforms (lucid/optvis/transform.py), whose pixel amounts are for 128 px.
LUCID_TRANSFORMS = {
    "pad": 12.0,
    "jitter": 8.0,
    "scale": (0.9, 1.1),
    "degrees": 10.0,
    "second_jitter": 4.0,
    "reference_size": 128,
}


def standard_transforms(
    size,
    seed=None,
    pad=LUCID_TRANSFORMS["pad"],
    jitter=LUCID_TRANSFORMS["jitter"],
    scale=LUCID_TRANSFORMS["scale"],
    degrees=LUCID_TRANSFORMS["degrees"],
    second_jitter=LUCID_TRANSFORMS["second_jitter"],
    reference_size=LUCID_TRANSFORMS["reference_size"],
):
    """Returns Lucid's standard transforms with pixel amounts scaled to a `size`-pixel image.

    Lucid's set, for 128 px: `Pad(12)`, `RandomJitter(8)`,
    `RandomScale((0.9, 1.1))`, `RandomRotate(10)`, `RandomJitter(4)`. The pad
    and jitters are multiplied by `size / reference_size` (16 px: 1.5, 1,
    and 0.5); scale and rotation are not. The amounts can be changed (the
    recipes keep theirs as data).

    Args:
        size: the image's side in pixels (the larger one), an int >= 1.
        seed: None (each transform seeded from numpy's global state) or an
            int (the k-th transform of the list gets `seed + k`).
        pad: the pad, in pixels of a `reference_size` image.
        jitter: the first jitter, in pixels of a `reference_size` image.
        scale: `RandomScale`'s `(min, max)` (or a number, see there).
        degrees: `RandomRotate`'s largest angle.
        second_jitter: the last jitter, in pixels of a `reference_size` image.
        reference_size: the image size the pixel amounts are given for.

    Returns:
        A new list of five transforms.

    Example:
        ```python
        opt.minimize(max_iter=256, input_modifiers=standard_transforms(32))
        ```
    """
    size = check_int(size, "size", min_value=1)
    reference_size = check_int(reference_size, "reference_size", min_value=1)
    if seed is not None:
        seed = check_int(seed, "seed")
    k = size / reference_size

    def s(i):
        return None if seed is None else seed + i

    return [
        Pad(pad * k),
        RandomJitter(jitter * k, seed=s(1)),
        RandomScale(scale, seed=s(2)),
        RandomRotate(degrees, seed=s(3)),
        RandomJitter(second_jitter * k, seed=s(4)),
    ]
