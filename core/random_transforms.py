"""The built-in transforms: Lucid's pad, jitter, scale and rotation, and its standard set.

Each is an `AffineTransform` (see `vis_widgets.core.transforms` for how they
run: inside the gradient tape, random per sample, composed into one
resampling to the model's input size) whose amount lives in a `tf.Variable`
(`t.amount = ...` during a run acts at the next iteration, validated) and
whose draws come from its own `tf.random.Generator`.
"""

import math

import numpy as np
import tensorflow as tf

from .transforms import Affine, AffineTransform
from .validation import check_amounts, check_int

__all__ = [
    "LUCID_TRANSFORMS",
    "Pad",
    "RandomJitter",
    "RandomRotate",
    "RandomScale",
    "standard_transforms",
]


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
