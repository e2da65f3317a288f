"""Seeds: the input a dashboard run starts from, drawn as the engine draws it, or checked."""

import numpy as np

EPSILON = 1e-7


def random_seed(optimizer, rng=None):
    """Returns one random seed sample `(1, ...)`, as the engine makes it.

    Draws from `rng` (a `numpy.random.Generator`), or from numpy's global
    state when None, as the engine does (so `keras.utils.set_random_seed`
    makes it reproducible).

    Raises:
        ValueError: when the input's shape has unknown dimensions.
    """
    shape = (1, *tuple(optimizer.input_tensor.shape[1:]))
    if any(d is None for d in shape):
        raise ValueError(
            f"The input's shape {tuple(optimizer.input_tensor.shape)} has unknown dimensions: "
            "pass `seed_input`."
        )
    lo, hi = (float(v) for v in optimizer.input_range)
    x = rng.random(shape) if rng is not None else np.random.random(shape)
    x = (x - x.mean()) / (x.std() + EPSILON)
    return (x * 0.05 * (hi - lo) + (lo + hi) / 2).astype(np.float32)


def check_seed(optimizer, seed_input, rng=None):
    """Returns `seed_input` as a float32 `(1, ...)` array, or a random seed when it is None.

    Args:
        optimizer: the `Optimizer` whose input the seed must fit.
        seed_input: one sample, with or without a batch axis of 1, or None.
        rng: the `numpy.random.Generator` of a random seed (see `random_seed`).

    Raises:
        ValueError: for a seed that is not one sample of the input's shape.
    """
    if seed_input is None:
        return random_seed(optimizer, rng)
    seed = np.array(seed_input, dtype=np.float32)
    expected = tuple(optimizer.input_tensor.shape[1:])
    if seed.ndim == len(expected):
        seed = seed[None]
    fits = seed.ndim == len(expected) + 1 and seed.shape[0] == 1
    if not fits or not all(d is None or d == s for d, s in zip(expected, seed.shape[1:])):
        raise ValueError(
            f"`seed_input` must be one sample of shape {expected} (with or without a batch "
            f"axis of 1). Received: seed_input with shape {np.shape(seed_input)}"
        )
    return seed
