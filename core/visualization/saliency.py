"""keras-vis's attention maps: `visualize_saliency`, `visualize_cam` (and `_with_losses`).

Names, signatures and defaults are keras-vis master's; every call runs
through the compiled attribution engine (`vis_widgets.core.attribution`),
one engine per model and layer, so repeated calls reuse one traced function
(keras-vis built a new graph at every call: its memory and time grew with
the number of calls). Semantics kept: the target is
`ActivationMaximization(model.layers[layer_idx], filter_indices)` weighted
by -1 (the maps show what *raises* the output), `filter_indices=None` is the
mean of the whole output and a list is the sum of its indices; one
forward/backward pass on the raw gradient (no normalisation);
`grad_modifier` on the raw gradient; saliency without `keepdims` is the max
over the channel axis; maps min-max normalized into [0, 1]; Grad-CAM
weights are the spatial mean of the gradient at the penultimate output,
`ReLU(sum_c w_c A_c)` upsampled to the input's spatial size.

Deliberate differences from keras-vis:
    - a batch of N seeds returns N maps `(N, ...)`, each normalized on its
      own, with its own Grad-CAM weights (keras-vis returned sample 0 only,
      normalized the batch jointly and averaged the CAM weights over it); a
      single seed without a batch axis returns one map without it;
    - the Grad-CAM layer for `penultimate_layer_idx=None` is the input of
      the head's global pooling or flatten (nested models searched), never a
      1x1 map: keras-vis's "last Conv or Pooling layer" picks a wrong layer
      on most `keras.applications` models;
    - no sign flip when every gradient is negative (keras-vis divided by
      the plain max): an all-non-positive CAM is all zeros, with a warning;
    - CAMs are upsampled with `tf.image.resize` (bilinear) in the graph,
      not scipy's cubic spline (no ringing);
    - for a rank-2 input `(N, features)` the saliency keeps its features
      (keras-vis reduced them to one number per sample); a 1-D input
      `(N, steps, channels)` loses its channel axis as images do.
"""

import collections
import numbers
import weakref

import keras
import numpy as np
import tensorflow as tf

from ..attribution import checks
from ..attribution import methods as methods_lib
from ..attribution.engine import Attributor
from ..losses import ActivationMaximization, Loss, _check_filter_indices
from ..optimizer import Optimizer

_ENGINES = weakref.WeakKeyDictionary()  # model -> {layer index: Attributor}
_TENSOR_CACHE = collections.OrderedDict()  # (input tensor, layer, ...) -> engine or Optimizer
_TENSOR_CACHE_SIZE = 8


def _layer_index(model, layer_idx, name="layer_idx"):
    n = len(model.layers)
    if isinstance(layer_idx, bool) or not isinstance(layer_idx, numbers.Integral):
        raise TypeError(f"`{name}` must be an int. Received: {name}={layer_idx!r}")
    if not -n <= layer_idx < n:
        raise ValueError(
            f"`{name}` must index `model.layers` ({n} layers: -{n} to {n - 1}). "
            f"Received: {name}={layer_idx}"
        )
    return int(layer_idx) % n


def _engine(model, layer_idx):
    if not isinstance(model, keras.Model):
        raise TypeError(f"`model` must be a Keras model. Received: model={model!r}")
    index = _layer_index(model, layer_idx)
    per_model = _ENGINES.setdefault(model, {})
    if index not in per_model:
        per_model[index] = Attributor(model, output_layer=index, pre_activation=False, _weak=True)
    return per_model[index]


def _seed(seed_input, input_shape):
    """keras-vis's seed handling: a batch axis added, a channels_last seed moved if needed."""
    seed = checks.as_array(seed_input, "seed_input")
    sample = tuple(input_shape[1:])
    if keras.config.image_data_format() == "channels_first" and seed.ndim in (
        len(sample),
        len(sample) + 1,
    ):
        first = seed.ndim - len(sample)  # the channel axis of a channels_first seed
        if seed.shape[first] != sample[0] and seed.shape[-1] != sample[-1]:
            seed = np.moveaxis(seed, -1, first)
    return checks.images(seed, input_shape, "seed_input")


