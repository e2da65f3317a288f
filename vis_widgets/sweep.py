"""Sweep: one loss's weight over a range of values, all in ONE batched `minimize`.

The seed is repeated once per value and the swept loss gets one weight per
sample, so N values cost one run of a batch of N (the engine optimizes each
sample independently), not N runs. The cells are created on the UI thread
before the run and only filled after it.
"""

import math
import numbers

import ipywidgets as widgets
import numpy as np

from vis_widgets.render import compose_frame, encode_png

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


def check_values(values):
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
    """The sweep's controls and its grid of result cells.

    Args:
        loss_keys: the losses one can sweep.
        on_sweep: called as `on_sweep(key, values)` by the Sweep button.
        on_use: called as `on_use(record, k)` by a cell's "use" button.

    Attributes:
        loss: a `Dropdown` of loss keys.
        start, stop: the range's ends (`BoundedFloatText`).
        num: the number of values (`IntSlider`).
        button: the Sweep button (`vw-sweep`).
        grid: the `GridBox` of result cells (`vw-sweep-grid`), one per value.

    Example:
        ```python
        panel = SweepPanel(opt.loss_keys, on_sweep=dash.sweep, on_use=dash.use_sweep_cell)
        ```
    """

    def __init__(self, loss_keys, on_sweep, on_use):
        self._on_sweep = on_sweep
        self._on_use = on_use
        self._record = None
        self.loss = widgets.Dropdown(options=list(loss_keys), description="loss")
        self.start = widgets.BoundedFloatText(
            value=0.1, min=1e-9, max=1e9, description="from", layout=widgets.Layout(width="170px")
        )
        self.stop = widgets.BoundedFloatText(
            value=100.0, min=1e-9, max=1e9, description="to", layout=widgets.Layout(width="170px")
        )
        self.num = widgets.IntSlider(value=4, min=2, max=MAX_CELLS, description="values")
        self.button = widgets.Button(description="Sweep", icon="th", button_style="info")
        self.button.add_class("vw-sweep")
        self.button.on_click(lambda _: self._clicked())
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
        self.widget = widgets.VBox(
            [help_text, widgets.HBox([self.loss, self.start, self.stop]),
             widgets.HBox([self.num, self.button]), self.grid]
        )  # fmt: skip

    def ensure_cells(self, count):
        """Creates result cells up to `count`; call it from the UI thread, before the run."""
        while len(self.cells) < count:
            self.cells.append(self._make_cell(len(self.cells)))

    def _make_cell(self, k):
        image = widgets.Image(format="png", layout=widgets.Layout(width="128px"))
        image.add_class("vw-sweep-cell")
        label = widgets.HTML()
        use = widgets.Button(description="use", layout=widgets.Layout(width="64px"))
        use.add_class("vw-sweep-use")
        use.on_click(lambda _, k=k: self._used(k))
        return widgets.VBox([image, label, use])

    def _clicked(self):
        values = sweep_values(self.start.value, self.stop.value, self.num.value)
        self._on_sweep(self.loss.value, values)

    def _used(self, k):
        if self._record is not None:
            self._on_use(self._record, k)

    def show(self, record, images):
        """Fills one cell per swept value with its image `(N, H, W, C)` and weight."""
        key, values = record.sweep
        for cell, img, value in zip(self.cells, images, values):
            image, label, _ = cell.children
            image.value = encode_png(compose_frame(img[None], min_size=128))
            label.value = f"<small>{key}</small><br><b>{value:.4g}</b>"
        self._record = record
        self.grid.children = tuple(self.cells[: len(values)])
