"""Argument checks shared by the engine (and usable by the UI): one error policy.

A wrong type raises `TypeError`, a wrong value `ValueError`; every message
names the argument, says what was expected and shows what was received, e.g.
``"`max_iter` must be an int >= 1. Received: max_iter=0"``. `bool` is never
accepted where a number is expected (`True` is an int to Python, not to a
user). A few keras-vis contracts raise `ValueError` for every bad value,
wrong types included (`max_iter`, `Print(interval=)`,
`GifGenerator(duration=)`): those call sites pass `type_error=ValueError`.

Example:
    >>> check_int(3, "max_iter", min_value=1)
    3
    >>> check_real(0.5, "alpha", min_value=0, max_value=1)
    0.5
    >>> check_real(1.5, "alpha", min_value=0, max_value=1)
    Traceback (most recent call last):
    ...
    ValueError: `alpha` must be a real number in [0, 1]. Received: alpha=1.5
"""

import math
import numbers

import keras
import numpy as np
import tensorflow as tf

from .utils.utils import EPSILON, check_range

__all__ = [
    "EPSILON",
    "check_amounts",
    "check_bool",
    "check_instances",
    "check_int",
    "check_keras_tensor",
    "check_loss_key",
    "check_losses",
    "check_range",
    "check_real",
    "check_weight",
    "is_int",
    "is_real",
]


def is_real(value):
    """True for a real number that is not a bool (numpy scalars included)."""
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


def is_int(value):
    """True for an integer that is not a bool (numpy integers included)."""
    return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))


def _fmt(value):
    return f"{value:g}" if isinstance(value, float) else str(value)


def _bounds_text(kind, min_value, max_value, min_inclusive, max_inclusive):
    """E.g. "an int >= 1", "a real number in [0, 1)", "a real number"."""
    lo = None if min_value is None else f"{'>=' if min_inclusive else '>'} {_fmt(min_value)}"
    hi = None if max_value is None else f"{'<=' if max_inclusive else '<'} {_fmt(max_value)}"
    if lo and hi and max_value != math.inf:
        left = "[" if min_inclusive else "("
        right = "]" if max_inclusive else ")"
        return f"{kind} in {left}{_fmt(min_value)}, {_fmt(max_value)}{right}"
    bound = lo or (hi if max_value != math.inf else None)
    return f"{kind} {bound}" if bound else kind


def _check_bounds(value, name, text, min_value, max_value, min_inclusive, max_inclusive):
    too_low = min_value is not None and (
        value < min_value or (not min_inclusive and value == min_value)
    )
    too_high = max_value is not None and (
        value > max_value or (not max_inclusive and value == max_value)
    )
    if too_low or too_high:
        raise ValueError(f"`{name}` must be {text}. Received: {name}={value!r}")


def check_int(value, name, min_value=None, max_value=None, type_error=TypeError):
    """Returns `value` as an int after checking its type and bounds (both inclusive).

    Args:
        value: the argument to check.
        name: the argument's name, for the message.
        min_value: the smallest allowed value, or None.
        max_value: the largest allowed value, or None.
        type_error: the exception class for a value that is not an int.

    Returns:
        `int(value)`.

    Raises:
        TypeError: (or `type_error`) if `value` is not an int (a bool is not).
        ValueError: if it is out of bounds.
    """
    text = _bounds_text("an int", min_value, max_value, True, True)
    if not is_int(value):
        raise type_error(f"`{name}` must be {text}. Received: {name}={value!r}")
    _check_bounds(value, name, text, min_value, max_value, True, True)
    return int(value)


def check_real(
    value,
    name,
    min_value=None,
    max_value=None,
    min_inclusive=True,
    max_inclusive=True,
    expected=None,
    type_error=TypeError,
):
    """Returns `value` as a float after checking it is a finite real number within bounds.

    Args:
        value: the argument to check.
        name: the argument's name, for the message.
        min_value: the lower bound, or None.
        max_value: the upper bound, or None. `float("inf")` as a bound
            allows infinity (e.g. `LPNorm(p=inf)`); otherwise values must be
            finite.
        min_inclusive: whether `min_value` itself is allowed.
        max_inclusive: whether `max_value` itself is allowed.
        expected: what to say was expected (default: built from the bounds).
        type_error: the exception class for a value that is not a real number.

    Returns:
        `float(value)`.

    Raises:
        TypeError: (or `type_error`) if `value` is not a real number, or NaN.
        ValueError: if it is out of bounds or infinite (unless a bound is inf).
    """
    text = expected or _bounds_text(
        "a real number", min_value, max_value, min_inclusive, max_inclusive
    )
    if not is_real(value) or math.isnan(value):
        raise type_error(f"`{name}` must be {text}. Received: {name}={value!r}")
    if math.isinf(value) and not (max_value == math.inf and value > 0):
        raise ValueError(f"`{name}` must be {text} (finite). Received: {name}={value!r}")
    _check_bounds(value, name, text, min_value, max_value, min_inclusive, max_inclusive)
    return float(value)


def check_bool(value, name):
    """Returns `value` as a bool; only `True`, `False` and numpy bools are accepted.

    Raises:
        TypeError: for anything else (including 0 and 1).
    """
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"`{name}` must be a bool. Received: {name}={value!r}")
    return bool(value)