def _weights(filter_indices, engine, n):
    """The `(n, C)` target weights of keras-vis's `ActivationMaximization(layer, indices)`."""
    c = engine.num_classes
    indices = _check_filter_indices(filter_indices, c, engine.target.name)
    row = np.full(c, 1.0 / c, np.float32) if indices is None else np.zeros(c, np.float32)
    for idx in indices or ():
        row[idx] += 1.0
    return np.tile(row, (n, 1))


def visualize_saliency(
    model,
    layer_idx,
    filter_indices,
    seed_input,
    wrt_tensor=None,
    backprop_modifier=None,
    grad_modifier="absolute",
    keepdims=False,
):
    """Returns the saliency map of `filter_indices` of `model.layers[layer_idx]` (keras-vis).

    Args:
        model: a Keras model (not modified).
        layer_idx: the index in `model.layers` of the layer to explain.
        filter_indices: an index, a list (their sum) or None (the mean of
            the whole output).
        seed_input: one input (no batch axis) or a batch.
        wrt_tensor: None (the input) or a tensor of the model (a layer's
            output): the gradient is taken with respect to it.
        backprop_modifier: None, 'guided', 'rectified' ('relu', 'deconv')
            or a callable `model -> model` (see `backprop_modifiers`).
        grad_modifier: applied to the raw gradient (a `grad_modifiers` name,
            a callable or None).
        keepdims: keep the channel axis instead of its max.

    Returns:
        The map(s) normalized into [0, 1]: `(H, W)` for one seed (`(H, W, C)`
        with keepdims), `(N, ...)` for a batch, each sample on its own.

    Example:
        ```python
        from vis_widgets.core.utils import utils
        from vis_widgets.core.visualization import visualize_saliency

        layer_idx = utils.find_layer_idx(model, "predictions")
        grads = visualize_saliency(model, layer_idx, filter_indices=3, seed_input=img)
        ```
    """
    engine = _engine(model, layer_idx)
    x, unbatched = _seed(seed_input, engine.input_shape)
    maps = engine.attribute(
        x,
        _weights(filter_indices, engine, x.shape[0]),
        method="saliency",
        backprop_modifier=backprop_modifier,
        grad_modifier=grad_modifier,
        keepdims=keepdims,
        wrt_layer=wrt_tensor,
    )
    return maps[0] if unbatched else maps


def visualize_cam(
    model,
    layer_idx,
    filter_indices,
    seed_input,
    penultimate_layer_idx=None,
    backprop_modifier=None,
    grad_modifier=None,
):
    """Returns the Grad-CAM of `filter_indices` of `model.layers[layer_idx]` (keras-vis).

    With `backprop_modifier='guided'` the gradient from the output to the
    penultimate layer goes through guided ReLUs, as in keras-vis; that is
    not the paper's Guided Grad-CAM (see `Attributor`'s `guided_gradcam`).

    Args:
        model: a Keras model (not modified).
        layer_idx: the index in `model.layers` of the layer to explain.
        filter_indices: an index, a list (their sum) or None (the whole output).
        seed_input: one input (no batch axis) or a batch.
        penultimate_layer_idx: the index in `model.layers` of the layer whose
            output feature maps are weighted; None picks the input of the
            head's global pooling or flatten (`Attributor.cam_layer`).
        backprop_modifier: None, 'guided', 'rectified' ('relu', 'deconv')
            or a callable `model -> model`.
        grad_modifier: applied to the gradient at the penultimate layer.

    Returns:
        The map(s) in [0, 1] at the input's spatial size: `(H, W)` for one
        seed, `(N, H, W)` for a batch.

    Raises:
        ValueError: for a penultimate layer after `layer_idx` or without
            spatial extent, and the errors of `visualize_saliency`.

    Example:
        ```python
        cam = visualize_cam(model, -1, filter_indices=3, seed_input=img)
        heatmap = np.uint8(matplotlib.cm.jet(cam)[..., :3] * 255)
        ```
    """
    engine = _engine(model, layer_idx)
    if penultimate_layer_idx is not None:
        penultimate = _layer_index(model, penultimate_layer_idx, "penultimate_layer_idx")
        if penultimate > _layer_index(model, layer_idx):
            raise ValueError(
                "`penultimate_layer_idx` needs to be before `layer_idx`. Received: "
                f"penultimate_layer_idx={penultimate_layer_idx}, layer_idx={layer_idx}"
            )
    x, unbatched = _seed(seed_input, engine.input_shape)
    maps = engine.attribute(
        x,
        _weights(filter_indices, engine, x.shape[0]),
        method="gradcam",
        layer=penultimate_layer_idx,
        backprop_modifier=backprop_modifier,
        grad_modifier=grad_modifier,
    )
    return maps[0] if unbatched else maps


