"""The explorer's images: a numpy batch, image files, or the demo's own held-out digits.

`ExplorerImages` turns what the user gives into one float32 batch in the
model's input shape, the picture of each image as shown (uint8), the class
names, the true labels if known, and the line of code that gives the same
`images` in a notebook (for the exported snippet).
"""

import dataclasses
import json
import os

import numpy as np

from vis_widgets.core.utils.utils import load_img, to_channels_last


@dataclasses.dataclass(frozen=True, eq=False)
class ExplorerImages:
    """The images an explorer shows.

    Attributes:
        batch: float32 `(N, ...)` in the model's input shape.
        input_range: the value range shown black to white.
        data_format: the batch's data format.
        labels: the true class of each image, or None.
        class_names: one name per class, or None.
        names: a short name per image (a file name, `"#3"`).
        source: the Python lines that define `images` as the explorer holds
            them (used by the exported snippet), or None when the snippet
            must be given `images` (a numpy batch from the user).

    Example:
        ```python
        shown = resolve_images(None, (None, 16, 16, 1), "channels_last")  # the demo's digits
        shown.batch.shape, shown.input_range  # ((450, 16, 16, 1), (0.0, 255.0))
        ```
    """

    batch: np.ndarray
    input_range: tuple
    data_format: str
    labels: np.ndarray = None
    class_names: tuple = None
    names: tuple = ()
    source: str = None

    def __len__(self):
        return len(self.batch)

    def picture(self, index):
        """Image `index` as shown: `input_range` mapped to 0-255, uint8 `(H, W, 1|3)`.

        The values are only scaled (and clipped), not contrast-stretched, so the
        picture is the image as the model sees it.
        """
        return display_picture(self.batch[index], self.input_range, self.data_format)

    def class_name(self, index):
        """`"3"`, or `"3 (cat)"` when the class names say more than the index."""
        name = None if self.class_names is None else str(self.class_names[index])
        return str(index) if name in (None, str(index)) else f"{index} ({name})"


def display_picture(image, input_range, data_format):
    """One image as shown: `input_range` mapped linearly to 0-255 (clipped), uint8 `(H, W, 1|3)`.

    Channels other than 1 or 3 are shown as their mean.

    Example:
        >>> display_picture(np.array([[[0.0], [0.5]]]), (0, 1), "channels_last")[..., 0].tolist()
        [[0, 128]]
    """
    x = to_channels_last(np.asarray(image, dtype=np.float32)[None], data_format)[0]
    if x.shape[-1] not in (1, 3):
        x = x.mean(axis=-1, keepdims=True)
    lo, hi = (float(v) for v in input_range)
    return np.uint8(np.clip(np.round((x - lo) / (hi - lo) * 255.0), 0, 255))


def _is_paths(images):
    if isinstance(images, (str, os.PathLike)):
        return True
    return (
        isinstance(images, (list, tuple))
        and all(isinstance(p, (str, os.PathLike)) for p in images)
        and len(images) > 0
    )


def _spatial(input_shape, data_format):
    """The `(height, width, channels)` of a 2-D image input."""
    if len(input_shape) != 4:
        raise ValueError(
            "The explorer shows 2-D images: the model's input must be (N, H, W, C) or "
            f"(N, C, H, W). Received: input shape {tuple(input_shape)}"
        )
    if data_format == "channels_first":
        return input_shape[2], input_shape[3], input_shape[1]
    return input_shape[1], input_shape[2], input_shape[3]


def _default_range(batch):
    lo, hi = float(batch.min()), float(batch.max())
    if lo >= 0 and hi <= 1:
        return (0.0, 1.0)
    if lo >= 0 and hi <= 255:
        return (0.0, 255.0)
    return (lo, hi if hi > lo else lo + 1.0)


