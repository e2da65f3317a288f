"""keras-vis's one-call entry points, at keras-vis's module path (`vis.visualization`)."""

import numpy as np

from ..utils import get_num_filters
from .activation_maximization import (
    keras_vis_losses,
    visualize_activation,
    visualize_activation_with_losses,
)
from .saliency import visualize_cam, visualize_saliency
from .with_losses import visualize_cam_with_losses, visualize_saliency_with_losses


def overlay(array1, array2, alpha=0.5):
    """Blends two images: `array1 * alpha + array2 * (1 - alpha)`, in `array1`'s dtype (keras-vis).

    As in keras-vis there is no colormap and no clipping: colour a map first,
    e.g. `np.uint8(matplotlib.cm.jet(heatmap)[..., :3] * 255)`, and give two
    arrays of one shape (the cast truncates towards zero for integer dtypes).

    Args:
        array1: the first image (its dtype is the result's).
        array2: the second image, of the same shape.
        alpha: the weight of `array1`, in [0, 1].

    Returns:
        The blended array, of `array1`'s shape and dtype.

    Raises:
        ValueError: for `alpha` outside [0, 1] or arrays of different shapes.

    Example:
        >>> a = np.full((2, 2, 3), 200, np.uint8)
        >>> b = np.zeros((2, 2, 3), np.uint8)
        >>> int(overlay(a, b, alpha=0.25)[0, 0, 0])
        50
    """
    try:
        alpha = float(alpha)
    except (TypeError, ValueError):
        raise TypeError(f"`alpha` must be a number in [0, 1]. Received: alpha={alpha!r}") from None
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"`alpha` must be in [0, 1]. Received: alpha={alpha}")
    array1, array2 = np.asarray(array1), np.asarray(array2)
    if array1.shape != array2.shape:
        raise ValueError(
            "`array1` and `array2` must have the same shapes. "
            f"Received: array1 with shape {array1.shape}, array2 with shape {array2.shape}"
        )
    return (array1 * alpha + array2 * (1 - alpha)).astype(array1.dtype)


__all__ = [
    "get_num_filters",
    "keras_vis_losses",
    "overlay",
    "visualize_activation",
    "visualize_activation_with_losses",
    "visualize_cam",
    "visualize_cam_with_losses",
    "visualize_saliency",
    "visualize_saliency_with_losses",
]
