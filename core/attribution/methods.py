"""The attribution methods as TensorFlow code, traced into the engine's compiled functions.

Shapes: `x` is the input batch `(N, ...)`; `weights` is `(N, C)`, the
per-sample weight of each of the target tensor's C channels (a one-hot row
picks a class); the per-sample score is
`sum_c weights[n, c] * mean_spatial(target[n, ..., c])`, keras-vis's
`ActivationMaximization` weighted -1, one score per sample. Rows of a
batched pass (noisy copies, interpolation steps, masked inputs) run through
`chunk_loop` in chunks of a fixed size, inside the same compiled call.
"""

import tensorflow as tf

__all__ = []  # implementation of the Attributor

EPSILON = 1e-7


# ------------------------------------------------------------------------- tensors
def channels_last(t, channel_axis):
    """Moves axis 1 to the end when `channel_axis` is 1 (channels_first, rank > 2)."""
    if channel_axis == 1 and t.shape.rank > 2:
        return tf.experimental.numpy.moveaxis(t, 1, -1)
    return t


def per_channel(y, channel_axis):
    """`(N, C)`: the spatial mean of each channel of the target tensor."""
    y = channels_last(tf.cast(y, tf.float32), channel_axis)
    spatial = list(range(1, y.shape.rank - 1))
    return tf.reduce_mean(y, axis=spatial) if spatial else y


def score(y, weights, channel_axis):
    """`(N,)`: the weighted per-sample score."""
    return tf.reduce_sum(per_channel(y, channel_axis) * weights, axis=-1)


def predicted_weights(y, weights, auto, channel_axis):
    """The given weights, or (when `auto`) a one-hot row of each sample's top channel."""
    values = tf.stop_gradient(per_channel(y, channel_axis))
    top = tf.one_hot(tf.argmax(values, axis=-1), tf.shape(values)[-1], dtype=tf.float32)
    return tf.where(auto, top, weights)


def normalize(m):
    """Per-sample min-max normalization into [0, 1] (keras-vis's epsilon, 1e-7)."""
    axes = list(range(1, m.shape.rank))
    lo = tf.reduce_min(m, axis=axes, keepdims=True)
    hi = tf.reduce_max(m, axis=axes, keepdims=True)
    return (m - lo) / (hi - lo + EPSILON)


def reduce_channels(g, channel_axis, keepdims):
    """keras-vis's max over the channel axis (rank-2 inputs keep their features)."""
    if keepdims or g.shape.rank <= 2:
        return g
    return tf.reduce_max(g, axis=channel_axis)


def spatial_size(x, channel_axis):
    """The input's spatial dimensions, a 1-D int tensor."""
    shape = tf.shape(x)
    return shape[2:] if channel_axis == 1 else shape[1:-1]


def resize(maps, size):
    """Bilinear resize of `(N, *spatial)` maps (1, 2 or 3 spatial axes) to `size`."""
    rank = maps.shape.rank - 1
    if rank == 1:
        out = tf.image.resize(maps[:, :, None, None], tf.stack([size[0], 1]), "bilinear")
        return out[:, :, 0, 0]
    if rank == 2:
        return tf.image.resize(maps[..., None], size, "bilinear")[..., 0]
    if rank == 3:  # separable: (h, w) per depth slice, then depth
        n, d = tf.shape(maps)[0], tf.shape(maps)[1]
        hw = tf.image.resize(
            tf.reshape(maps, tf.concat([[n * d], tf.shape(maps)[2:], [1]], 0)), size[1:]
        )
        hw = tf.reshape(hw, tf.stack([n, d, size[1], size[2]]))
        t = tf.transpose(hw, [0, 3, 1, 2])  # (N, W, d, H)
        t = tf.image.resize(tf.reshape(t, tf.stack([n * size[2], d, size[1], 1])), size[:2])
        t = tf.reshape(t, tf.stack([n, size[2], size[0], size[1]]))
        return tf.transpose(t, [0, 2, 3, 1])
    raise ValueError(f"Maps with {rank} spatial axes cannot be resized (1 to 3 are supported).")


def chunk_loop(total, chunk, body, init):
    """Runs `body(rows, *acc) -> acc` over `tf.range(total)` in chunks; returns `acc`."""
    n_chunks = (total + chunk - 1) // chunk

    def step(i, *acc):
        rows = tf.range(i * chunk, tf.minimum((i + 1) * chunk, total))
        return (i + 1, *body(rows, *acc))

    out = tf.while_loop(
        lambda i, *_: i < n_chunks, step, (tf.constant(0), *init), parallel_iterations=1
    )
    return out[1:]


# ------------------------------------------------------------------------- gradients
def input_gradients(forward, x, weights, target_axis):
    """`(d score / d x, target)` for a batch."""
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = forward(x)[0]
        s = score(y, weights, target_axis)
    return tape.gradient(s, x), y


