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
    "Affine",
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

    A subclass implements `inverse(batch, size)`: the `Affine` map from its
    output canvas coordinates to its input canvas coordinates (per sample),
    and the output canvas size `(rows, columns)`. Only batches of 2-D images
    are supported.

    Example:
        ```python
        class Shift(AffineTransform):  # the content moves one pixel to the right
            def inverse(self, batch, size):
                return Affine(tx=-1.0), size
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
        """Returns `(Affine, new size (rows, columns))` for an input canvas of `size`.

        Args:
            batch: the number of samples (a scalar tensor), for per-sample draws.
            size: the input canvas's `(rows, columns)`, floats or scalar tensors.
        """
        raise NotImplementedError(f"{type(self).__name__} must implement inverse(batch, size).")

    def transform(self, x, fill):
        """Applies this transform alone (the model's input size is kept)."""
        return apply_transforms([self], x, fill, self.data_format)


class _Amount(AffineTransform):
    """Shared plumbing of the built-in transforms: one validated amount variable."""

    _name = "amount"

    def __init__(self, amount):
        values = self._check(amount)
        values = values[0] if values.size == 1 else values  # a scalar variable: no slicing
        self._amount = tf.Variable(values, trainable=False, name=self._name)

    def _check(self, value):
        raise NotImplementedError

    @property
    def amount(self):
        """The current amount (a float; `RandomScale`: a `(min, max)` pair)."""
        values = self._amount.numpy().reshape(-1)
        return float(values[0]) if values.size == 1 else tuple(float(v) for v in values)

    @amount.setter
    def amount(self, value):
        self._amount.assign(self._check(value).reshape(self._amount.shape))

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
    """An amount and a `tf.random.Generator` (seeded from numpy's state unless `seed`).

    The generator is created when first needed (by the instance a step is
    traced with): an instance that only stands in for a traced one keeps
    its random state as numpy (its seed, then the state it handed back), so
    making new transforms for every `minimize` stays cheap.
    """

    def __init__(self, amount, seed):
        super().__init__(amount)
        if seed is None:  # follow numpy's global state, as Jitter and the random seed do
            self._seed = int(np.random.randint(2**31 - 1))
            self.seed = None
        else:
            self._seed = self.seed = check_int(seed, "seed")
        self._state = None  # the random state handed back after standing in (numpy)
        self._lazy_generator = None

    @property
    def _generator(self):
        if self._lazy_generator is None:
            generator = tf.random.Generator.from_seed(self._seed)
            if self._state is not None:
                generator.reset(self._state)
            self._lazy_generator = generator
        return self._lazy_generator

    def prepare_trace(self):
        """Creates the random generator before a step is traced with this instance."""
        self._generator  # noqa: B018 (the property creates it)

    def load_state(self, other):
        """Takes over `other`'s random state (so its `seed` is honoured), making no generator."""
        if other._lazy_generator is not None:
            state = other._lazy_generator.state.numpy()
        else:
            state = other._state
        if self._lazy_generator is None:
            self._seed, self._state = other._seed, state
            return
        if state is None:  # what Generator.from_seed(seed) starts from, without its cost
            state = _seed_state(other._seed, self._lazy_generator.state.shape[0])
        self._lazy_generator.reset(state)

    def get_config(self):
        """Returns the constructor arguments."""
        return {**super().get_config(), "seed": self.seed}


def _seed_state(seed, size):
    """A generator's state for an int seed: 64-bit chunks, low first (as TF's from_seed)."""
    chunks = []
    for _ in range(size):
        chunks.append(seed & (2**64 - 1))
        seed >>= 64
    return np.array(chunks, np.uint64).astype(np.int64)


def _mul(x, y):
    """`x * y`, with Python 0.0 and 1.0 folded away (no op for a constant entry)."""
    if isinstance(x, float) and x in (0.0, 1.0):
        return 0.0 if x == 0.0 else y
    if isinstance(y, float) and y in (0.0, 1.0):
        return 0.0 if y == 0.0 else x
    return x * y


def _add(x, y):
    """`x + y`, with a Python 0.0 folded away."""
    if isinstance(x, float) and x == 0.0:
        return y
    if isinstance(y, float) and y == 0.0:
        return x
    return x + y


class Affine:
    """A map of pixel coordinates, per sample: `x_in = a x + b y + tx`, `y_in = c x + d y + ty`.

    `x` is the column, `y` the row. Each coefficient is a Python float (the
    same for every sample, costing no op when it is 0 or 1), a scalar tensor,
    or a `(batch,)` tensor.

    Args:
        a, b, c, d: the linear part (default: the identity).
        tx, ty: the translation (default: none).

    Example:
        >>> Affine(tx=2.0).then(Affine(a=0.5, d=0.5)).coefficients()
        (0.5, 0.0, 2.0, 0.0, 0.5, 0.0)
    """

    def __init__(self, a=1.0, b=0.0, c=0.0, d=1.0, tx=0.0, ty=0.0):
        self.a, self.b, self.c, self.d, self.tx, self.ty = a, b, c, d, tx, ty

    @classmethod
    def about_centre(cls, a, b, c, d, size):
        """The linear map `(a, b; c, d)` about the centre of a canvas of `size` (rows, columns)."""
        cy, cx = (size[0] - 1.0) / 2.0, (size[1] - 1.0) / 2.0
        tx = cx - _add(_mul(a, cx), _mul(b, cy))
        ty = cy - _add(_mul(c, cx), _mul(d, cy))
        return cls(a, b, c, d, tx, ty)

    def then(self, inner):
        """`self(inner(p))`: apply `inner` to the point first, then this map."""
        m = self
        return Affine(
            _add(_mul(m.a, inner.a), _mul(m.b, inner.c)),
            _add(_mul(m.a, inner.b), _mul(m.b, inner.d)),
            _add(_mul(m.c, inner.a), _mul(m.d, inner.c)),
            _add(_mul(m.c, inner.b), _mul(m.d, inner.d)),
            _add(_add(_mul(m.a, inner.tx), _mul(m.b, inner.ty)), m.tx),
            _add(_add(_mul(m.c, inner.tx), _mul(m.d, inner.ty)), m.ty),
        )

    def coefficients(self):
        """`(a, b, tx, c, d, ty)`: the first two rows of the homogeneous matrix."""
        return (self.a, self.b, self.tx, self.c, self.d, self.ty)


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
        pad = self._amount.read_value()
        return Affine(tx=-pad, ty=-pad), (size[0] + 2.0 * pad, size[1] + 2.0 * pad)


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
        jitter = self._amount.read_value()
        rows, cols = tf.unstack(self._generator.uniform([2, batch]) * jitter)
        new_size = (tf.maximum(size[0] - jitter, 1.0), tf.maximum(size[1] - jitter, 1.0))
        return Affine(tx=cols, ty=rows), new_size


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
        lo, hi = tf.unstack(self._amount.read_value())
        inv = 1.0 / (lo + (hi - lo) * self._generator.uniform([batch]))
        return Affine.about_centre(inv, 0.0, 0.0, inv, size), size


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
        limit = self._amount.read_value() * (math.pi / 180.0)
        angle = (2.0 * self._generator.uniform([batch]) - 1.0) * limit
        cos, sin = tf.cos(angle), tf.sin(angle)
        return Affine.about_centre(cos, sin, -sin, cos, size), size


def _resample(group, x, fill, data_format):
    """Applies a run of affine transforms as one resampling to the input's own size."""
    if not group:
        return x
    channels_first = data_format == "channels_first"
    images = tf.transpose(x, [0, 2, 3, 1]) if channels_first else x
    batch = tf.shape(images)[0]
    if None in images.shape[1:3]:  # an input of unknown size: read it at run time
        out_shape = tf.shape(images)[1:3]
        height, width = tf.unstack(tf.cast(out_shape, tf.float32))
    else:
        height, width = (float(d) for d in images.shape[1:3])
        out_shape = tf.constant([int(height), int(width)])
    total, size = Affine(), (height, width)
    for transform in group:
        inverse, size = transform.inverse(batch, size)
        total = total.then(inverse)
    # the last canvas, of `size`, resized to the model's input size (pixel centres aligned)
    sy, sx = size[0] / height, size[1] / width
    total = total.then(Affine(a=sx, d=sy, tx=0.5 * sx - 0.5, ty=0.5 * sy - 0.5))
    rows = [tf.broadcast_to(tf.cast(v, tf.float32), [batch]) for v in total.coefficients()]
    zero = tf.zeros([batch])
    out = tf.raw_ops.ImageProjectiveTransformV3(
        images=images,
        transforms=tf.stack([*rows, zero, zero], axis=1),
        output_shape=out_shape,
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
