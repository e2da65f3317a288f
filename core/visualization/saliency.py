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

import numbers
import weakref

import keras
import numpy as np

from ..attribution import checks
from ..attribution.engine import Attributor
from ..losses import _check_filter_indices

_ENGINES = weakref.WeakKeyDictionary()  # model -> {layer index: Attributor}


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


def seed_batch(seed_input, input_shape):
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
    x, unbatched = seed_batch(seed_input, engine.input_shape)
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
        import matplotlib.cm
        from vis_widgets.core.visualization import visualize_cam

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
    x, unbatched = seed_batch(seed_input, engine.input_shape)
    maps = engine.attribute(
        x,
        _weights(filter_indices, engine, x.shape[0]),
        method="gradcam",
        layer=penultimate_layer_idx,
        backprop_modifier=backprop_modifier,
        grad_modifier=grad_modifier,
    )
    return maps[0] if unbatched else maps


def __getattr__(name):
    """keras-vis's module path of the `_with_losses` forms (they live in `with_losses`)."""
    if name in ("visualize_saliency_with_losses", "visualize_cam_with_losses"):
        from . import with_losses  # imported late: it imports this module

        return getattr(with_losses, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["visualize_cam", "visualize_saliency"]
