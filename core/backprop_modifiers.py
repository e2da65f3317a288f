"""Backprop modifiers: guided and rectified (deconvnet) backprop (`vis.backprop_modifiers`).

A backprop modifier maps a model to a new model with the same forward pass
and other gradients through its ReLUs. With `y = relu(x)` and `dy` the
gradient arriving from above:

| rule | gradient passed down |
|---|---|
| vanilla | `f'(x) dy` |
| `'guided'` (Springenberg et al.) | `f'(x) relu(dy)`: for a ReLU `(x > 0)(dy > 0) dy` |
| `'rectified'`, alias `'relu'`, `'deconv'` (Zeiler and Fergus) | `relu(dy)`: no forward gate |

`f'` is the ReLU's own derivative, so a `ReLU(max_value=6)` (MobileNetV2)
gates on `0 < x < 6`, a `threshold` or `negative_slope` is respected, and
the gates keep the gradient's dtype (mixed precision works).

The rewrite reaches every ReLU of a Functional or Sequential model, nested
models included: `activation='relu'` (also `tf.nn.relu`, `relu6`,
`keras.ops.relu`) on any layer, `Activation('relu')`, `ReLU` layers and
ops-level `keras.ops.relu` / `relu6` / `keras.activations.relu` written
straight into a functional graph. What it cannot reach is reported with a
`UserWarning` that names it: ReLUs inside a `Lambda` or a custom layer's
`call`, and non-ReLU activations (`silu`, `gelu`, `elu`, `leaky_relu`...),
for which guided backprop is not defined and which keep their vanilla
gradient. `report(modified_model)` returns the same facts as a record.

The user's model is never changed: the modified model calls the user's own
layers (so it shares their weights and never goes stale when the model is
trained further) and puts a wrapper of the same name in place of each
rewritten layer, so `modified.layers[i]` is the rewritten `model.layers[i]`.
Modified models are cached per model and rule.

Example:
    ```python
    from vis_widgets.core import backprop_modifiers

    guided = backprop_modifiers.get("guided")(model)
    with tf.GradientTape() as tape:
        x = tf.constant(images)
        tape.watch(x)
        score = guided(x)[:, 3]
    grads = tape.gradient(score, x)  # guided-backprop gradients of class 3
    ```
"""

import warnings
import weakref

import keras

from .attribution import graph as graph_lib
from .attribution.rules import (  # noqa: F401 (public names of this module)
    MODES,
    RELU_FUNCTIONS,
    ModifiedLayer,
    ModifiedOperation,
    Report,
    Rule,
    rewrite,
)

__all__ = ["deconv", "get", "guided", "rectified", "relu", "report"]

_CACHE = weakref.WeakKeyDictionary()  # model -> {mode: modified model}
_REPORTS = weakref.WeakKeyDictionary()  # modified model -> Report


def warn_report(report, stacklevel=3):
    """Warns with the report's message when something was left vanilla."""
    message = report.message()
    if message:
        warnings.warn(message, UserWarning, stacklevel=stacklevel + 1)


def _modify(model, mode):
    if not isinstance(model, keras.Model):
        raise TypeError(f"`model` must be a Keras model. Received: model={model!r}")
    per_model = _CACHE.setdefault(model, {})
    if mode not in per_model:
        rebuilt, report = rewrite(model, mode, flatten=False)
        if isinstance(model, keras.Sequential):
            modified = keras.Sequential(
                [rebuilt.input, *[_replacement(rebuilt, layer) for layer in model.layers]],
                name=model.name,
            )
        else:
            modified = rebuilt.model(model.name)
        per_model[mode] = modified
        _REPORTS[modified] = report
    modified = per_model[mode]
    warn_report(_REPORTS[modified], stacklevel=3)
    return modified


def _replacement(rebuilt, layer):
    """The layer the rebuild used in place of a Sequential's layer."""
    _, _, outputs = rebuilt.calls[(layer.name,)]
    op = graph_lib.producer(graph_lib.single_tensor(outputs))
    return op if op is not None else layer


def guided(model):
    """Returns a model whose ReLUs pass `f'(x) relu(dy)` backward (guided backprop).

    Args:
        model: a Functional or Sequential Keras model (not modified).

    Returns:
        A new model with the same forward pass, sharing the model's weights.

    Example:
        ```python
        guided_model = guided(model)
        ```
    """
    return _modify(model, "guided")


def rectified(model):
    """Returns a model whose ReLUs pass `relu(dy)` backward (deconvnet, Zeiler and Fergus).

    Args:
        model: a Functional or Sequential Keras model (not modified).

    Returns:
        A new model with the same forward pass, sharing the model's weights.

    Example:
        ```python
        deconv_model = rectified(model)
        ```
    """
    return _modify(model, "rectified")


relu = deconv = rectified

_BY_NAME = {"guided": guided, "rectified": rectified, "relu": rectified, "deconv": rectified}
NAMES = tuple(sorted(_BY_NAME))


def canonical(identifier):
    """Returns `None`, `"guided"`, `"rectified"` or the callable, checking the identifier."""
    if identifier is None or callable(identifier):
        return identifier
    if isinstance(identifier, str):
        if identifier not in _BY_NAME:
            raise ValueError(
                f"Unknown `backprop_modifier`. Expected one of {', '.join(NAMES)}, None or a "
                f"callable model -> model. Received: backprop_modifier={identifier!r}"
            )
        return "guided" if identifier == "guided" else "rectified"
    raise TypeError(
        "`backprop_modifier` must be None, a name or a callable model -> model. "
        f"Received: backprop_modifier={identifier!r}"
    )


def get(identifier):
    """Returns the backprop modifier for `identifier` (keras-vis).

    Args:
        identifier: `'guided'`, `'rectified'` (aliases `'relu'`, `'deconv'`),
            None (no modifier: returns None), or a callable `model -> model`
            (returned as is).

    Returns:
        A callable `model -> modified model`, or None.

    Raises:
        ValueError: for an unknown name (the message lists the valid ones).
        TypeError: for anything else.

    Example:
        >>> get("deconv") is rectified
        True
    """
    name = canonical(identifier)
    if name is None or callable(name):
        return name
    return _BY_NAME[name]


def report(modified_model):
    """Returns the `Report` of a model made by `guided` or `rectified` (None otherwise).

    Example:
        ```python
        print(report(guided(model)).replaced)
        ```
    """
    return _REPORTS.get(modified_model)
