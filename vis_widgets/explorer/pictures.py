"""Maps to pictures: a colormap on numpy, keras-vis's `overlay`, PNG bytes (no widgets here).

A map in [0, 1] is coloured with `matplotlib.colormaps[name]` (plain numpy:
no figure, no pyplot, safe on a worker thread) and blended over the image
with keras-vis's `overlay(heatmap, image, alpha)`, exactly as a notebook
would do it by hand, so the code snippet reproduces the picture bit for bit.
"""

import matplotlib
import numpy as np

from vis_widgets.core.utils.utils import stitch_images, upscale
from vis_widgets.core.visualization import overlay
from vis_widgets.render import encode_png, labelled_grid

MAP_SIZE = 160  # the long side of a pane's picture, in pixels (nearest-neighbour upscaled)


def heatmap(attribution, colormap):
    """Colours a map in [0, 1] with a matplotlib colormap: uint8 `(H, W, 3)`.

    The same expression as keras-vis's examples:
    `np.uint8(colormaps[name](map)[..., :3] * 255)`.

    Args:
        attribution: a float `(H, W)` map in [0, 1] (values outside are clipped).
        colormap: a name in `matplotlib.colormaps`.

    Example:
        >>> heatmap(np.array([[0.0, 1.0]]), "gray").tolist()
        [[[0, 0, 0], [255, 255, 255]]]
    """
    values = np.clip(np.asarray(attribution, dtype=np.float32), 0.0, 1.0)
    return np.uint8(matplotlib.colormaps[colormap](values)[..., :3] * 255)


def as_rgb(picture):
    """An `(H, W, 1|3)` uint8 picture as `(H, W, 3)`."""
    picture = np.asarray(picture)
    return np.repeat(picture, 3, axis=-1) if picture.shape[-1] == 1 else picture


def overlay_picture(attribution, picture, colormap, alpha):
    """The heatmap of `attribution` blended over `picture` (keras-vis's `overlay`), uint8 RGB.

    Args:
        attribution: the `(H, W)` map in [0, 1].
        picture: the image as shown, uint8 `(H, W, 1|3)`.
        colormap: a matplotlib colormap name.
        alpha: the heatmap's weight, in [0, 1] (1: the heatmap alone, 0: the image alone).

    Raises:
        ValueError: when the map and the picture differ in size, or for a bad alpha.
    """
    return overlay(heatmap(attribution, colormap), as_rgb(picture), alpha)


def picture_png(picture, size=MAP_SIZE):
    """PNG bytes of a uint8 picture, nearest-neighbour upscaled to a long side >= `size`."""
    return encode_png(upscale(np.asarray(picture), min_size=size))


def row_picture(pictures, labels, size=MAP_SIZE, margin=4):
    """Pictures side by side in one row, each under its caption: one uint8 RGB array.

    Args:
        pictures: uint8 `(H, W, 1|3)` pictures of one size.
        labels: one caption each.
        size: each is upscaled to this long side.
        margin: the gap between them.
    """
    cells = [
        labelled_grid([as_rgb(p)], [label], cell_size=size) for p, label in zip(pictures, labels)
    ]
    return stitch_images(cells, margin=margin, cols=len(cells))
