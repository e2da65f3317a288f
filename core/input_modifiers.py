"""Input modifiers: transforms applied around each gradient step (keras-vis `input_modifiers`).

`pre` runs before the forward pass, in list order; `post` runs after the
update, in reverse order. Both take and return tensors and are traced into
the optimizer's compiled step. Modifiers that act inside the gradient tape,
between the image and the model, are `Transform`s (`vis_widgets.core.transforms`);
with a parameterization every modifier acts there (`pre` only).
"""

import keras
import numpy as np
import tensorflow as tf

from .validation import check_amounts

__all__ = ["IdentityKey", "InputModifier", "Jitter"]


class IdentityKey:
    """A hashable stand-in for an object, equal only to itself: it keys by identity.

    It holds a reference to the object, so the object's `id()` cannot be
    reused by another object while the key is alive (a bare `id()` could).

    Example:
        >>> a, b = [1], [1]
        >>> IdentityKey(a) == IdentityKey(a), IdentityKey(a) == IdentityKey(b)
        (True, False)
    """

    __slots__ = ("obj",)

    def __init__(self, obj):
        self.obj = obj

    def __hash__(self):
        return id(self.obj)

    def __eq__(self, other):
        return isinstance(other, IdentityKey) and other.obj is self.obj

    def __repr__(self):
        return f"IdentityKey({type(self.obj).__name__} at {id(self.obj):#x})"


class InputModifier:
    """Base class: `pre(x)` before the forward pass, `post(x)` after the update.

    The optimizer traces its compiled step with the modifier instances of
    the first call and reuses the trace for every later call whose
    modifiers have the same `trace_key()`s. By default a key is the
    instance itself, so an instance never stands in for another: settings
    kept in plain Python attributes are always honoured (a new instance
    costs one trace).

    A modifier whose tunable state all lives in the `tf.Variable`s listed by
    `variables` may opt in to sharing one trace across its instances by
    returning a key without the instance, e.g. `(type(self),)`, as `Jitter`
    and the transforms do: when a later `minimize` gets another instance of
    the same kind, its `variables` are copied into the traced one inside
    the compiled step at every iteration (and its other state through
    `load_state` before and after the run), so nothing is retraced.

    Within one traced step, `pre` may leave state on the instance for
    `post` to read (`Jitter` keeps its offsets so).

    Example:
        ```python
        class Flip(InputModifier):
            def pre(self, x):
                return tf.reverse(x, axis=[2])

            def post(self, x):
                return tf.reverse(x, axis=[2])
        ```
    """

    def build(self, input_shape, data_format):
        """Checks the modifier against the input before a run (not traced).

        Args:
            input_shape: the seed's shape, batch axis included.
            data_format: the optimizer's data format.
        """

    def prepare_trace(self):
        """Called once, not traced, before a compiled step is traced with this instance.

        Create TensorFlow state the traced step needs here (e.g. a random
        generator), so tracing creates no variable (default: nothing).
        """

    def pre(self, x):
        """Returns the input fed to the forward pass (default: unchanged)."""
        return x

    def post(self, x):
        """Returns the input after the update (default: unchanged)."""
        return x

    @property
    def variables(self):
        """The `tf.Variable`s holding the modifier's tunable state.

        The optimizer passes them into its compiled step at every iteration,
        so a change made during a run takes effect at the next iteration.
        """
        return []

    def load_state(self, other):
        """Copies `other`'s internal (non-tunable) state, e.g. a random generator's.

        Called once before and after a run when `other` stands in for the
        modifier the step was traced with (default: nothing to copy).
        """

    def trace_key(self):
        """What must match for two modifiers to share one traced step.

        Default: the instance itself (held by `IdentityKey`), so no other
        instance shares its trace. Override only when `variables` and
        `load_state` carry everything that differs between instances.
        """
        return (type(self), IdentityKey(self))


