"""Loss curves for tuning: a small panel per loss term and the overall loss, each on its own scale.

Terms of a loss differ by decades and in sign (an activation term is a
falling negative number, a regularizer a small positive one), so one shared
axis hides most of them. Each term gets its own linear axis here, and the
latest values are given as text beside the picture (`values_html`). An axis
is scaled to the latest 90% of the iterations (once there are 20): the
first steps from a noise seed often jump by orders of magnitude (total
variation falls from 50 to 2 within a few steps), and scaling to them would
flatten the rest of the run, the part one tunes; their line leaves the axis.

Drawing is cheap enough for a live run: a persistent
`matplotlib.figure.Figure` with its own Agg canvas (never pyplot, whose
global state is not safe from a worker thread), fully drawn only when the
layout changes or a panel's axis must change; otherwise the cached
background is restored and only the lines are drawn over it (blitting,
several times cheaper: see `bench/bench_widgets.py`). Not thread-safe: one
thread draws at a time (the owner holds a lock).
"""

import html
import math

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FormatStrFormatter, MaxNLocator

from vis_widgets.render import encode_png
from vis_widgets.series import OVERALL

_COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2")
_SHRUNK = 0.35  # redraw when the data fills less than this much of an axis...
_GROWN = 2  # ...and there are this many times more points than at the last full draw
_HEADROOM = 0.4  # a panel redrawn mid-run leaves this fraction of its data's span free
_SKIP = 0.1  # the axes are scaled to the latest 90% of the iterations...
_SKIP_FROM = 20  # ...once there are this many


def _scaled_part(values):
    """The values an axis is scaled to: all, or the latest 90% from 20 points on."""
    values = np.asarray(values, dtype=np.float64)
    start = int(values.size * _SKIP) if values.size >= _SKIP_FROM else 0
    return values[start:]


def _finite(values):
    values = np.asarray(values, dtype=np.float64)
    return values[np.isfinite(values)]


def _limits(values, pad=0.12):
    """Padded `(low, high)` y limits for a panel's values (`pad`: a fraction of their span)."""
    data = _finite(values)
    if data.size == 0:
        return -1.0, 1.0
    lo, hi = float(data.min()), float(data.max())
    span = hi - lo
    margin = pad * span if span > 0 else (0.1 * abs(hi) if hi != 0 else 1.0)
    return lo - margin, hi + margin


class CurvePanels:
    """A grid of small panels, one per loss series, blitted between full draws.

    Args:
        width: the picture's width in pixels.
        row_height: the height of one row of panels, in pixels.
        columns: panels per row.
        dpi: the figure's resolution.

    Attributes:
        full_draws, blits: how often each kind of draw happened.

    Example:
        ```python
        panels = CurvePanels()
        x = np.arange(3)
        png = panels.render(x, {"TV(2.0) Loss": [3.0, 2.0, 1.5], "overall loss": [1, 0, -1]}, 100)
        ```
    """

    def __init__(self, width=460, row_height=110, columns=2, dpi=90):
        self.width, self.row_height, self.columns, self.dpi = width, row_height, columns, dpi
        self.figure = Figure(figsize=(width / dpi, row_height / dpi), dpi=dpi)
        self.canvas = FigureCanvasAgg(self.figure)
        self.full_draws = 0
        self.blits = 0
        self._axes = {}
        self._lines = {}
        self._background = None
        self._layout = None
        self._points_at_full_draw = 0

    def render(self, x, series, x_max, title=""):
        """Draws the series and returns PNG bytes.

        Args:
            x: the 0-based iterations, length T.
            series: an ordered `{label: values of length T}`; a label starting
                with "overall" is drawn in black, dashed.
            x_max: the x axis's right end (the run's `max_iter`).
            title: a title over the panels.

        Returns:
            The picture's PNG bytes.
        """
        x = np.asarray(x, dtype=np.float64)
        values = {k: np.asarray(v, dtype=np.float64) for k, v in series.items()}
        layout = (tuple(values), float(x_max), title)
        if self._background is None or layout != self._layout:
            self._full_draw(layout, x, values, list(values))
        else:
            stale = self._stale_panels(values, x.size)
            if stale:
                self._full_draw(layout, x, values, stale, pad=_HEADROOM)
            else:
                self._blit(x, values)
        return encode_png(np.asarray(self.canvas.buffer_rgba())[..., :3])

    # ------------------------------------------------------------------ internals
    def _stale_panels(self, values, points):
        """The panels whose axis must change: data beyond it, or filling little of it."""
        stale = []
        for key, axes in self._axes.items():
            data = _finite(_scaled_part(values[key]))
            if data.size == 0:
                continue
            lo, hi = axes.get_ylim()
            beyond = data.min() < lo or data.max() > hi
            shrunk = (data.max() - data.min()) < _SHRUNK * (hi - lo)
            if beyond or (shrunk and points > _GROWN * self._points_at_full_draw):
                stale.append(key)
        return stale

    def _build(self, layout):
        """Lays out one panel and one line per key (the figure grows by rows)."""
        keys, x_max, title = layout
        figure = self.figure
        figure.clear()
        rows = max(1, math.ceil(len(keys) / self.columns))
        height = rows * self.row_height + 22
        figure.set_size_inches(self.width / self.dpi, height / self.dpi)
        figure.subplots_adjust(
            left=0.1, right=0.98, bottom=0.17 / rows, top=1 - 22 / height, wspace=0.32, hspace=0.62
        )
        if title:
            figure.suptitle(title, fontsize=8, y=0.995)
        self._axes, self._lines = {}, {}
        for k, key in enumerate(keys):
            axes = figure.add_subplot(rows, self.columns, k + 1)
            overall = key.startswith("overall")
            (line,) = axes.plot(
                [],
                [],
                color="black" if overall else _COLORS[k % len(_COLORS)],
                linestyle="--" if overall else "-",
                linewidth=1.1,
                animated=True,
            )
            axes.set_xlim(0, max(1.0, x_max - 1))
            axes.set_title(key, fontsize=7.5, pad=3, y=1.0)  # a fixed y: no auto-placing
            axes.tick_params(labelsize=6, length=2, pad=1.5)
            axes.yaxis.set_major_locator(MaxNLocator(3))
            axes.xaxis.set_major_locator(MaxNLocator(4, integer=True))
            axes.yaxis.set_major_formatter(FormatStrFormatter("%.3g"))
            axes.grid(True, axis="y", linewidth=0.3, alpha=0.5)
            if k < len(keys) - self.columns:  # only the bottom row names the x axis
                axes.tick_params(labelbottom=False)
            self._axes[key], self._lines[key] = axes, line
        self._layout = layout

    def _full_draw(self, layout, x, values, keys, pad=0.12):
        if layout != self._layout:
            self._build(layout)
        for key in keys:
            self._axes[key].set_ylim(*_limits(_scaled_part(values[key]), pad))
        self.canvas.draw()
        self._background = self.canvas.copy_from_bbox(self.figure.bbox)
        self._points_at_full_draw = max(1, x.size)
        self.full_draws += 1
        self._blit(x, values, count=False)

    def _blit(self, x, values, count=True):
        self.canvas.restore_region(self._background)
        for key, line in self._lines.items():
            line.set_data(x, values[key])
            self._axes[key].draw_artist(line)
        self.blits += count


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