# ------------------------------------------------------------------------- the _with_losses forms
def _check_losses(losses):
    if isinstance(losses, Loss) or not isinstance(losses, (list, tuple)) or not losses:
        raise TypeError(f"`losses` must be a list of (Loss, weight) tuples. Received: {losses!r}")
    for item in losses:
        if not (isinstance(item, (list, tuple)) and len(item) == 2 and isinstance(item[0], Loss)):
            raise TypeError(
                f"Each item of `losses` must be a (Loss, weight) tuple. Received: {item!r}"
            )
    return list(losses)


def _cached(key, make):
    """A small LRU of engines and optimizers built from tensors (keys hold the objects)."""
    for stored_key, value in _TENSOR_CACHE.items():
        if len(stored_key) == len(key) and all(a is b for a, b in zip(stored_key, key)):
            _TENSOR_CACHE.move_to_end(stored_key)
            return value
    value = make()
    _TENSOR_CACHE[key] = value
    while len(_TENSOR_CACHE) > _TENSOR_CACHE_SIZE:
        _TENSOR_CACHE.popitem(last=False)
    return value


def _activation_losses(input_tensor, losses):
    """`(engine, weights row)` when every loss is an ActivationMaximization of one layer."""
    if not all(type(loss) is ActivationMaximization for loss, _ in losses):
        return None
    first = losses[0][0]
    if any(
        loss.layer is not first.layer or loss.pre_activation != first.pre_activation
        for loss, _ in losses
    ) or not all(isinstance(w, numbers.Real) for _, w in losses):
        return None

    def make():
        sub = keras.Model(input_tensor, first.layer.output)
        return Attributor(sub, pre_activation=first.pre_activation)

    engine = _cached((input_tensor, first.layer, first.pre_activation), make)
    c = engine.num_classes
    row = np.zeros(c, np.float32)
    for loss, weight in losses:  # loss = -sum_idx mean(y_idx): d(w loss) = -w d(mean y_idx)
        if loss.filter_indices is None:
            row -= float(weight) / c
        for idx in loss.filter_indices or ():
            row[idx] -= float(weight)
    return engine, row


def _optimizer(input_tensor, losses, wrt_tensor):
    """An Optimizer cached on these very loss objects (their weights are set without retracing)."""

    def make():
        return Optimizer(input_tensor, losses, wrt_tensor=wrt_tensor, norm_grads=False)

    opt = _cached((input_tensor, wrt_tensor, *[loss for loss, _ in losses]), make)
    for index, (_, weight) in enumerate(losses):
        opt.set_weight(index, weight)
    return opt