def _from_paths(paths, input_shape, data_format):
    paths = [paths] if isinstance(paths, (str, os.PathLike)) else list(paths)
    height, width, channels = _spatial(input_shape, data_format)
    if channels not in (1, 3) or height is None or width is None:
        raise ValueError(
            "Image files need a model input of a fixed size with 1 or 3 channels. "
            f"Received: input shape {tuple(input_shape)}"
        )
    loaded = [load_img(p, grayscale=channels == 1, target_size=(height, width)) for p in paths]
    batch = np.stack(loaded).astype(np.float32).reshape(len(paths), height, width, channels)
    if data_format == "channels_first":
        batch = np.moveaxis(batch, -1, 1)
    listed = ", ".join(json.dumps(os.fspath(p)) for p in paths)
    move = "\nimages = np.moveaxis(images, -1, 1)" if data_format == "channels_first" else ""
    source = (
        "from vis_widgets.core.utils import utils\n"
        f"paths = [{listed}]\n"
        f"images = np.stack([utils.load_img(p, grayscale={channels == 1}, "
        f"target_size=({height}, {width})) for p in paths])\n"
        'images = images.astype("float32")'
        f".reshape(len(paths), {height}, {width}, {channels})"
        f"{move}"
    )
    names = tuple(os.path.basename(os.fspath(p)) for p in paths)
    return batch, names, source


def demo_images(count=None):
    """The demo model's held-out digits: `(images, labels)` (`load_split()`'s test set)."""
    from vis_widgets.demo import load_split

    _, (x_test, y_test) = load_split()
    return (x_test, y_test) if count is None else (x_test[:count], y_test[:count])


def resolve_images(
    images, input_shape, data_format, labels=None, class_names=None, input_range=None
):
    """Returns the `ExplorerImages` for what the user passed.

    Args:
        images: a numpy batch `(N, ...)` or one image in the model's input
            shape; one image file's path or a list of paths (loaded with
            `utils.load_img` at the model's input size, grayscale for one
            channel); or None: the demo model's held-out digits (for a model
            with the demo's input shape, 16x16x1).
        input_shape: the model's input shape, batch axis included.
        data_format: the input's data format.
        labels: the true class of each image (optional; the demo's by default).
        class_names: a name per class (optional).
        input_range: the values shown black to white (default: `(0, 1)` or
            `(0, 255)` when the images fit, else their min and max).

    Raises:
        ValueError: for images of another shape, labels of another length,
            or `images=None` with a model that does not take the demo's digits.
    """
    source, names = None, None
    if images is None:
        from vis_widgets.demo import DEMO_CLASS_NAMES, DEMO_INPUT_RANGE, DEMO_INPUT_SHAPE

        if tuple(input_shape[1:]) != DEMO_INPUT_SHAPE:
            raise ValueError(
                "`images=None` shows the demo's digits, which need a model input of shape "
                f"{DEMO_INPUT_SHAPE}: pass your own images. Received: input shape "
                f"{tuple(input_shape[1:])}"
            )
        batch, demo_labels = demo_images()
        labels = demo_labels if labels is None else labels
        class_names = DEMO_CLASS_NAMES if class_names is None else class_names
        input_range = DEMO_INPUT_RANGE if input_range is None else input_range
        source = "from vis_widgets.demo import load_split\n_, (images, labels) = load_split()"
    elif _is_paths(images):
        batch, names, source = _from_paths(images, input_shape, data_format)
    else:
        batch = np.asarray(images, dtype=np.float32)
        if batch.ndim == len(input_shape) - 1:
            batch = batch[None]
    _spatial(input_shape, data_format)
    expected = tuple(input_shape[1:])
    fits = batch.ndim == len(input_shape) and all(
        e is None or e == s for e, s in zip(expected, batch.shape[1:])
    )
    if not fits or len(batch) == 0:
        raise ValueError(
            f"`images` must be one image or a batch of the model's input shape {expected}. "
            f"Received: images with shape {batch.shape}"
        )
    if not np.all(np.isfinite(batch)):
        raise ValueError("`images` must be finite. Received: an array with NaN or inf")
    if labels is not None:
        labels = np.asarray(labels).astype(int).reshape(-1)
        if len(labels) != len(batch):
            raise ValueError(
                f"`labels` must give one class per image ({len(batch)}). "
                f"Received: {len(labels)} labels"
            )
    input_range = _default_range(batch) if input_range is None else tuple(input_range)
    names = names or tuple(f"#{k}" for k in range(len(batch)))
    class_names = None if class_names is None else tuple(class_names)
    return ExplorerImages(
        np.ascontiguousarray(batch), input_range, data_format, labels, class_names, names, source
    )
