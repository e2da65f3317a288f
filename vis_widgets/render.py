"""Rendering to image bytes: the live input (single or labelled grid) and the loss curves.

Everything here is host-side numpy, Pillow and matplotlib through
`matplotlib.figure.Figure` with its own Agg canvas (never pyplot, whose
global state is not safe from a worker thread). No widget is touched here:
callers assign the returned bytes to `ipywidgets.Image.value`.
"""

import io
import math

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image, ImageDraw

from vis_widgets.core.utils import image_grid, to_display_image, upscale

CAPTION_HEIGHT = 14
_COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2")


def encode_png(array, compress_level=1):
    """Encodes an `(H, W, 1|3|4)` uint8 array as PNG bytes (fast compression by default).

    Args:
        array: the pixels, uint8.
        compress_level: zlib level 0-9; 1 is ~2x faster than the default 6
            for ~15% larger files, which suits live frames.

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


def display_images(batch, input_range, data_format):
    """De-processes each sample of `batch` (batch axis first) into a uint8 `(H, W, C)` image."""
    return np.stack([to_display_image(x, input_range, data_format) for x in batch])


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
        pictures.append(img.quantize(colors=256, method=Image.Quantize.MEDIANCUT))
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


class CurvePlot:
    """Loss curves drawn with a persistent Figure and Agg canvas, blitted when possible.

    A full draw (axes, ticks, legend) happens only when the series change,
    the y range must grow (or has become much smaller than the axis), or the
    x range changes; otherwise the cached background is restored and only
    the lines are drawn over it, which is several times cheaper (see
    LIVE_UI.md). The y axis is symmetric-log, so activation losses (often
    negative) and regularizers several decades smaller share one plot.

    Not thread-safe: one thread draws at a time (the caller holds a lock).

    Args:
        width: the picture's width in pixels.
        height: the picture's height in pixels.
        dpi: the figure's resolution.

    Example:
        ```python
        plot = CurvePlot()
        png = plot.render(np.arange(3), {"TV(2.0) Loss": np.array([3.0, 2.0, 1.5])}, 100, "t")
        ```
    """

    def __init__(self, width=460, height=240, dpi=90):
        self.figure = Figure(figsize=(width / dpi, height / dpi), dpi=dpi)
        self.canvas = FigureCanvasAgg(self.figure)
        self.axes = self.figure.add_axes((0.13, 0.17, 0.5, 0.72))
        self.full_draws = 0
        self.blits = 0
        self._lines = {}
        self._background = None
        self._layout = None
        self._last_full_data = None

    def render(self, x, series, x_max, title):
        """Draws the curves and returns PNG bytes.

        Args:
            x: the 0-based iterations, an array of length T.
            series: an ordered dict `{label: values of length T}`.
            x_max: the x axis's right end (the run's `max_iter`).
            title: the axes' title.

        Returns:
            The picture's PNG bytes.
        """
        x = np.asarray(x, dtype=np.float64)
        values = {k: np.asarray(v, dtype=np.float64) for k, v in series.items()}
        layout = (tuple(values), float(x_max), title)
        if self._needs_full_draw(layout, values):
            self._full_draw(layout, x, values)
        else:
            self._blit(x, values)
        return encode_png(np.asarray(self.canvas.buffer_rgba())[..., :3])

    # ------------------------------------------------------------------ internals
    def _finite(self, values):
        stacked = np.concatenate([*values.values(), np.zeros(0)])
        return stacked[np.isfinite(stacked)]

    def _needs_full_draw(self, layout, values):
        if self._background is None or layout != self._layout:
            return True
        data = self._finite(values)
        if data.size == 0:
            return False
        lo, hi = self.axes.get_ylim()
        if data.min() < lo or data.max() > hi:
            return True
        transform = self.axes.yaxis.get_transform()
        t_lo, t_hi = transform.transform([lo, hi])
        d_lo, d_hi = transform.transform([data.min(), data.max()])
        shrunk = (d_hi - d_lo) < 0.35 * (t_hi - t_lo)
        return shrunk and data.size > 2 * self._last_full_data

    def _full_draw(self, layout, x, values):
        ax = self.axes
        keys, x_max, title = layout
        ax.clear()
        self._lines = {}
        for k, key in enumerate(keys):
            overall = key.startswith("overall")
            (line,) = ax.plot(
                x,
                values[key],
                label=key,
                color="black" if overall else _COLORS[k % len(_COLORS)],
                linestyle="--" if overall else "-",
                linewidth=1.2,
                animated=True,
            )
            self._lines[key] = line
        data = self._finite(values)
        peak = float(np.abs(data).max()) if data.size else 1.0
        linthresh = 10.0 ** math.floor(math.log10(peak)) * 1e-4 if peak > 0 else 1.0
        ax.set_yscale("symlog", linthresh=linthresh)
        ax.set_ylim(*self._padded_limits(data))
        ax.set_xlim(0, max(1.0, x_max - 1))
        ax.set_title(title, fontsize=8)
        ax.set_xlabel("iteration", fontsize=7)
        ax.tick_params(labelsize=6)
        ax.grid(True, linewidth=0.3, alpha=0.5)
        if keys:
            ax.legend(
                handles=list(self._lines.values()),
                loc="upper left",
                bbox_to_anchor=(1.02, 1.0),
                fontsize=6.5,
                frameon=False,
            )
        self.canvas.draw()
        self._background = self.canvas.copy_from_bbox(ax.bbox)
        self._layout = layout
        self._last_full_data = max(1, data.size)
        self.full_draws += 1
        for line in self._lines.values():
            ax.draw_artist(line)

    def _padded_limits(self, data):
        if data.size == 0:
            return -1.0, 1.0
        transform = self.axes.yaxis.get_transform()
        lo, hi = transform.transform([data.min(), data.max()])
        decade = transform.linthresh  # symlog's transformed units: one decade is linthresh
        pad = max(0.08 * (hi - lo), 0.3 * decade)
        inverse = transform.inverted()
        return tuple(float(v) for v in inverse.transform([lo - pad, hi + pad]))

    def _blit(self, x, values):
        self.canvas.restore_region(self._background)
        for key, line in self._lines.items():
            line.set_data(x, values[key])
            self.axes.draw_artist(line)
        self.blits += 1
