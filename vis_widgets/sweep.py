"""Sweep: one loss's weight over a range of values, all in ONE batched `minimize`.

The seed is repeated once per value and the swept loss gets one weight per
sample, so N values cost one run of a batch of N (the engine optimizes each
sample independently), not N runs. The cells are created on the UI thread
before the run and only filled after it.

The panel starts on a regularizer (total variation, else the L-p norm):
sweeping the activation's own weight mostly shows its low end, where the
regularizers win and the picture is a checkerboard or blank. The default
range spans three decades up to ten times the loss's weight (0.01 to 10
for a weight of 0), and follows the loss picked.
"""

import math
import numbers
import threading

import ipywidgets as widgets
import numpy as np

from vis_widgets.core import ActivationMaximization, LPNorm, TotalVariation
from vis_widgets.display import shown
from vis_widgets.render import compose_frame, encode_png, placeholder_png

MAX_CELLS = 16


def sweep_values(start, stop, num):
    """Returns `num` log-spaced weights from `start` to `stop` (both > 0).

    Raises:
        ValueError: for `start` or `stop` <= 0, or `num` outside [1, 16].

    Example:
        >>> sweep_values(0.1, 100, 4).tolist()
        [0.1, 1.0, 10.0, 100.0]
    """
    for name, value in (("start", start), ("stop", stop)):
        if not (isinstance(value, numbers.Real) and math.isfinite(value) and value > 0):
            raise ValueError(
                f"`{name}` must be a finite number > 0 for log spacing (pass `values` to "
                f"include 0). Received: {name}={value!r}"
            )
    if isinstance(num, bool) or not isinstance(num, numbers.Integral) or not 1 <= num <= MAX_CELLS:
        raise ValueError(f"`num` must be an int in [1, {MAX_CELLS}]. Received: num={num!r}")
    return np.array([float(f"{v:.4g}") for v in np.geomspace(start, stop, num)])


def default_sweep_loss(losses):
    """Returns the index of the loss a sweep starts on: TV, else L-p norm, else a non-activation.

    Args:
        losses: the optimizer's `Loss` objects, in order.

    Returns:
        An index into `losses` (0 when all are activations).
    """
    for kind in (TotalVariation, LPNorm):
        for index, loss in enumerate(losses):
            if isinstance(loss, kind):
                return index
    for index, loss in enumerate(losses):
        if not isinstance(loss, ActivationMaximization):
            return index
    return 0


def default_sweep_range(weight):
    """Returns `(start, stop)`: three decades up to 10x `weight`, or 0.01 to 10 for 0.

    Example:
        >>> default_sweep_range(10.0), default_sweep_range(0.0)
        ((0.1, 100.0), (0.01, 10.0))
    """
    if not weight > 0:
        return 0.01, 10.0
    return float(f"{weight / 100:.3g}"), float(f"{weight * 10:.3g}")


def check_sweep_values(values):
    """Returns sweep weights as a list of floats (each finite, >= 0; 1 to 16 of them)."""
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(
            f"`values` must be a 1-D sequence of numbers. Received: values={values!r}"
        ) from None
    if array.ndim != 1 or not 1 <= array.size <= MAX_CELLS:
        raise ValueError(
            f"`values` must hold 1 to {MAX_CELLS} numbers. Received: values={values!r}"
        )
    if not (np.all(np.isfinite(array)) and np.all(array >= 0)):
        raise ValueError(f"`values` must be finite and >= 0. Received: values={values!r}")
    return [float(v) for v in array]