def check_amounts(value, name, min_value=0.0, max_value=None, size=None):
    """Returns a number or a sequence of numbers as a 1-D float32 array within bounds.

    Args:
        value: a real number, or a non-empty 1-D sequence of them.
        name: the argument's name, for the message.
        min_value: the smallest allowed value (inclusive), or None.
        max_value: the largest allowed value (inclusive), or None.
        size: the required number of values, or None for any.

    Raises:
        TypeError: if `value` is not a number or a sequence of numbers.
        ValueError: for a NaN, an infinite or an out-of-bounds value, or the
            wrong number of values.
    """
    values = np.atleast_1d(np.asarray(value, dtype=object))
    if not (values.ndim == 1 and values.size > 0 and all(is_real(v) for v in values)):
        raise TypeError(
            f"`{name}` must be a number or a sequence of numbers. Received: {name}={value!r}"
        )
    values = values.astype(np.float32)
    bad = ~np.isfinite(values)
    if min_value is not None:
        bad |= values < min_value
    if max_value is not None:
        bad |= values > max_value
    if np.any(bad):
        text = _bounds_text("", min_value, max_value, True, True).strip()
        text = f"{text} and finite" if text else "finite"
        raise ValueError(f"`{name}` must be {text}. Received: {name}={value!r}")
    if size is not None and values.size != size:
        raise ValueError(f"`{name}` must have {size} value(s). Received: {name}={value!r}")
    return values


def check_instances(items, cls, name):
    """Returns `items` (None, one instance or a list of them) as a new list of `cls` instances.

    Raises:
        TypeError: if `items` is not a list or tuple of `cls` instances.
    """
    if items is None:
        return []
    if isinstance(items, cls):
        items = [items]
    if not isinstance(items, (list, tuple)):
        raise TypeError(
            f"`{name}` must be a list of {cls.__name__} instances. Received: {name}={items!r}"
        )
    for item in items:
        if not isinstance(item, cls):
            raise TypeError(
                f"Each item of `{name}` must be a {cls.__name__} instance. Received: {item!r}"
            )
    return list(items)


def check_keras_tensor(tensor, name):
    """Raises TypeError unless `tensor` is a symbolic Keras tensor."""
    if not isinstance(tensor, keras.KerasTensor):
        hint = ""
        if tensor is None:
            hint = (
                " A Sequential model has inputs only once it was built: start it with "
                "keras.Input(shape) or call model.build(input_shape), then use model.inputs[0]."
            )
        raise TypeError(
            f"`{name}` must be a symbolic Keras tensor such as `model.inputs[0]` or "
            f"`layer.output`. Received: {name}={tensor!r}.{hint}"
        )


def check_weight(weight, loss_name):
    """Returns a loss weight as a non-empty 1-D float32 array (None means 0).

    Args:
        weight: a real number, None, or a non-empty 1-D sequence of numbers
            (one per sample).
        loss_name: the loss's name, for the message.

    Raises:
        TypeError: for anything else.
        ValueError: for a NaN or infinite weight.
    """
    if weight is None:
        return np.zeros([1], np.float32)
    if is_real(weight):
        values = np.array([weight], np.float32)
    elif isinstance(weight, (list, tuple, np.ndarray, tf.Tensor)):
        values = np.asarray(weight)
        if values.ndim == 0:
            values = values.reshape([1])
        if values.ndim != 1 or values.size == 0 or values.dtype.kind not in "iuf":
            raise TypeError(
                f"The weight of loss '{loss_name}' must be a number, None, or a non-empty 1-D "
                f"sequence of numbers (one per sample). Received: weight={weight!r}"
            )
        values = values.astype(np.float32)
    else:
        raise TypeError(
            f"The weight of loss '{loss_name}' must be a number, None, or a 1-D sequence of "
            f"numbers (one per sample). Received: weight={weight!r}"
        )
    if not np.all(np.isfinite(values)):
        raise ValueError(
            f"The weight of loss '{loss_name}' must be finite. Received: weight={weight!r}"
        )
    return values


def check_losses(losses, loss_cls):
    """Returns `[(loss, weight array)]` from a list of `(Loss, weight)` pairs.

    Raises:
        TypeError: if `losses` is not a list of `(loss_cls, weight)` pairs.
        ValueError: if it is empty.
    """
    if isinstance(losses, (loss_cls, str)) or not isinstance(losses, (list, tuple)):
        raise TypeError(f"`losses` must be a list of (Loss, weight) tuples. Received: {losses!r}")
    if not losses:
        raise ValueError("`losses` must hold at least one (Loss, weight) tuple. Received: []")
    pairs = []
    for item in losses:
        if not (
            isinstance(item, (list, tuple)) and len(item) == 2 and isinstance(item[0], loss_cls)
        ):
            raise TypeError(
                f"Each item of `losses` must be a (Loss, weight) tuple. Received: {item!r}"
            )
        pairs.append((item[0], check_weight(item[1], item[0].name)))
    return pairs


def check_loss_key(key, names, keys):
    """Returns the index of the loss `key` designates.

    Args:
        key: a loss index (negative counts from the end), a loss name (when
            unique), or a unique key (`"L-6.0 Norm Loss (2)"` for the second
            loss of that name).
        names: the losses' names, in order.
        keys: their unique keys (`callbacks.unique_keys(names)`).

    Raises:
        ValueError: for an index out of range, an ambiguous name or an
            unknown key.
    """
    if is_int(key):
        if not -len(names) <= key < len(names):
            raise ValueError(
                f"`key` must be a loss index in [0, {len(names)}). Received: key={key}"
            )
        return int(key) % len(names)
    if isinstance(key, str):
        if names.count(key) > 1:
            raise ValueError(
                f"Several losses are named {key!r}: pass the loss's index instead, or one "
                f"of {keys}."
            )
        for candidates in (names, keys):
            if key in candidates:
                return candidates.index(key)
    raise ValueError(f"`key` must be a loss name among {keys} or an index. Received: key={key!r}")
