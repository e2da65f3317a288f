"""Presets: keras-vis's three losses for one layer's filters, the usual starting point."""

import numbers

from vis_widgets.core import ActivationMaximization, LPNorm, TotalVariation


def keras_vis_losses(
    model,
    layer,
    filter_indices=None,
    act_max_weight=1.0,
    lp_norm_weight=10.0,
    tv_weight=10.0,
    pre_activation=None,
):
    """Returns `[(loss, weight)]`: the activation, L-6 norm and total variation losses.

    The losses are `ActivationMaximization(layer, filter_indices)`,
    `LPNorm(input)` and `TotalVariation(input)`, as `visualize_activation`.

    Args:
        model: a single-input Keras model.
        layer: the layer, its name, or its index in `model.layers`.
        filter_indices: an int, a list of ints, or None.
        act_max_weight: the activation loss's weight.
        lp_norm_weight: the L-6 norm's weight.
        tv_weight: the total variation's weight.
        pre_activation: maximize the values before the layer's activation;
            None: True for a softmax layer (the usual trap).

    Example:
        ```python
        losses = keras_vis_losses(model, "predictions", 3)
        opt = Optimizer(model.inputs[0], losses, input_range=(0.0, 1.0))
        ```
    """
    if isinstance(layer, str):
        layer = model.get_layer(layer)
    elif isinstance(layer, numbers.Integral) and not isinstance(layer, bool):
        layer = model.layers[layer]
    if pre_activation is None:
        pre_activation = is_softmax(layer)
    x = model.inputs[0]
    return [
        (ActivationMaximization(layer, filter_indices, pre_activation), act_max_weight),
        (LPNorm(x), lp_norm_weight),
        (TotalVariation(x), tv_weight),
    ]


def is_softmax(layer):
    """Whether `layer` ends in a softmax (its logits are what one should maximize)."""
    activation = getattr(layer, "activation", None)
    return getattr(activation, "__name__", "") == "softmax" or type(layer).__name__ == "Softmax"
