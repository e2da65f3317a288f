"""Gradient modifiers (keras-vis's `vis/grad_modifiers.py`), as TensorFlow ops.

A gradient modifier maps the gradient tensor to a new tensor of the same
shape. It runs inside the optimizer's compiled step, after normalisation and
before the callbacks and the update. Each built-in one is a pure function:
it never mutates its input.
"""

import tensorflow as tf

from .utils.utils import EPSILON

__all__ = ["NAMES", "absolute", "get", "invert", "negate", "relu", "small_values"]


def absolute(grads):
    """Returns `|grads|`."""
    return tf.abs(grads)


def negate(grads):
    """Returns `-grads` (maximizes what the losses minimize)."""
    return tf.negative(grads)


def invert(grads):
    """Returns `1 / (grads + 1e-7)`."""
    return 1.0 / (grads + EPSILON)


def relu(grads):
    """Returns `max(grads, 0)`."""
    return tf.nn.relu(grads)


def small_values(grads):
    """Returns `|1 / (grads + 1e-7)|`: large where the gradient is small."""
    return tf.abs(1.0 / (grads + EPSILON))


_BY_NAME = {
    "absolute": absolute,
    "negate": negate,
    "invert": invert,
    "relu": relu,
    "small_values": small_values,
}

NAMES = tuple(sorted(_BY_NAME))


def get(identifier):
    """Returns the gradient modifier for `identifier`.

    Args:
        identifier: None (no modifier), one of the names `absolute`,
            `negate`, `invert`, `relu`, `small_values`, or a callable taking
            and returning a tensor (traced into the compiled step: use tf ops).

    Returns:
        A callable, or None for no modifier.

    Raises:
        ValueError: for an unknown name (the message lists the valid ones).
        TypeError: for anything that is neither None, a name nor a callable.

    Example:
        >>> float(get("negate")(tf.constant(2.0)))
        -2.0
    """
    if identifier is None:
        return None
    if isinstance(identifier, str):
        try:
            return _BY_NAME[identifier]
        except KeyError:
            raise ValueError(
                f"Unknown `grad_modifier`. Expected one of {', '.join(NAMES)}, or a callable. "
                f"Received: grad_modifier={identifier!r}"
            ) from None
    if callable(identifier):
        return identifier
    raise TypeError(
        "`grad_modifier` must be None, a name or a callable. "
        f"Received: grad_modifier={identifier!r}"
    )