class Jitter(InputModifier):
    """Rolls the input by a random offset each iteration, for crisper images.

    Each iteration draws one integer offset per image dimension uniformly in
    `[-j, j]` (both ends included) from a `tf.random.Generator` and rolls the
    image circularly (`tf.roll`); the batch and channel axes never move, and
    every sample of a batch gets the same offsets. A value < 1 is a fraction
    of that dimension (`j = int(dim * value)`), a value >= 1 is a number of
    pixels (`j = int(value)`).

    Differs from keras-vis: `post` rolls back the same offsets, so the image
    stays registered (keras-vis never undid its jitter, and its scipy `wrap`
    mode repeated an edge row instead of shifting circularly).

    The amount lives in a `tf.Variable`: `jitter.jitter = 0.1` during a run
    takes effect at the next iteration, without retracing.

    Args:
        jitter: a number, or one number per image dimension (e.g. `(2, 4)`
            for rows and columns), each >= 0.
        seed: an int for reproducible offsets, or None to draw one from numpy's
            global random state (so `np.random.seed(...)` or
            `keras.utils.set_random_seed(...)` makes a whole run reproducible).
        data_format: the input's data format; default: the optimizer's.

    Raises:
        ValueError: for negative amounts, or (at `minimize`) one amount per
            dimension that does not match the input's image dimensions.

    Example:
        ```python
        opt.minimize(input_modifiers=[Jitter(0.05)])
        ```
    """

    def __init__(self, jitter=0.05, seed=None, data_format=None):
        values = check_amounts(jitter, "jitter", min_value=0)
        self._amount = tf.Variable(
            values, shape=tf.TensorShape([None]), trainable=False, name="jitter"
        )
        if seed is None:  # follow numpy's global state, as the optimizer's random seed does
            seed = int(np.random.randint(2**31 - 1))
            self.seed = None
        else:
            self.seed = seed
        self._generator = tf.random.Generator.from_seed(seed)
        self.data_format = data_format
        self._built_format = None
        self._offsets = None

    @property
    def jitter(self):
        """The current amount: a float, or a tuple with one float per image dimension."""
        values = self._amount.numpy()
        return float(values[0]) if values.size == 1 else tuple(float(v) for v in values)

    @jitter.setter
    def jitter(self, value):
        self._amount.assign(check_amounts(value, "jitter", min_value=0))

    @property
    def variables(self):
        """`[amount]`: a float32 variable of one value or one per image dimension."""
        return [self._amount]

    def load_state(self, other):
        """Takes over `other`'s random generator state, so its `seed` is honoured."""
        self._generator.reset(other._generator.state)

    def trace_key(self):
        """Jitters share a step when their data formats match (amounts are copied in)."""
        return (type(self), self.data_format)

    def _image_axes(self, rank):
        data_format = self.data_format or self._built_format or keras.config.image_data_format()
        first = 2 if data_format == "channels_first" else 1
        return list(range(first, first + rank - 2))

    def build(self, input_shape, data_format):
        """Checks that the input has image dimensions and the amount fits them."""
        self._built_format = data_format
        dims = len(self._image_axes(len(input_shape)))
        size = int(tf.size(self._amount))
        if dims < 1:
            raise ValueError(
                "Jitter needs an input with image dimensions between the batch and "
                f"channel axes. Received: input shape {tuple(input_shape)}"
            )
        if size not in (1, dims):
            raise ValueError(
                f"`jitter` must be one number or {dims} (one per image dimension) for an "
                f"input of shape {tuple(input_shape)}. Received: jitter={self.jitter!r}"
            )

    def pre(self, x):
        """Rolls `x` by fresh random offsets and remembers them for `post`."""
        axes = self._image_axes(x.shape.rank)
        dims = tf.cast(tf.gather(tf.shape(x), axes), tf.float32)
        amount = tf.broadcast_to(self._amount, [len(axes)])
        reach = tf.floor(tf.where(amount < 1.0, dims * amount, amount))
        draw = self._generator.uniform([len(axes)], dtype=tf.float32)
        offsets = tf.cast(tf.floor(draw * (2.0 * reach + 1.0)) - reach, tf.int32)
        self._offsets = offsets
        return tf.roll(x, shift=offsets, axis=axes)

    def post(self, x):
        """Rolls `x` back by the offsets of the last `pre`."""
        if self._offsets is None:
            return x
        axes = self._image_axes(x.shape.rank)
        return tf.roll(x, shift=-self._offsets, axis=axes)

    def get_config(self):
        """Returns the constructor arguments."""
        return {"jitter": self.jitter, "seed": self.seed, "data_format": self.data_format}

    def __repr__(self):
        return f"Jitter(jitter={self.jitter!r})"
