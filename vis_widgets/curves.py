"""Loss curves for tuning: a small panel per loss term and the overall loss, each on its own scale.

Terms of a loss differ by decades and in sign (an activation term is a
falling negative number, a regularizer a small positive one), so one shared
axis hides most of them. Each term gets its own linear axis here, and the
latest values are given as text beside the picture (`values_html`). An axis
is scaled to the latest 90% of the iterations (once there are 20): the
first steps from a noise seed often jump by orders of magnitude (total
variation falls from 50 to 2 within a few steps), and scaling to them would
flatten the rest of the run, the part one tunes; their line leaves the axis.

The panels are an SVG picture written directly (no plotting library): the
browser draws the lines and the text crisply at any zoom, and the kernel
only formats numbers, about a millisecond per frame for four panels of 500
points, against tens of milliseconds for a matplotlib redraw, which on a
two-core machine is time taken from the run being watched (see
`bench/bench_widgets.py`). Every frame is computed whole from the data, so
axes follow the data exactly and no drawing state is kept between frames.
A line with at least four points per pixel column of its panel keeps, per
column, its first, lowest, highest and last point (spikes stay visible). A
NaN breaks a line; an infinite value is drawn as a spike off the axis.
"""

import html
import math
import re

import numpy as np

from vis_widgets.series import OVERALL

_COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2")
_FONT = "DejaVu Sans, Helvetica, Arial, sans-serif"
_SKIP = 0.1  # the axes are scaled to the latest 90% of the iterations...
_SKIP_FROM = 20  # ...once there are this many
_TITLE_BAND = 22  # pixels over the panels for the picture's title
_PAD = 0.12  # the y axis leaves this fraction of the data's span free above and below
_FAR = 1000.0  # points beyond the axis are drawn at most this many pixels outside it
_CHAR_WIDTH = 5.6  # about the width of a title character, in pixels (9.5 px DejaVu Sans)
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")  # not allowed in XML 1.0


def _scaled_part(values):
    """The values an axis is scaled to: all, or the latest 90% from 20 points on."""
    values = np.asarray(values, dtype=np.float64)
    start = int(values.size * _SKIP) if values.size >= _SKIP_FROM else 0
    return values[start:]


def _finite(values):
    values = np.asarray(values, dtype=np.float64)
    return values[np.isfinite(values)]


def _limits(values, pad=_PAD):
    """Padded `(low, high)` y limits for a panel's values (`pad`: a fraction of their span).

    Always `low < high`, both finite (also for subnormal or near-overflow data).
    """
    data = _finite(values)
    if data.size == 0:
        return -1.0, 1.0
    lo, hi = float(data.min()), float(data.max())
    span = hi - lo
    margin = pad * span if span > 0 else 0.1 * abs(hi)
    low, high = lo - margin, hi + margin
    if not (math.isfinite(low) and math.isfinite(high)):
        low, high = lo, hi  # no room for a margin near the float range's ends
    if not low < high or not math.isfinite(high - low):
        return (-1.0, 1.0) if abs(hi) < 1.0 else (min(lo, 0.0) - 1.0, max(hi, 0.0) + 1.0)
    return low, high


def nice_ticks(low, high, count=3, integer=False):
    """Returns about `count` round tick values within `[low, high]` (steps of 1, 2, 2.5 or 5).

    Args:
        low: the axis's low end.
        high: the axis's high end (> low).
        count: the number of ticks wanted (roughly).
        integer: steps of at least 1 (for iteration numbers).

    Returns:
        The ticks, ascending, as a list of floats: `count` to `count + 2` of
        them when the ends are round numbers, fewer between round numbers.

    Example:
        >>> nice_ticks(0.0, 499.0, 4, integer=True)
        [0.0, 100.0, 200.0, 300.0, 400.0]
        >>> nice_ticks(-0.93, 0.41)
        [-0.5, 0.0]
    """
    raw = (high - low) / (max(count, 1) + 1)
    if not (math.isfinite(raw) and raw > 1e-300):  # no span, or one at the float range's ends
        return [float(low)] if math.isfinite(low) else []
    magnitude = 10.0 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    if integer:
        step = max(1.0, round(step))
    ticks = []
    k = math.ceil(low / step - 1e-9)
    while k * step <= high + 1e-9 * step:
        ticks.append(float(k * step))
        k += 1
    return ticks