def noisy_sums(forward, x, weights, ctx, samples, noise, modifier):
    """SmoothGrad's sums over `samples` noisy copies: `(sum m(g), sum g, sum g**2)` per sample."""
    n = tf.shape(x)[0]
    axes = list(range(1, x.shape.rank))
    sigma = noise * (tf.reduce_max(x, axis=axes) - tf.reduce_min(x, axis=axes))
    zeros = tf.zeros_like(x)

    def body(rows, s_mod, s1, s2):
        sample = rows % n
        xs = tf.gather(x, sample)
        bshape = tf.concat([tf.shape(rows), tf.ones([x.shape.rank - 1], tf.int32)], 0)
        xs += ctx.rng.normal(tf.shape(xs)) * tf.reshape(tf.gather(sigma, sample), bshape)
        g, _ = input_gradients(forward, xs, tf.gather(weights, sample), ctx.target_axis)
        seg = lambda v: tf.math.unsorted_segment_sum(v, sample, n)  # noqa: E731
        return s_mod + seg(modifier(g)), s1 + seg(g), s2 + seg(g * g)

    return chunk_loop(n * samples, ctx.chunk, body, (zeros, zeros, zeros))


def integrated_sum(forward, x, weights, ctx, baseline, steps):
    """The sum over `steps` midpoint-rule steps of the gradient on the path baseline -> x."""
    n = tf.shape(x)[0]

    def body(rows, acc):
        sample = rows % n
        alpha = (tf.cast(rows // n, tf.float32) + 0.5) / tf.cast(steps, tf.float32)
        alpha = tf.reshape(alpha, tf.concat([tf.shape(rows), [1] * (x.shape.rank - 1)], 0))
        b = tf.gather(baseline, sample)
        xs = b + alpha * (tf.gather(x, sample) - b)
        g, _ = input_gradients(forward, xs, tf.gather(weights, sample), ctx.target_axis)
        return (acc + tf.math.unsorted_segment_sum(g, sample, n),)

    return chunk_loop(n * steps, ctx.chunk, body, (tf.zeros_like(x),))[0]


# ------------------------------------------------------------------------- class activation maps
def combine(a, channel_weights):
    """`sum_k w[n, k] * A[n, ..., k]` for channels-last feature maps."""
    spatial = a.shape.rank - 2
    return tf.reduce_sum(a * tf.reshape(channel_weights, [-1, *([1] * spatial), a.shape[-1]]), -1)


def cam_from_gradients(method, a, g):
    """The (pre-ReLU) Grad-CAM, Grad-CAM++ or LayerCAM map from channels-last `a` and `g`."""
    spatial = list(range(1, a.shape.rank - 1))
    if method == "gradcam":
        return combine(a, tf.reduce_mean(g, axis=spatial))
    if method == "gradcam++":
        g2 = g * g
        denominator = 2.0 * g2 + tf.reduce_sum(a, axis=spatial, keepdims=True) * g2 * g
        alpha = g2 / tf.where(tf.equal(denominator, 0.0), tf.ones_like(denominator), denominator)
        return combine(a, tf.reduce_sum(alpha * tf.nn.relu(g), axis=spatial))
    if method == "layercam":
        return tf.reduce_sum(tf.nn.relu(g) * a, axis=-1)
    raise ValueError(f"Unknown gradient CAM method: {method!r}")


def score_weights(forward, x, weights, a, ctx, max_n, softmax):
    """Score-CAM's `(N, K)` channel weights: the score of `x` masked by each upsampled channel.

    Channels whose map is identically zero add nothing to the CAM and are
    skipped; with `max_n > 0` only the `max_n` channels of largest spatial
    standard deviation are scored (Faster-Score-CAM, per sample).
    """
    n, k = tf.shape(a)[0], a.shape[-1]
    spatial = list(range(1, a.shape.rank - 1))
    maps = tf.experimental.numpy.moveaxis(a, -1, 1)  # (N, K, *spatial)
    if max_n is None:
        pairs = tf.where(tf.reduce_max(tf.abs(a), axis=spatial) > 0)
    else:
        top = tf.math.top_k(tf.math.reduce_std(a, axis=spatial), k=max_n).indices
        pairs = tf.stack([tf.repeat(tf.range(n), max_n), tf.reshape(top, [-1])], axis=1)
    pairs = tf.cast(pairs, tf.int32)
    size = spatial_size(x, ctx.input_axis)

    def body(rows, acc):
        index = tf.gather(pairs, rows)
        sample = index[:, 0]
        masks = normalize(resize(tf.gather_nd(maps, index), size))
        masks = masks[:, None] if ctx.input_axis == 1 else masks[..., None]
        y = forward(tf.gather(x, sample) * masks)[0]
        if softmax:
            y = tf.nn.softmax(tf.cast(y, tf.float32), axis=-1)
        s = score(y, tf.gather(weights, sample), ctx.target_axis)
        return (tf.tensor_scatter_nd_add(acc, index, s),)

    init = (tf.zeros(tf.stack([n, k]), tf.float32),)
    return chunk_loop(tf.shape(pairs)[0], ctx.chunk, body, init)[0]