class SweepPanel:
    """The sweep's controls and its grid of result cells, each labelled with its weight.

    Args:
        loss_keys: the losses one can sweep.
        on_sweep: called as `on_sweep(key, values)` by the Sweep button.
        on_use: called as `on_use(record, k)` by a cell's "use" button.
        settings: the dashboard's state: its `display` trait (cells follow
            it) and `get_weight(key)` (the default range follows the loss).
        default: the index of the loss the panel starts on.

    Attributes:
        loss: a `Dropdown` of loss keys.
        start, stop: the range's ends (`BoundedFloatText`).
        num: the number of values (`IntSlider`).
        button: the Sweep button (`vw-sweep`).
        grid: the `GridBox` of result cells (`vw-sweep-grid`), one per value;
            each cell has an image (`vw-sweep-cell`), a label with its weight
            (`vw-sweep-label`) and a "use" button (`vw-sweep-use`).

    Example:
        ```python
        panel = SweepPanel(opt.loss_keys, dash.sweep, dash.use_sweep_cell, dash.state, 2)
        ```
    """

    def __init__(self, loss_keys, on_sweep, on_use, settings, default=0):
        self._on_sweep = on_sweep
        self._on_use = on_use
        self._settings = settings
        self._record = None
        self._fill_lock = threading.Lock()  # the run thread and a display toggle both fill
        keys = list(loss_keys)
        self.loss = widgets.Dropdown(options=keys, value=keys[default], description="loss")
        self.loss.add_class("vw-sweep-loss")
        start, stop = default_sweep_range(settings.get_weight(keys[default]))
        text_layout = widgets.Layout(width="170px")
        self.start = widgets.BoundedFloatText(
            value=start, min=1e-9, max=1e9, description="from", layout=text_layout
        )
        self.stop = widgets.BoundedFloatText(
            value=stop, min=1e-9, max=1e9, description="to", layout=text_layout
        )
        self.num = widgets.IntSlider(value=4, min=2, max=MAX_CELLS, description="values")
        self.button = widgets.Button(description="Sweep", icon="th", button_style="info")
        self.button.add_class("vw-sweep")
        self.button.on_click(lambda _: self._clicked())
        self.loss.observe(self._loss_changed, names="value")
        self.cells = []
        self.grid = widgets.GridBox(
            [],
            layout=widgets.Layout(grid_template_columns="repeat(4, 140px)", grid_gap="6px"),
        )
        self.grid.add_class("vw-sweep-grid")
        help_text = widgets.HTML(
            "<small>Log-spaced weights of one loss, all optimized at once as one batch "
            "from the same seed. <i>use</i> copies a cell's weight and image.</small>"
        )
        rows = [help_text, widgets.HBox([self.loss, self.start, self.stop])]
        rows += [widgets.HBox([self.num, self.button]), self.grid]
        self.widget = widgets.VBox(rows)
        settings.observe(lambda _: self._fill(), names="display")

    def ensure_cells(self, count):
        """Creates result cells up to `count`; call it from the UI thread, before the run."""
        while len(self.cells) < count:
            self.cells.append(self._make_cell(len(self.cells)))

    def _make_cell(self, k):
        image = widgets.Image(
            format="png", value=placeholder_png(128, 128), layout=widgets.Layout(width="128px")
        )
        image.add_class("vw-sweep-cell")
        label = widgets.HTML()
        label.add_class("vw-sweep-label")
        use = widgets.Button(description="use", layout=widgets.Layout(width="64px"))
        use.add_class("vw-sweep-use")
        use.on_click(lambda _, k=k: self._used(k))
        return widgets.VBox([image, label, use])

    def _loss_changed(self, change):
        self.start.value, self.stop.value = default_sweep_range(
            self._settings.get_weight(change["new"])
        )

    def _clicked(self):
        values = sweep_values(self.start.value, self.stop.value, self.num.value)
        self._on_sweep(self.loss.value, values)

    def _used(self, k):
        if self._record is not None:
            self._on_use(self._record, k)

    def show(self, record):
        """Fills one cell per swept value with its image and its weight."""
        self._record = record
        self._fill()

    def _fill(self):
        with self._fill_lock:
            self._fill_locked()

    def _fill_locked(self):
        record = self._record
        if record is None:
            return
        key, values = record.sweep
        images = shown(record.returned, self._settings.display).images
        for cell, img, value in zip(self.cells, images, values):
            image, label, _ = cell.children
            image.value = encode_png(compose_frame(img[None], min_size=128))
            label.value = f"<small>{key} = <b>{value:.4g}</b></small>"
        self.grid.children = tuple(self.cells[: len(values)])