def _columns(px, py):
    """Keeps, per pixel column, the first, lowest, highest and last point (in drawing order)."""
    column = np.floor(px).astype(np.int64)
    starts = np.flatnonzero(np.r_[True, column[1:] != column[:-1]])
    if starts.size * 4 >= px.size:
        return px, py
    ends = np.r_[starts[1:], px.size] - 1
    low = np.minimum.reduceat(py, starts)
    high = np.maximum.reduceat(py, starts)
    # each column as 4 points at its x: first, bottom-most, top-most, last
    xs = np.repeat(px[starts], 4)
    ys = np.stack([py[starts], high, low, py[ends]], axis=1).ravel()
    return xs, ys


def _segments(px, py):
    """Splits a line at its non-finite points: a list of `(xs, ys)` runs of finite points."""
    ok = np.isfinite(py)
    if ok.all():
        return [(px, py)]
    edges = np.flatnonzero(np.diff(np.r_[0, ok.astype(np.int8), 0]))
    return [(px[a:b], py[a:b]) for a, b in zip(edges[::2], edges[1::2])]


def _points(xs, ys):
    pairs = np.stack([xs, ys], axis=1).ravel().tolist()
    return ("%.1f,%.1f " * xs.size % tuple(pairs)).rstrip()


def _text(x, y, text, size, anchor="start", color="#333"):
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" '
        f'fill="{color}">{html.escape(_CONTROL.sub("", text))}</text>'
    )


def _shortened(text, width):
    """`text` cut with an ellipsis to fit about `width` pixels of title text."""
    most = max(4, int(width / _CHAR_WIDTH))
    return text if len(text) <= most else text[: most - 1] + "\u2026"


def tick_labels(ticks):
    """Formats ticks with 3 significant digits, or as many more as keep them distinct.

    Example:
        >>> tick_labels([0.5, 1.0]), tick_labels([1234.0, 1236.0, 1238.0])
        (['0.5', '1'], ['1234', '1236', '1238'])
    """
    for digits in range(3, 18):
        labels = [f"{t:.{digits}g}" for t in ticks]
        if len(set(labels)) == len(labels):
            return labels
    return labels