def visualize_saliency_with_losses(
    input_tensor, losses, seed_input, wrt_tensor=None, grad_modifier="absolute", keepdims=False
):
    """Returns the normalized gradient of the weighted `losses` (keras-vis).

    Losses that are all `ActivationMaximization`s of one layer run through
    the compiled attribution engine (a class change never retraces); other
    losses (your own `Loss` subclasses) run through an `Optimizer` cached on
    those loss objects: reuse them across calls to reuse its compiled step.

    Args:
        input_tensor: the model's symbolic input, `model.inputs[0]`.
        losses: a list of `(Loss, weight)` tuples; the gradient is that of
            `sum(weight * loss)` (keras-vis's `visualize_saliency` passes
            `[(ActivationMaximization(layer, idx), -1)]`).
        seed_input: one input or a batch.
        wrt_tensor: None (the input) or a tensor of the graph.
        grad_modifier: applied to the raw gradient.
        keepdims: keep the channel axis instead of its max.

    Returns:
        The map(s) in [0, 1], one per sample (no batch axis for one seed).
    """
    losses = _check_losses(losses)
    fast = _activation_losses(input_tensor, losses) if wrt_tensor is None else None
    if fast is not None:
        engine, row = fast
        x, unbatched = _seed(seed_input, engine.input_shape)
        maps = engine.attribute(
            x, np.tile(row, (x.shape[0], 1)), grad_modifier=grad_modifier, keepdims=keepdims
        )
        return maps[0] if unbatched else maps
    opt = _optimizer(input_tensor, losses, wrt_tensor)
    x, unbatched = _seed(seed_input, tuple(input_tensor.shape))
    _, grads, _ = opt.minimize(x, max_iter=1, grad_modifier=grad_modifier, verbose=False)
    g = tf.constant(grads)
    axis = 1 if opt.data_format == "channels_first" else -1
    maps = methods_lib.normalize(methods_lib.reduce_channels(g, axis, keepdims)).numpy()
    return maps[0] if unbatched else maps


def visualize_cam_with_losses(
    input_tensor, losses, seed_input, penultimate_layer, grad_modifier=None
):
    """Returns the Grad-CAM of the weighted `losses` at `penultimate_layer` (keras-vis).

    Args:
        input_tensor: the model's symbolic input, `model.inputs[0]`.
        losses: a list of `(Loss, weight)` tuples (see
            `visualize_saliency_with_losses`).
        seed_input: one input or a batch.
        penultimate_layer: the layer whose output feature maps are weighted.
        grad_modifier: applied to the gradient at that layer.

    Returns:
        The map(s) in [0, 1] at the input's spatial size, one per sample.
    """
    losses = _check_losses(losses)
    if not isinstance(penultimate_layer, keras.layers.Layer):
        raise TypeError(
            f"`penultimate_layer` must be a Keras layer. Received: {penultimate_layer!r}"
        )
    fast = _activation_losses(input_tensor, losses)
    if fast is not None:
        engine, row = fast
        x, unbatched = _seed(seed_input, engine.input_shape)
        maps = engine.attribute(
            x,
            np.tile(row, (x.shape[0], 1)),
            method="gradcam",
            layer=penultimate_layer,
            grad_modifier=grad_modifier,
        )
        return maps[0] if unbatched else maps
    opt = _optimizer(input_tensor, losses, penultimate_layer.output)
    x, unbatched = _seed(seed_input, tuple(input_tensor.shape))
    _, grads, value = opt.minimize(x, max_iter=1, grad_modifier=grad_modifier, verbose=False)
    data_format = getattr(penultimate_layer, "data_format", None) or opt.data_format
    axis = 1 if data_format == "channels_first" else -1
    a = methods_lib.channels_last(tf.constant(value, tf.float32), axis)
    cam = tf.nn.relu(
        methods_lib.cam_from_gradients(
            "gradcam", a, methods_lib.channels_last(tf.constant(grads, tf.float32), axis)
        )
    )
    in_axis = 1 if opt.data_format == "channels_first" else -1
    size = methods_lib.spatial_size(tf.constant(x), in_axis)
    maps = methods_lib.normalize(methods_lib.resize(cam, size)).numpy()
    return maps[0] if unbatched else maps


__all__ = [
    "visualize_cam",
    "visualize_cam_with_losses",
    "visualize_saliency",
    "visualize_saliency_with_losses",
]
