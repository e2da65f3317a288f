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
`RandomRotate`, in `vis_widgets.core.random_transforms`) are
`AffineTransform`s: each run of consecutive ones is composed into one affine
map per sample and applied as ONE bilinear resampling whose output has the
model's input size, so the model always receives its own input shape.

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

import tensorflow as tf

from .input_modifiers import InputModifier

__all__ = ["Affine", "AffineTransform", "Transform", "apply_transforms"]


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
