"""keras-vis's one-call entry points, `visualize_activation` and its `_with_losses` form.

Also `keras_vis_losses`, keras-vis's three losses for one layer's filters,
which `visualize_activation`, the dashboard and the recipes build on.
"""

import keras
import numpy as np

from .. import backprop_modifiers
from ..losses import ActivationMaximization
from ..optimizer import Optimizer
from ..regularizers import LPNorm, TotalVariation
from ..utils import check_range, to_channels_last
from ..validation import check_bool, check_int, is_int


def _find_layer(model, layer):
    """`layer` as a Layer of `model`: given as the layer, its name or its index."""
    if isinstance(layer, keras.layers.Layer):
        return layer
    if isinstance(layer, str):
        return model.get_layer(layer)  # ValueError naming the missing layer
    if is_int(layer):
        n = len(model.layers)
        if not -n <= layer < n:
            raise ValueError(
                f"`layer` must index `model.layers` ({n} layers: -{n} to {n - 1}). "
                f"Received: layer={layer}"
            )
        return model.layers[layer]
    raise TypeError(
        f"`layer` must be a Keras layer, a layer name or an index. Received: layer={layer!r}"
    )


def is_softmax(layer):
    """True for a softmax layer, or a layer whose activation is softmax."""
    if isinstance(layer, keras.layers.Softmax):
        return True
    return getattr(getattr(layer, "activation", None), "__name__", "") == "softmax"


def keras_vis_losses(
    model,
    layer,
    filter_indices=None,
    act_max_weight=1,
    lp_norm_weight=10,
    tv_weight=10,
    pre_activation=None,
):
    """Returns keras-vis's three losses for some filters of a layer, as `[(loss, weight)]`.

    `ActivationMaximization(layer, filter_indices)`, `LPNorm(input)` (p=6)
    and `TotalVariation(input)` (beta=2), weighted 1, 10 and 10 by default,
    as `visualize_activation` builds them.

    Args:
        model: a single-input Keras model.
        layer: the layer, its name, or its index in `model.layers`.
        filter_indices: an int, a list of ints, or None (the whole output).
        act_max_weight: the activation loss's weight.
        lp_norm_weight: the L-6 norm's weight.
        tv_weight: the total variation's weight.
        pre_activation: maximize the values before the layer's activation;
            None: True for a softmax layer (the usual trap), else False.

    Returns:
        A new list of three `(Loss, weight)` tuples.

    Raises:
        ValueError: for an unknown layer name or an index out of range.
        TypeError: for a `layer` of another type.

    Example:
        ```python
        losses = keras_vis_losses(model, "predictions", 3)
        opt = Optimizer(model.inputs[0], losses, input_range=(0.0, 1.0))
        ```
    """
    layer = _find_layer(model, layer)
    if pre_activation is None:
        pre_activation = is_softmax(layer)
    pre_activation = check_bool(pre_activation, "pre_activation")
    x = model.inputs[0]
    return [
        (ActivationMaximization(layer, filter_indices, pre_activation), act_max_weight),
        (LPNorm(x), lp_norm_weight),
        (TotalVariation(x), tv_weight),
    ]


def visualize_activation_with_losses(
    input_tensor, losses, wrt_tensor=None, seed_input=None, input_range=(0, 255), **minimize_kwargs
):
    """Minimizes `losses` and returns the image (keras-vis).

    Args:
        input_tensor: the model's symbolic input, `model.inputs[0]`.
        losses: a list of `(Loss, weight)` tuples.
        wrt_tensor: see `Optimizer`.
        seed_input: see `Optimizer.minimize`.
        input_range: the image's range. When both ends are ints, the image
            is clipped to it and returned as uint8.
        **minimize_kwargs: more arguments of `Optimizer.minimize`
            (`max_iter` defaults to 200 and `verbose` to False).

    Returns:
        The optimized image, channels_last (moved for a channels_first input).
    """
    input_range = check_range(input_range)
    kwargs = {"max_iter": 200, "verbose": False, **minimize_kwargs}
    opt = Optimizer(input_tensor, losses, input_range, wrt_tensor=wrt_tensor)
    img = opt.minimize(seed_input=seed_input, **kwargs)[0]
    if all(isinstance(v, int) for v in input_range):
        img = np.clip(img, *input_range).astype("uint8")
    batched = img.ndim == len(input_tensor.shape)
    return to_channels_last(img if batched else img[None], opt.data_format)[
        slice(None) if batched else 0
    ]


def visualize_activation(
    model,
    layer_idx,
    filter_indices=None,
    wrt_tensor=None,
    seed_input=None,
    input_range=(0, 255),
    backprop_modifier=None,
    grad_modifier=None,
    act_max_weight=1,
    lp_norm_weight=10,
    tv_weight=10,
    **minimize_kwargs,
):
    """Generates the input that maximizes some filters of a layer (keras-vis).

    The losses and defaults are keras-vis's: `ActivationMaximization` of
    `model.layers[layer_idx]` weighted 1, `LPNorm` weighted 10 and
    `TotalVariation` weighted 10, 200 iterations, no verbose output.
    To maximize a softmax layer's logits, pass `pre_activation=True`
    through an explicit `ActivationMaximization` and
    `visualize_activation_with_losses`.

    Args:
        model: a single-input Keras model.
        layer_idx: the index of the layer in `model.layers`.
        filter_indices: an int, a list of ints or None (the whole output).
        wrt_tensor: see `Optimizer`.
        seed_input: see `Optimizer.minimize`.
        input_range: the image's range; an int range gives a uint8 image.
        backprop_modifier: None, 'guided', 'rectified' ('relu', 'deconv') or
            a callable `model -> model` (see `backprop_modifiers`): the
            optimization runs on the modified model.
        grad_modifier: see `Optimizer.minimize`.
        act_max_weight: the weight of the activation loss.
        lp_norm_weight: the weight of the L-6 norm.
        tv_weight: the weight of the total variation.
        **minimize_kwargs: more arguments of `Optimizer.minimize`.

    Returns:
        The image, channels_last, e.g. uint8 `(H, W, C)` for one sample.

    Example:
        ```python
        img = visualize_activation(model, -1, filter_indices=3, max_iter=100)
        ```
    """
    n = len(model.layers)
    check_int(layer_idx, "layer_idx")
    if not -n <= layer_idx < n:
        raise ValueError(
            f"`layer_idx` must index `model.layers` ({n} layers: -{n} to {n - 1}). "
            f"Received: {layer_idx}"
        )
    if backprop_modifier is not None:
        model = backprop_modifiers.get(backprop_modifier)(model)
    x = model.inputs[0]
    weights = (act_max_weight, lp_norm_weight, tv_weight)
    # keras-vis maximizes the layer's output as it is, softmax included
    losses = keras_vis_losses(model, layer_idx, filter_indices, *weights, pre_activation=False)
    return visualize_activation_with_losses(
        x,
        losses,
        wrt_tensor,
        seed_input,
        input_range,
        grad_modifier=grad_modifier,
        **minimize_kwargs,
    )
