"""The traced function of one kind of map: (method, layer, backprop modifier, output options).

`build` traces it once, with an input signature in which the batch size
is unknown: the images, the per-sample target weights, the "use each
sample's top class" flag, the method's numbers and the integrated-gradients
baseline are all inputs, so no later call retraces. `function` returns an
engine's function of a kind (built the first time, then cached in its
`_functions`); `top_k_scores` runs the one traced function of `top_k`.
"""

import types

import tensorflow as tf

from ..compilation import intermediate_gradient_error
from . import methods as m
from . import probes as probes_lib

__all__ = []  # implementation of the Attributor

GRADIENT_MAPS = ("saliency", "input_x_gradient")
NOISY_MAPS = ("smoothgrad", "squaregrad", "vargrad")
SCORE_MAPS = ("scorecam", "faster_scorecam")
# methods that differentiate with respect to a feature map inside the model
INTERMEDIATE_GRADIENTS = ("gradcam", "gradcam++", "layercam", "guided_gradcam")


def axis(data_format, rank):
    """The channel axis of a batched tensor: 1 for channels_first (rank > 2), else -1."""
    return 1 if data_format == "channels_first" and rank > 2 else -1


def function(engine, method, modifier, cam, wrt, options):
    """The engine's function of one kind of map, built (traced) the first time it is asked for.

    Raises:
        ValueError: where the model runs through XLA (channels_first on a CPU
            without NCHW input gradients) and the map needs the gradient of a
            feature map inside the model.
    """
    key = (method, modifier, cam, wrt, options)
    if key not in engine._functions:
        if engine._xla and (wrt is not None or method in INTERMEDIATE_GRADIENTS):
            raise intermediate_gradient_error(
                "`wrt_layer`" if wrt is not None else f"`method={method!r}`"
            )
        if method == "guided_gradcam":
            probes = (probes_lib.probe(engine, None, [cam]), probes_lib.probe(engine, "guided"))
        else:
            extra = [c for c in (cam, wrt) if c is not None]
            probes = (probes_lib.probe(engine, modifier, extra),)
        engine._functions[key] = build(engine, method, probes, cam, wrt, dict(options))
    return engine._functions[key]


def top_k_scores(engine, x):
    """The target's per-class scores of a batch (its softmax for logits), traced once."""
    if "top_k" not in engine._functions:
        forward = probes_lib.probe(engine, None)
        softmax = engine.logits

        def scores(x):
            engine.trace_count += 1
            values = m.per_channel(forward(x)[0], engine.target_axis)
            return tf.nn.softmax(values, axis=-1) if softmax else values

        spec = tf.TensorSpec([None, *engine.input_shape[1:]], tf.float32)
        function = tf.function(scores, input_signature=[spec], autograph=False)
        engine._functions["top_k"] = function.get_concrete_function()
    return engine._functions["top_k"](tf.constant(x)).numpy()


def build(engine, method, probes, cam, wrt, opts):
    """Traces the map's function and returns the concrete function.

    Args:
        engine: the `Attributor` (its axes, chunk size, noise generator and
            trace counter).
        method: the method's name.
        probes: `(forward,)`, or `(vanilla forward, guided forward)` for
            Guided Grad-CAM; a forward maps a batch to `[target, extra...]`.
        cam: the `LayerChoice` of the feature map, or None.
        wrt: the `LayerChoice` the gradient is taken against, or None (input).
        opts: `grad_modifier` (a callable or None), `keepdims`, `normalize`,
            `upsample`, `raw`.
    """
    plan = types.SimpleNamespace(
        method=method,
        forward=probes[0],
        guided=probes[-1],
        opts=opts,
        grad_fn=opts["grad_modifier"],
        cam_axis=None if cam is None else axis(cam.data_format, len(cam.shape)),
        wrt=wrt,
        wrt_axis=None if wrt is None else axis(wrt.data_format, len(wrt.shape)),
        engine=engine,
        ctx=types.SimpleNamespace(
            rng=engine._rng,
            chunk=engine.batch_size,
            target_axis=engine.target_axis,
            input_axis=engine.input_axis,
        ),
    )

    def run(x, weights, auto, params, baseline):
        engine.trace_count += 1  # runs only while tracing
        if method in GRADIENT_MAPS + NOISY_MAPS + ("integrated_gradients",):
            return _gradient_map(plan, x, weights, auto, params, baseline)
        return _class_activation_map(plan, x, weights, auto, params)

    spec = tf.TensorSpec([None, *engine.input_shape[1:]], tf.float32)
    signature = [
        spec,
        tf.TensorSpec([None, engine.num_classes], tf.float32),
        tf.TensorSpec([], tf.bool),
        tf.TensorSpec([4], tf.float32),  # noise, samples, steps, max_n
        spec,
    ]
    # Traced once, here; calling the concrete function skips tf.function's argument
    # matching (and its retracing heuristics, which would count the engine's functions
    # as retraces of one another).
    function = tf.function(run, input_signature=signature, autograph=False)
    return function.get_concrete_function()


