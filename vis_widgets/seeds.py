"""Seeds: the one sample a dashboard run starts from, made and checked by the engine."""

import numpy as np


def check_seed(optimizer, seed_input):
    """Returns the seed of a dashboard run: a float32 `(1, ...)` array.

    Args:
        optimizer: the `Optimizer` whose input the seed must fit.
        seed_input: one sample, with or without a batch axis of 1, or None
            for the engine's random seed (drawn from numpy's global state, so
            `keras.utils.set_random_seed` makes it reproducible).

    Raises:
        ValueError: for a seed that is not one sample of the input's shape.
    """
    seed = optimizer.make_seed(seed_input)
    if seed.shape[0] != 1:
        raise ValueError(
            f"`seed_input` must be one sample of shape {seed.shape[1:]} (with or without a "
            f"batch axis of 1). Received: seed_input with shape {np.shape(seed_input)}"
        )
    return seed
