"""The dashboard's input controls, each `link`ed to one `DashboardState` trait.

`ControlPanel` is the dashboard's left column: a row per loss weight, the
`max_iter` and jitter sliders, Run / Stop / Continue / Reset (enabled from
the runner's `running`), the progress and the status line (`state.status`).

A loss weight needs a log feel from about 0.01 to 1000 *and* the value 0
(turning a term off). `FloatLogSlider` cannot reach 0, so the weight slider
is a plain `FloatSlider` over a log10 position: the leftmost position means
weight 0 and position `p` means `10**p` rounded to 3 significant digits
(so dragging gives round numbers). Next to it a small number box shows the
exact weight and accepts any typed value (0, 3.7, 2500), which the slider
then follows as closely as its range allows.
"""

import html
import math
import operator

import ipywidgets as widgets
from traitlets import dlink, link

POSITION_MIN = -2.5  # the leftmost position: weight 0
POSITION_MAX = 3.0  # weight 1000
POSITION_STEP = 0.05
WEIGHT_TEXT_MAX = 1e9
JITTER_SLIDER_MAX = 0.25
MAX_ITER_SLIDER_MAX = 2000


def position_to_weight(position):
    """Maps a slider position to a weight: the leftmost position is 0, else `10**p` (3 digits).

    Example:
        >>> position_to_weight(1.0), position_to_weight(POSITION_MIN), position_to_weight(0.55)
        (10.0, 0.0, 3.55)
    """
    if position <= POSITION_MIN + POSITION_STEP / 2:
        return 0.0
    return float(f"{10.0**position:.3g}")


def weight_to_position(weight):
    """Maps a weight to a slider position: 0 is the leftmost, others `log10(w)` clamped.

    A positive weight never maps to the leftmost (zero) position.

    Example:
        >>> weight_to_position(0.0), weight_to_position(100.0), weight_to_position(1e-9)
        (-2.5, 2.0, -2.45)
    """
    if weight <= 0:
        return POSITION_MIN
    smallest = round(POSITION_MIN + POSITION_STEP, 10)
    return min(max(math.log10(weight), smallest), POSITION_MAX)


def weight_row(state, trait, label):
    """Returns `(row, slider, text)` for one loss weight, both linked to `state.<trait>`.

    The slider carries the CSS class `vw-weight`, the number box `vw-weight-value`.
    """
    slider = widgets.FloatSlider(
        min=POSITION_MIN,
        max=POSITION_MAX,
        step=POSITION_STEP,
        readout=False,
        continuous_update=True,
        description=label,
        tooltip=label,
        style={"description_width": "150px"},
        layout=widgets.Layout(width="340px"),
    )
    slider.add_class("vw-weight")
    text = widgets.BoundedFloatText(
        min=0.0, max=WEIGHT_TEXT_MAX, step=None, layout=widgets.Layout(width="90px")
    )
    text.add_class("vw-weight-value")
    link((state, trait), (slider, "value"), transform=(weight_to_position, position_to_weight))
    link((state, trait), (text, "value"))
    row = widgets.HBox([slider, text])
    row.add_class("vw-weight-row")
    return row, slider, text


def _state_slider(slider_class, state, trait, css_class, slider_max, **kwargs):
    """Returns a slider linked to `state.<trait>`, whose max widens to any larger value."""
    slider = slider_class(
        max=max(slider_max, getattr(state, trait)),
        description=trait,
        style={"description_width": "150px"},
        layout=widgets.Layout(width="430px"),
        **kwargs,
    )
    slider.add_class(css_class)

    def widen(change):  # observes before the link, so the slider can take the value
        slider.max = max(slider_max, change["new"], slider.max)

    state.observe(widen, names=trait)
    link((state, trait), (slider, "value"))
    return slider


def max_iter_slider(state):
    """Returns an `IntSlider` (`vw-max-iter`) linked to `state.max_iter`."""
    return _state_slider(
        widgets.IntSlider, state, "max_iter", "vw-max-iter", MAX_ITER_SLIDER_MAX, min=1, step=1
    )


def jitter_slider(state):
    """Returns a `FloatSlider` (`vw-jitter`) linked to `state.jitter` (a fraction of the size)."""
    return _state_slider(
        widgets.FloatSlider,
        state,
        "jitter",
        "vw-jitter",
        JITTER_SLIDER_MAX,
        min=0.0,
        step=0.005,
        readout_format=".3f",
        tooltip="jitter: the largest random shift, as a fraction of the image size",
    )


def button(description, css_class, tooltip, style="", icon=""):
    """Returns a `Button` with a stable CSS class."""
    btn = widgets.Button(
        description=description,
        tooltip=tooltip,
        button_style=style,
        icon=icon,
        layout=widgets.Layout(width="100px"),
    )
    btn.add_class(css_class)
    return btn


class ControlPanel:
    """The dashboard's left column, every control linked to one `DashboardState`.

    The buttons only carry their CSS classes (`vw-run`, `vw-stop`,
    `vw-continue`, `vw-reset`); the owner connects their clicks. Run,
    Continue and Reset are disabled while `runner.running`, Stop otherwise.

    Args:
        state: the `DashboardState`.
        runner: the `Runner` (its `running` trait enables the buttons).
        progress: the widget shown under the buttons (the progress view).
        header: a widget shown first (the recipe choice), or None.

    Attributes:
        weight_sliders: `{loss key: FloatSlider}` (class `vw-weight`), the
            slider's value is the log10 position (see above).
        weight_texts: `{loss key: BoundedFloatText}` with the exact weights.
        max_iter_slider, jitter_slider: the sliders of `state.max_iter` and
            `state.jitter`.
        run_button, stop_button, continue_button, reset_button: the buttons.
        status: the `HTML` status line (`vw-status`), showing `state.status`.
        widget: the column, a `VBox`.

    Example:
        ```python
        panel = ControlPanel(state, runner, ProgressView(live).widget)
        panel.run_button.on_click(lambda _: dash.run())
        ```
    """

    def __init__(self, state, runner, progress, header=None):
        self.weight_sliders, self.weight_texts, rows = {}, {}, []
        for key, trait in zip(state.loss_keys, state.weight_traits):
            row, self.weight_sliders[key], self.weight_texts[key] = weight_row(state, trait, key)
            rows.append(row)
        self.max_iter_slider = max_iter_slider(state)
        self.jitter_slider = jitter_slider(state)
        self.run_button = button("Run", "vw-run", "Run from the seed", "success", "play")
        self.stop_button = button("Stop", "vw-stop", "Stop after this iteration", "danger", "stop")
        self.continue_button = button(
            "Continue", "vw-continue", "Run again from the current image", "primary", "forward"
        )
        self.reset_button = button("Reset", "vw-reset", "Draw a new random seed", "", "refresh")
        for b in (self.run_button, self.continue_button, self.reset_button):
            dlink((runner, "running"), (b, "disabled"))
        dlink((runner, "running"), (self.stop_button, "disabled"), transform=operator.not_)
        self.status = widgets.HTML()
        self.status.add_class("vw-status")
        dlink((state, "status"), (self.status, "value"), transform=_status_html)
        buttons = [self.run_button, self.stop_button, self.continue_button, self.reset_button]
        column = [] if header is None else [header]
        column += [*rows, self.max_iter_slider, self.jitter_slider, widgets.HBox(buttons)]
        column += [progress, self.status]
        self.widget = widgets.VBox(column, layout=widgets.Layout(width="450px"))


def _status_html(text):
    return f"<span style='font-size: 90%'>{html.escape(text)}</span>"
