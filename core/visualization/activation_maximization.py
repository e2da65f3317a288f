"""keras-vis's one-call entry points: `visualize_activation` and its `_with_losses` form."""

import numpy as np

from .. import backprop_modifiers
from ..losses import ActivationMaximization
from ..optimizer import Optimizer
from ..regularizers import LPNorm, TotalVariation
from ..utils import check_range, to_channels_last


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
    if isinstance(layer_idx, bool) or not isinstance(layer_idx, (int, np.integer)):
        raise TypeError(f"`layer_idx` must be an int. Received: {layer_idx!r}")
    if not -n <= layer_idx < n:
        raise ValueError(
            f"`layer_idx` must index `model.layers` ({n} layers: -{n} to {n - 1}). "
            f"Received: {layer_idx}"
        )
    if backprop_modifier is not None:
        model = backprop_modifiers.get(backprop_modifier)(model)
    x = model.inputs[0]
    losses = [
        (ActivationMaximization(model.layers[layer_idx], filter_indices), act_max_weight),
        (LPNorm(x), lp_norm_weight),
        (TotalVariation(x), tv_weight),
    ]
    return visualize_activation_with_losses(
        x,
        losses,
        wrt_tensor,
        seed_input,
        input_range,
        grad_modifier=grad_modifier,
        **minimize_kwargs,
    )
