"""Argument checks of the attribution engine: clear errors before anything is traced."""

import numbers

import numpy as np

__all__ = []  # implementation of the Attributor

# method -> {parameter: default}
METHODS = {
    "saliency": {},
    "smoothgrad": {"samples": 16, "noise": 0.2},
    "squaregrad": {"samples": 16, "noise": 0.2},
    "vargrad": {"samples": 16, "noise": 0.2},
    "integrated_gradients": {"steps": 32, "baseline": None},
    "input_x_gradient": {},
    "gradcam": {},
    "gradcam++": {},
    "layercam": {},
    "scorecam": {},
    "faster_scorecam": {"max_n": 10},
    "guided_gradcam": {},
}
CAM_METHODS = ("gradcam", "gradcam++", "layercam", "scorecam", "faster_scorecam", "guided_gradcam")
GRADIENT_FREE = ("scorecam", "faster_scorecam")


def method(name):
    """Returns the method name, or raises ValueError listing the valid ones."""
    if not isinstance(name, str) or name not in METHODS:
        raise ValueError(
            f"Unknown `method`. Expected one of {', '.join(METHODS)}. Received: method={name!r}"
        )
    return name


def combination(method, backprop_modifier, layer, wrt_layer):
    """Raises ValueError for arguments that do not apply to the method."""
    if method in GRADIENT_FREE and backprop_modifier is not None:
        raise ValueError(
            f"`backprop_modifier` has no effect on the gradient-free method '{method}'. "
            f"Received: backprop_modifier={backprop_modifier!r}"
        )
    if method == "guided_gradcam" and backprop_modifier is not None:
        raise ValueError(
            "'guided_gradcam' always multiplies guided backprop by a vanilla Grad-CAM: "
            f"pass backprop_modifier=None. Received: backprop_modifier={backprop_modifier!r}"
        )
    if method not in CAM_METHODS and layer is not None:
        raise ValueError(f"`layer` applies to class activation maps only, not to '{method}'.")
    if wrt_layer is not None and method != "saliency":
        raise ValueError(f"`wrt_layer` applies to 'saliency' only, not to '{method}'.")


def traced_numbers(method, values, x):
    """The traced function's number inputs: `([noise, samples, steps, max_n], baseline)`."""
    row = [
        values.get(k, d) for k, d in (("noise", 0.0), ("samples", 1), ("steps", 1), ("max_n", 1))
    ]
    if method == "integrated_gradients":
        return row, baseline(values["baseline"], x)
    return row, np.zeros((0, *x.shape[1:]), np.float32)


def _int(value, name, low=1):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
        raise ValueError(f"`{name}` must be an int >= {low}. Received: {name}={value!r}")
    return int(value)


def params(name, given):
    """Returns the method's parameters (defaults filled in); TypeError for unknown ones."""
    known = METHODS[name]
    unknown = sorted(set(given) - set(known))
    if unknown:
        accepted = ", ".join(known) if known else "none"
        raise TypeError(
            f"Method '{name}' got unknown parameter(s) {', '.join(unknown)}. "
            f"Its parameters: {accepted}."
        )
    values = {**known, **given}
    if "samples" in values:
        values["samples"] = _int(values["samples"], "samples")
        noise = values["noise"]
        if not isinstance(noise, numbers.Real) or not np.isfinite(noise) or noise < 0:
            raise ValueError(f"`noise` must be a finite number >= 0. Received: noise={noise!r}")
    if "steps" in values:
        values["steps"] = _int(values["steps"], "steps")
    if "max_n" in values:
        values["max_n"] = _int(values["max_n"], "max_n")
    return values


def as_array(value, name):
    """Returns a new float32 array of `value`; TypeError naming `name` if it is not numeric."""
    try:
        return np.array(value, dtype=np.float32)
    except (TypeError, ValueError):
        raise TypeError(
            f"`{name}` must be a numeric array. Received: {type(value).__name__}"
        ) from None


def images(value, input_shape, name="images"):
    """Returns `(float32 batch, unbatched)` for images of the model's input shape.

    Args:
        value: one sample (the input shape without the batch axis) or a batch.
        input_shape: the model's input shape, batch axis included.
        name: the argument's name, for errors.
    """
    x = as_array(value, name)
    sample_shape = tuple(input_shape[1:])
    unbatched = x.ndim == len(sample_shape)
    if unbatched:
        x = x[None]
    fits = x.ndim == len(sample_shape) + 1 and all(
        d is None or d == s for d, s in zip(sample_shape, x.shape[1:])
    )
    if not fits or x.shape[0] < 1:
        raise ValueError(
            f"`{name}` must have the model's input shape {sample_shape}, with or without a batch "
            f"axis. Received: {name} with shape {np.shape(value)}"
        )
    if not np.all(np.isfinite(x)):
        raise ValueError(f"`{name}` must be finite. Received: an array with NaN or inf")
    return np.ascontiguousarray(x), unbatched


def targets(value, n, num_classes, layer_name):
    """Returns `(weights (n, C) float32, auto)` for a targets argument.

    Args:
        value: None (each sample's top class), an int (one class for all),
            a sequence of n ints (one per sample), or an `(n, C)` float array
            of per-class weights (the score is their weighted sum).
        n: the batch size.
        num_classes: C, the number of outputs (channels) of the target layer.
        layer_name: the target layer's name, for errors.
    """
    zeros = np.zeros((n, num_classes), np.float32)
    if value is None:
        return zeros, True
    array = np.asarray(value)
    if array.ndim == 2 and array.dtype.kind == "f":
        if array.shape != (n, num_classes):
            raise ValueError(
                f"A `targets` weight array must have shape ({n}, {num_classes}). "
                f"Received: targets with shape {array.shape}"
            )
        if not np.all(np.isfinite(array)):
            raise ValueError("`targets` weights must be finite. Received: NaN or inf")
        return array.astype(np.float32), False
    if array.dtype.kind not in "iu" or array.ndim > 1:
        raise TypeError(
            "`targets` must be None, a class index, one class index per sample, or an "
            f"(N, C) float array of weights. Received: targets={value!r}"
        )
    indices = np.broadcast_to(array.reshape(-1), (n,)) if array.size == 1 else array
    if indices.shape != (n,):
        raise ValueError(
            f"`targets` must give one class index or one per sample ({n}). "
            f"Received: {array.size} indices"
        )
    bad = [int(i) for i in indices if not 0 <= i < num_classes]
    if bad:
        raise ValueError(
            f"`targets` must be class indices in [0, {num_classes}) for layer '{layer_name}', "
            f"which has {num_classes} outputs. Received: targets={value!r}"
        )
    zeros[np.arange(n), indices] = 1.0
    return zeros, False


def baseline(value, x):
    """The integrated-gradients baseline, broadcast to the batch `x` (None: zeros)."""
    if value is None:
        return np.zeros_like(x)
    try:
        b = np.asarray(value, dtype=np.float32)
        b = np.broadcast_to(b, x.shape) if b.ndim < x.ndim else b
        if b.shape != x.shape:
            raise ValueError
    except ValueError:
        raise ValueError(
            "`baseline` must be a number, one input sample or a batch like `images`. "
            f"Received: baseline with shape {np.shape(value)} for images {x.shape}"
        ) from None
    if not np.all(np.isfinite(b)):
        raise ValueError("`baseline` must be finite. Received: an array with NaN or inf")
    return np.ascontiguousarray(b)