def _post(plan, attr, grad_fn, channel_axis=None):
    """Gradient maps: modifier, channel max (unless keepdims), normalization."""
    if plan.opts["raw"]:
        return attr
    if grad_fn is not None:
        attr = grad_fn(attr)
    channel_axis = plan.ctx.input_axis if channel_axis is None else channel_axis
    attr = m.reduce_channels(attr, channel_axis, plan.opts["keepdims"])
    return m.normalize(attr) if plan.opts["normalize"] else attr


def _clean_weights(plan, x, weights, auto):
    """The given weights, or each clean image's top class (one extra forward pass)."""
    axis_ = plan.ctx.target_axis
    return tf.cond(
        auto,
        lambda: m.predicted_weights(plan.forward(x)[0], weights, True, axis_),
        lambda: weights,
    )


def _gradient_map(plan, x, weights, auto, params, baseline):
    method, ctx, grad_fn = plan.method, plan.ctx, plan.grad_fn
    flags = tf.zeros(tf.shape(x)[:1], tf.bool)
    if method in GRADIENT_MAPS:
        with tf.GradientTape() as tape:
            tape.watch(x)
            outs = plan.forward(x)
            weights = m.predicted_weights(outs[0], weights, auto, ctx.target_axis)
            s = m.score(outs[0], weights, ctx.target_axis)
        attr = tape.gradient(s, x if plan.wrt is None else outs[1])
        if method == "input_x_gradient":
            attr = x * attr
        return _post(plan, attr, grad_fn, plan.wrt_axis), weights, flags
    weights = _clean_weights(plan, x, weights, auto)
    if method in NOISY_MAPS:
        samples = tf.cast(params[1], tf.int32)
        per_copy = (lambda g: g) if plan.opts["raw"] or grad_fn is None else grad_fn
        s_mod, s1, s2 = m.noisy_sums(plan.forward, x, weights, ctx, samples, params[0], per_copy)
        count = tf.cast(samples, tf.float32)
        if method == "smoothgrad":  # the modifier went on each noisy gradient
            return _post(plan, s_mod / count, None), weights, flags
        mean2 = s2 / count
        attr = mean2 if method == "squaregrad" else mean2 - tf.square(s1 / count)
        return _post(plan, attr, grad_fn), weights, flags
    steps = tf.cast(params[2], tf.int32)
    total = m.integrated_sum(plan.forward, x, weights, ctx, baseline, steps)
    attr = (x - baseline) * total / tf.cast(steps, tf.float32)
    return _post(plan, attr, grad_fn), weights, flags


def _class_activation_map(plan, x, weights, auto, params):
    method, ctx, opts = plan.method, plan.ctx, plan.opts
    if method in SCORE_MAPS:
        y, a = plan.forward(x)
        weights = m.predicted_weights(y, weights, auto, ctx.target_axis)
        a = m.channels_last(tf.cast(a, tf.float32), plan.cam_axis)
        max_n = tf.cast(params[3], tf.int32) if method == "faster_scorecam" else None
        softmax = plan.engine.logits
        channel_weights = m.score_weights(plan.forward, x, weights, a, ctx, max_n, softmax)
        cam = m.combine(a, channel_weights)
    else:
        with tf.GradientTape() as tape:
            y, a = plan.forward(x)
            weights = m.predicted_weights(y, weights, auto, ctx.target_axis)
            s = m.score(y, weights, ctx.target_axis)
        g = tape.gradient(s, a)
        if plan.grad_fn is not None and method != "guided_gradcam":
            g = plan.grad_fn(g)
        a = m.channels_last(tf.cast(a, tf.float32), plan.cam_axis)
        g = m.channels_last(tf.cast(g, tf.float32), plan.cam_axis)
        cam = m.cam_from_gradients("gradcam" if method == "guided_gradcam" else method, a, g)
    flags = tf.reduce_max(cam, axis=list(range(1, cam.shape.rank))) <= 0
    size = m.spatial_size(x, ctx.input_axis)
    if method == "guided_gradcam":  # guided backprop x the upsampled Grad-CAM
        gb, _ = m.input_gradients(plan.guided, x, weights, ctx.target_axis)
        up = m.resize(tf.nn.relu(cam), size)
        up = up[:, None] if ctx.input_axis == 1 else up[..., None]
        return _post(plan, gb * up, plan.grad_fn), weights, flags
    if not opts["raw"]:
        cam = tf.nn.relu(cam)
    if opts["upsample"]:
        cam = m.resize(cam, size)
    if opts["normalize"] and not opts["raw"]:
        cam = m.normalize(cam)
    return cam, weights, flags
