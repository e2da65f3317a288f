"""The display setting: the returned image shown contrast-stretched for the eye, or as returned.

Every view of an image (the live view, the runs gallery, the sweep grid, the
layer browser) shows what `minimize` returns: the optimized input as
`returned_images` computes it, in the input's own units. The one display
setting chooses how those values become grey levels:

- `"stretched"` (the default): each image on its own, its 0.5th percentile
  black and its 99.5th percentile white. A percentile stretch ignores the
  few most extreme pixels (1 of 256 on a 16x16 image), so one hot pixel
  cannot flatten the rest; all channels of a colour image share one stretch,
  which keeps its hues. A flat image (no range to stretch) is shown as
  returned.
- `"as returned"`: the input range `(lo, hi)` is black to white, the picture
  `minimize` returns and the exports save.

Exports (PNG, GIF) always save the returned image, never the stretched one.
"""

import dataclasses

import numpy as np

from vis_widgets.core.utils import to_channels_last

STRETCHED = "stretched"
AS_RETURNED = "as returned"
DISPLAY_MODES = (STRETCHED, AS_RETURNED)
PERCENTILES = (0.5, 99.5)
_FLAT = 1e-6  # a stretch narrower than this fraction of the input range is "flat"


def check_mode(mode):
    """Returns `mode` if it is one of `DISPLAY_MODES`.

    Raises:
        ValueError: for any other value.
    """
    if mode not in DISPLAY_MODES:
        raise ValueError(f"`display` must be one of {list(DISPLAY_MODES)}. Received: {mode!r}")
    return mode


@dataclasses.dataclass(frozen=True, eq=False)
class Returned:
    """A batch as `minimize` returns it, laid out for display.

    Attributes:
        images: float32 `(N, H, W, C)`, channels_last, C in {1, 3}, in the
            input's units (1-D inputs are one-row strips, 3-D inputs their
            middle slice, other channel counts their mean).
        value_range: the input range `(lo, hi)`.
    """

    images: np.ndarray
    value_range: tuple

    def __len__(self):
        return len(self.images)

    def as_returned(self):
        """The uint8 images with `value_range` mapped to 0-255 (what the exports save)."""
        return to_uint8(self.images, np.tile(self.value_range, (len(self.images), 1)))


def _picture_shape(x):
    """One channels_last sample as an `(H, W, C)` picture, C in {1, 3}."""
    if x.ndim == 2:  # (T, C): a one-row strip
        x = x[None]
    while x.ndim > 3:  # (D, H, W, C): the middle slice
        x = x[x.shape[0] // 2]
    if x.shape[-1] not in (1, 3):
        x = x.mean(axis=-1, keepdims=True)
    return x


def as_returned(optimizer, batch):
    """Returns an input batch as `minimize` returns it: float32 `(N, ...)`, optimizer format.

    The engine's own rule (`Optimizer.as_returned`): keras-vis's path
    de-processes each sample into the input range, the parameterized path
    returns the images as they are.

    Args:
        optimizer: the `Optimizer` the batch belongs to.
        batch: the input state `(N, ...)` (e.g. `best_input`, `current_input`).
    """
    return optimizer.as_returned(np.asarray(batch))


def result_input(optimizer):
    """The input state of the latest run's result: what `minimize` returned, before `as_returned`.

    keras-vis's path returns its best input de-processed, the parameterized
    path its last finite image as it is: this is the state to show, and the
    one a run that continues the result starts from. Valid from the engine's
    `on_end` on (`Optimizer.last_run`).
    """
    run = optimizer.last_run
    return np.array(run.best_input if optimizer.parameterization is None else run.returned)


def returned_images(optimizer, batch):
    """Returns the `Returned` images of a raw input batch, as `minimize` would return them.

    Args:
        optimizer: the `Optimizer` the batch belongs to (its input range and
            data format).
        batch: the raw input state `(N, ...)` in the optimizer's data format
            (e.g. `best_input`, `current_input`, a seed).

    Returns:
        A `Returned`.

    Raises:
        ValueError: for a batch whose samples have fewer than 2 axes.
    """
    batch = np.asarray(batch, dtype=np.float32)
    if batch.ndim < 3:
        raise ValueError(
            "A batch of images needs a batch axis and at least (length, channels) axes. "
            f"Received an array of shape {batch.shape}"
        )
    value_range = tuple(float(v) for v in optimizer.input_range)
    returned = to_channels_last(as_returned(optimizer, batch), optimizer.data_format)
    images = np.stack([_picture_shape(x) for x in returned]).astype(np.float32)
    return Returned(images, value_range)


def stretch_limits(images, value_range, percentiles=PERCENTILES):
    """Returns each image's `(low, high)` stretch limits, an `(N, 2)` float array.

    A flat image (its limits closer than a millionth of `value_range`) gets
    `value_range` itself, so it is shown as returned.
    """
    flat = np.asarray(images, dtype=np.float64).reshape(len(images), -1)
    limits = np.percentile(flat, percentiles, axis=1).T
    lo, hi = value_range
    narrow = limits[:, 1] - limits[:, 0] <= _FLAT * (hi - lo)
    limits[narrow] = (lo, hi)
    return limits


def to_uint8(images, limits):
    """Maps each image's `limits[k]` to 0-255, clipped, as uint8."""
    images = np.asarray(images, dtype=np.float32)
    shape = (len(images),) + (1,) * (images.ndim - 1)
    lo = np.asarray(limits[:, 0], dtype=np.float32).reshape(shape)
    hi = np.asarray(limits[:, 1], dtype=np.float32).reshape(shape)
    scaled = (images - lo) / (hi - lo)
    return np.clip(np.round(scaled * 255.0), 0, 255).astype(np.uint8)


@dataclasses.dataclass(frozen=True, eq=False)
class Shown:
    """What a view draws: uint8 images and the value range each maps to black..white.

    Attributes:
        images: uint8 `(N, H, W, C)`.
        limits: `(N, 2)`: the values shown black and white, per image.
        mode: the display mode that made them.
    """

    images: np.ndarray
    limits: np.ndarray
    mode: str

    def range_text(self):
        """Says which values are shown black to white, e.g. `"stretched from [12, 201]"`."""
        lo, hi = float(self.limits[:, 0].min()), float(self.limits[:, 1].max())
        if self.mode == AS_RETURNED:
            return f"as returned: [{lo:.4g}, {hi:.4g}] shown black to white"
        if len(self.limits) == 1:
            return f"stretched from [{lo:.4g}, {hi:.4g}]"
        return f"each image stretched on its own, within [{lo:.4g}, {hi:.4g}]"


def shown(returned, mode=STRETCHED):
    """Returns the `Shown` pictures of `Returned` images under a display mode.

    Args:
        returned: a `Returned`.
        mode: `"stretched"` or `"as returned"`.

    Returns:
        A `Shown`.

    Example:
        ```python
        opt.minimize(max_iter=100, verbose=False)
        picture = shown(returned_images(opt, opt.best_input), "stretched")
        picture.range_text()  # 'stretched from [98.2, 161]'
        ```
    """
    check_mode(mode)
    count = len(returned.images)
    if mode == AS_RETURNED:
        limits = np.tile(np.asarray(returned.value_range, dtype=np.float64), (count, 1))
    else:
        limits = stretch_limits(returned.images, returned.value_range)
    return Shown(to_uint8(returned.images, limits), limits, mode)
