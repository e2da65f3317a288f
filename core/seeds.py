"""Seeds: the input an optimization starts from (keras-vis's `seed_input` rules), pure numpy.

`make_seed` draws keras-vis's random seed or checks and converts a given one;
`Optimizer.make_seed` calls it with the optimizer's input shape, range and
data format.
"""

import numpy as np

from .utils.utils import EPSILON, check_range
from .validation import check_int

__all__ = ["make_seed"]


def make_seed(
    input_shape, input_range=(0, 255), seed_input=None, data_format="channels_last", samples=None
):
    """Returns the seed an optimization starts from, as a new float32 array with a batch axis.

    Args:
        input_shape: the input's shape, batch axis included (its size is
            ignored), e.g. `tuple(model.inputs[0].shape)`.
        input_range: the input's `(min, max)`.
        seed_input: None for keras-vis's random seed: uniform noise
            standardised to mean `(lo+hi)/2` and std `0.05*(hi-lo)` (one
            sample, or `samples` samples each standardised on its own), drawn
            from numpy's global random state. Or an array of the input's
            shape, with or without the batch axis; a channels_last array
            given for a channels_first input is moved. Never modified.
        data_format: the input's data format.
        samples: None for any number of samples, or the number the seed must
            have (`samples=1`: exactly one sample, as a dashboard run needs).

    Returns:
        A float32 array `(samples,) + input_shape[1:]`.

    Raises:
        ValueError: for a shape that does not fit the input (or not
            `samples` samples), NaN or inf, or unknown input dimensions
            without a `seed_input`.
        TypeError: for a seed that is not numeric.

    Example:
        >>> seed = make_seed((None, 4, 4, 1), (0, 255), samples=1)
        >>> seed.shape, round(float(seed.mean()), 3)
        ((1, 4, 4, 1), 127.5)
    """
    desired = (1, *tuple(input_shape[1:]))
    if samples is not None:
        samples = check_int(samples, "samples", min_value=1)
    if seed_input is None:
        if any(d is None for d in desired):
            raise ValueError(
                f"The input's shape {tuple(input_shape)} has unknown dimensions: "
                "pass a `seed_input` of the size to optimize."
            )
        lo, hi = (float(v) for v in check_range(input_range))
        return np.concatenate([_noise(desired, lo, hi) for _ in range(samples or 1)])
    try:
        seed = np.array(seed_input, dtype=np.float32)  # always a copy
    except (TypeError, ValueError):
        raise TypeError(
            f"`seed_input` must be a numeric array. Received: {type(seed_input).__name__}"
        ) from None
    if seed.ndim == len(desired) - 1:
        seed = seed[None]

    def fits(arr):
        return arr.ndim == len(desired) and all(
            d is None or d == s for d, s in zip(desired[1:], arr.shape[1:])
        )

    if not fits(seed) and data_format == "channels_first" and seed.ndim >= 3:
        moved = np.moveaxis(seed, -1, 1)
        seed = moved if fits(moved) else seed
    if not fits(seed) or seed.shape[0] < 1:
        raise ValueError(
            f"`seed_input` must have the input's shape {desired[1:]}, with or without a "
            f"batch axis. Received: seed_input with shape {np.shape(seed_input)}"
        )
    if samples is not None and seed.shape[0] != samples:
        what = (
            "one sample of shape {} (with or without a batch axis of 1)"
            if samples == 1
            else f"{samples} samples of shape {{}} (batch axis included)"
        ).format(seed.shape[1:])
        raise ValueError(
            f"`seed_input` must be {what}. Received: seed_input with shape {np.shape(seed_input)}"
        )
    if not np.all(np.isfinite(seed)):
        raise ValueError("`seed_input` must be finite. Received: an array with NaN or inf")
    return np.ascontiguousarray(seed)


def _noise(shape, lo, hi):
    """keras-vis's random seed: uniform noise standardised to mean (lo+hi)/2, std 0.05(hi-lo)."""
    x = np.random.random(shape)
    x = (x - x.mean()) / (x.std() + EPSILON)
    return (x * 0.05 * (hi - lo) + (lo + hi) / 2).astype(np.float32)