class CurvePanels:
    """A grid of small panels, one per loss series, drawn as an SVG picture.

    Args:
        width: the picture's width in pixels.
        row_height: the height of one row of panels, in pixels.
        columns: panels per row.

    Attributes:
        limits: `{label: (low, high)}`, each panel's y axis in the latest
            picture.

    Example:
        ```python
        panels = CurvePanels()
        x = np.arange(3)
        svg = panels.render(x, {"TV(2.0) Loss": [3.0, 2.0, 1.5], "overall loss": [1, 0, -1]}, 100)
        ```
    """

    def __init__(self, width=460, row_height=110, columns=2):
        self.width, self.row_height, self.columns = int(width), int(row_height), int(columns)
        self.limits = {}

    def size(self, panels):
        """`(width, height)` in pixels of a picture of `panels` panels."""
        rows = max(1, math.ceil(panels / self.columns))
        return self.width, rows * self.row_height + _TITLE_BAND

    def render(self, x, series, x_max, title=""):
        """Draws the series and returns the SVG picture as UTF-8 bytes.

        Args:
            x: the 0-based iterations, length T.
            series: an ordered `{label: values of length T}`; a label starting
                with "overall" is drawn in black.
            x_max: the x axis's right end (the run's `max_iter`).
            title: a title over the panels.

        Returns:
            The SVG document's bytes (with `width` and `height` in pixels).
        """
        x = np.asarray(x, dtype=np.float64)
        keys = list(series)
        width, height = self.size(len(keys))
        parts = [
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" font-family="{_FONT}">',
            f"<title>{html.escape(title or 'loss curves')}</title>",
            f'<rect width="{width}" height="{height}" fill="white"/>',
        ]
        if title:
            parts.append(_text(width / 2, 14, title, 10, "middle", "#222"))
        x_end = max(1.0, float(x_max) - 1)
        x_ticks = nice_ticks(0.0, x_end, 4, integer=True)
        self.limits = {}
        for k, key in enumerate(keys):
            values = np.asarray(series[key], dtype=np.float64)
            bottom_row = k >= len(keys) - self.columns
            parts.extend(self._panel(k, key, x, values, x_end, x_ticks, bottom_row))
        parts.append("</svg>")
        return "".join(parts).encode("utf-8")

    # ------------------------------------------------------------------ internals
    def _panel(self, k, key, x, values, x_end, x_ticks, bottom_row):
        cell = self.width / self.columns
        left = (k % self.columns) * cell + 44
        right = (k % self.columns + 1) * cell - 8
        top = _TITLE_BAND + (k // self.columns) * self.row_height + 14
        bottom = top + self.row_height - 34
        lo, hi = _limits(_scaled_part(values))
        self.limits[key] = (lo, hi)
        overall = key.startswith("overall")
        color = "black" if overall else _COLORS[k % len(_COLORS)]
        out = [_text((left + right) / 2, top - 4, _shortened(key, right - left), 9.5, "middle")]
        ticks = nice_ticks(lo, hi, 3)
        for tick, label in zip(ticks, tick_labels(ticks)):
            y = bottom - (tick - lo) / (hi - lo) * (bottom - top)
            out.append(
                f'<line x1="{left:.1f}" x2="{right:.1f}" y1="{y:.1f}" y2="{y:.1f}" '
                'stroke="#ddd" stroke-width="0.6"/>'
            )
            out.append(_text(left - 3, y + 3, label, 8, "end"))
        for tick in x_ticks:
            xt = left + tick / x_end * (right - left)
            out.append(
                f'<line x1="{xt:.1f}" x2="{xt:.1f}" y1="{bottom:.1f}" y2="{bottom + 2:.1f}" '
                'stroke="#888" stroke-width="0.6"/>'
            )
            if bottom_row:
                out.append(_text(xt, bottom + 11, f"{tick:.0f}", 8, "middle"))
        out.append(
            f'<clipPath id="c{k}"><rect x="{left:.1f}" y="{top:.1f}" '
            f'width="{right - left:.1f}" height="{bottom - top:.1f}"/></clipPath>'
        )
        n = min(x.size, values.size)
        if n:
            px = left + x[:n] / x_end * (right - left)
            py = bottom - (values[:n] - lo) / (hi - lo) * (bottom - top)
            py = np.clip(py, top - _FAR, bottom + _FAR)  # NaN stays NaN (a gap), inf a spike
            clip = f'clip-path="url(#c{k})"'
            for xs, ys in _segments(px, py):
                xs, ys = _columns(xs, ys)
                if xs.size == 1:  # a lone point: a dot
                    dot = f'cx="{xs[0]:.1f}" cy="{ys[0]:.1f}" r="1.2" fill="{color}"'
                    out.append(f"<circle {dot} {clip}/>")
                else:
                    out.append(
                        f'<polyline points="{_points(xs, ys)}" fill="none" stroke="{color}" '
                        f'stroke-width="1.2" stroke-linejoin="round" {clip}/>'
                    )
        out.append(
            f'<rect x="{left:.1f}" y="{top:.1f}" width="{right - left:.1f}" '
            f'height="{bottom - top:.1f}" fill="none" stroke="#888" stroke-width="0.8"/>'
        )
        return out


def placeholder_svg(width, height, text=""):
    """Returns a light grey SVG picture with a centred caption (before a first frame).

    Args:
        width: the picture's width in pixels.
        height: the picture's height in pixels.
        text: the caption.

    Returns:
        The SVG document's bytes.

    Example:
        >>> placeholder_svg(40, 20).startswith(b"<svg")
        True
    """
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="{_FONT}">'
        f'<rect width="{width}" height="{height}" fill="#ececec"/>'
        + _text(width / 2, height / 2 + 4, text, 11, "middle", "#6e6e6e")
        + "</svg>"
    ).encode("utf-8")


def values_html(latest, raw=False):
    """Returns the latest value of each term as a small HTML table.

    Args:
        latest: `{key: (weighted, unweighted or None)}`, as `LossSeries.latest`.
        raw: put the unweighted column first (the curves show unweighted values).

    Returns:
        An HTML string (empty before the first iteration).

    Example:
        >>> values_html({"TV(2.0) Loss": (5.0, 0.5)}).count("<tr>")
        2
    """
    if not latest:
        return ""
    first, second = ("unweighted", "weighted") if raw else ("weighted", "unweighted")
    rows = [f"<tr><th></th><th>{first}</th><th>{second}</th></tr>"]
    for key, (weighted, unweighted) in latest.items():
        cells = (unweighted, weighted) if raw else (weighted, unweighted)
        text = ["" if v is None else f"{v:.4g}" for v in cells]
        bold = " style='font-weight:bold'" if key == OVERALL else ""
        rows.append(
            f"<tr{bold}><td>{html.escape(key)}</td><td>{text[0]}</td><td>{text[1]}</td></tr>"
        )
    return (
        "<table cellpadding='2' style='font-size:11px; line-height:1.2; border-collapse:collapse'>"
        + "".join(rows)
        + "</table>"
    )
