"""Pictures to bytes: PNG and GIF encoders, labelled grids, placeholders.

Everything here is host-side numpy and Pillow on uint8 display images. No
widget is touched here: callers assign the returned bytes to
`ipywidgets.Image.value` (or write them to a file).
"""

import functools
import io

import numpy as np
from PIL import Image, ImageDraw

from vis_widgets.core.utils import image_grid, upscale

CAPTION_HEIGHT = 14
PLACEHOLDER_COLOR = (236, 236, 236)


def encode_png(array, compress_level=1):
    """Encodes an `(H, W, 1|3|4)` uint8 array as PNG bytes (fast compression by default).

    Args:
        array: the pixels, uint8.
        compress_level: zlib level 0-9; 1 is faster than the default 6 for
            slightly larger files, which suits live frames.

    Returns:
        The PNG file's bytes.
    """
    array = np.asarray(array)
    if array.ndim == 3 and array.shape[-1] == 1:
        array = array[..., 0]
    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(array)).save(
        buffer, format="PNG", compress_level=compress_level
    )
    return buffer.getvalue()


def _to_rgb(img):
    return np.repeat(img, 3, axis=-1) if img.shape[-1] == 1 else img


def labelled_grid(images, labels, cell_size=112, margin=4):
    """Lays out `images` in a near-square grid, each under a caption band.

    Args:
        images: `(N, H, W, C)` uint8 display images (C is 1 or 3).
        labels: N strings, one caption per image.
        cell_size: each image is nearest-neighbour upscaled so its long side
            is at least this many pixels.
        margin: the gap between cells, in pixels.

    Returns:
        One RGB uint8 array.

    Raises:
        ValueError: if the number of labels is not the number of images.
    """
    if len(labels) != len(images):
        raise ValueError(
            f"`labels` must have one caption per image ({len(images)}). "
            f"Received: {len(labels)} labels"
        )
    cells = []
    for img, label in zip(images, labels):
        img = _to_rgb(upscale(np.asarray(img), min_size=cell_size))
        band = Image.new("RGB", (img.shape[1], CAPTION_HEIGHT), (40, 40, 40))
        ImageDraw.Draw(band).text((3, 1), str(label), fill=(255, 255, 255))
        cells.append(np.concatenate([np.asarray(band), img], axis=0))
    return image_grid(cells, margin=margin)


def compose_frame(images, labels=None, min_size=256, cell_size=112):
    """Returns the uint8 picture shown for a batch of display images.

    One image is upscaled (nearest neighbour) to a long side >= `min_size`;
    several become a labelled grid (labels default to `#0`, `#1`, ...).
    """
    if len(images) == 1:
        return upscale(images[0], min_size=min_size)
    labels = labels if labels is not None else [f"#{k}" for k in range(len(images))]
    return labelled_grid(images, labels, cell_size=cell_size)


def gif_bytes(frames, steps=None, labels=None, duration=80, min_size=160):
    """Encodes display frames as an animated GIF, each captioned "Step n".

    Args:
        frames: a sequence of `(N, H, W, C)` uint8 display batches.
        steps: the 1-based iteration of each frame, for the caption.
        labels: per-sample captions when N > 1.
        duration: milliseconds per frame.
        min_size: frames are upscaled so their long side is at least this.

    Returns:
        The GIF file's bytes.

    Raises:
        ValueError: when `frames` is empty.
    """
    if len(frames) == 0:
        raise ValueError("`frames` must hold at least one frame. Received: 0 frames")
    pictures = []
    for k, batch in enumerate(frames):
        picture = _to_rgb(compose_frame(batch, labels, min_size=min_size))
        img = Image.fromarray(np.ascontiguousarray(picture), mode="RGB")
        if steps is not None:
            ImageDraw.Draw(img).text((4, 2), f"Step {steps[k]}", fill=(255, 255, 0))
        # fast octree: ~20x faster than median cut per frame, so a run ends without a wait
        pictures.append(img.quantize(colors=256, method=Image.Quantize.FASTOCTREE))
    buffer = io.BytesIO()
    pictures[0].save(
        buffer,
        format="GIF",
        save_all=True,
        append_images=pictures[1:],
        duration=int(duration),
        loop=0,
    )
    return buffer.getvalue()


@functools.lru_cache(maxsize=32)
def placeholder_png(width, height, text=""):
    """Returns a light grey PNG with a centred caption, shown before a first frame.

    An `ipywidgets.Image` with no bytes shows a broken-image icon, so every
    image widget starts with one of these.

    Args:
        width: the picture's width in pixels.
        height: the picture's height in pixels.
        text: the caption (may be empty).

    Returns:
        The PNG file's bytes.

    Example:
        >>> placeholder_png(32, 16)[1:4]
        b'PNG'
    """
    img = Image.new("RGB", (int(width), int(height)), PLACEHOLDER_COLOR)
    if text:
        draw = ImageDraw.Draw(img)
        left, top, right, bottom = draw.textbbox((0, 0), text)
        position = ((width - (right - left)) / 2, (height - (bottom - top)) / 2)
        draw.text(position, text, fill=(110, 110, 110))
    buffer = io.BytesIO()
    img.save(buffer, format="PNG")
    return buffer.getvalue()
