"""keras-vis's `visualize_saliency_with_losses` and `visualize_cam_with_losses`.

They take a symbolic input and `(Loss, weight)` pairs instead of a model.
Losses that are all `ActivationMaximization`s of one layer run through the
compiled attribution engine, built once per input tensor and layer (a class
change never retraces); any other losses run through an `Optimizer` (one
forward/backward pass, `norm_grads=False`, as keras-vis) cached on those very
loss objects. The batch and CAM semantics are `visualize_saliency`'s and
`visualize_cam`'s (see `vis_widgets.core.visualization.saliency`).
"""

import collections
import numbers

import keras
import numpy as np
import tensorflow as tf

from ..attribution import methods as methods_lib
from ..attribution.engine import Attributor
from ..losses import ActivationMaximization, Loss
from ..optimizer import Optimizer
from .saliency import seed_batch

_TENSOR_CACHE = collections.OrderedDict()  # (input tensor, layer, ...) -> engine or Optimizer
_TENSOR_CACHE_SIZE = 8


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
        x, unbatched = seed_batch(seed_input, engine.input_shape)
        maps = engine.attribute(
            x, np.tile(row, (x.shape[0], 1)), grad_modifier=grad_modifier, keepdims=keepdims
        )
        return maps[0] if unbatched else maps
    opt = _optimizer(input_tensor, losses, wrt_tensor)
    x, unbatched = seed_batch(seed_input, tuple(input_tensor.shape))
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
        x, unbatched = seed_batch(seed_input, engine.input_shape)
        maps = engine.attribute(
            x,
            np.tile(row, (x.shape[0], 1)),
            method="gradcam",
            layer=penultimate_layer,
            grad_modifier=grad_modifier,
        )
        return maps[0] if unbatched else maps
    opt = _optimizer(input_tensor, losses, penultimate_layer.output)
    x, unbatched = seed_batch(seed_input, tuple(input_tensor.shape))
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


__all__ = ["visualize_cam_with_losses", "visualize_saliency_with_losses"]
