"""Live controls: sliders bound to values the engine reads from `tf.Variable`s while it runs.

A `Control` says how to read and write one live value (a learning rate, a
Fourier decay, a transform amount) and the slider's range. `LiveControls`
turns a list of them into one small `HasTraits` state (a Float trait per
control, validated to its range) and one slider per control, `link`ed to
it; an observer writes each change through the control's setter, which the
engine turns into a `Variable.assign`: the compiled step reads it at its
next iteration, without retracing. As with the loss weights, the state is
the one writer of the engine's values.
"""

import dataclasses
import math

import ipywidgets as widgets
from traitlets import Float, HasTraits, TraitError, link, validate


@dataclasses.dataclass(frozen=True)
class Control:
    """One live value and its slider.

    Attributes:
        name: a short identifier (the CSS class is `vw-control-<name>`).
        label: the slider's description.
        get: returns the current value (a float).
        set: takes a new value (a float) into the engine.
        low: the smallest value.
        high: the largest value.
        log: a logarithmic slider (for a learning rate).
        step: the slider's step (linear sliders).
        tooltip: what the value does.
    """

    name: str
    label: str
    get: object
    set: object
    low: float
    high: float
    log: bool = False
    step: float = 0.01
    tooltip: str = ""


class LiveControls:
    """A validated state and a slider per `Control`, the state writing the engine.

    Args:
        controls: the `Control`s, in display order.

    Attributes:
        state: a `HasTraits` with one Float trait per control name.
        sliders: `{name: slider}`; each slider carries `vw-control` and
            `vw-control-<name>`.
        widget: a `VBox` of the sliders.

    Example:
        ```python
        rate = tf.Variable(0.05)
        controls = LiveControls([Control("lr", "learning rate", rate.numpy, rate.assign,
                                         1e-3, 1.0, log=True)])
        controls.sliders["lr"].value = 0.1  # rate.numpy() == 0.1 from now on
        ```
    """

    def __init__(self, controls):
        self.controls = {c.name: c for c in controls}
        names = {c.name: Float(float(c.get())).tag(control=c) for c in controls}
        if controls:
            names["_validate"] = validate(*self.controls)(_check_range)
        self.state = type("LiveControlState", (HasTraits,), names)()
        self.sliders = {}
        for control in controls:
            self.state.observe(lambda change, c=control: c.set(change["new"]), names=control.name)
            self.sliders[control.name] = slider = _slider(control)
            link((self.state, control.name), (slider, "value"))
        self.widget = widgets.VBox(list(self.sliders.values()))

    def refresh(self):
        """Reads every value back from the engine (e.g. after a new optimizer)."""
        with self.state.hold_trait_notifications():
            for name, control in self.controls.items():
                setattr(self.state, name, float(control.get()))


def _check_range(state, proposal):
    control = proposal["trait"].metadata["control"]
    value = proposal["value"]
    if not (math.isfinite(value) and control.low <= value <= control.high):
        raise TraitError(
            f"`{control.name}` must be in [{control.low}, {control.high}]. "
            f"Received: {control.name}={value!r}"
        )
    return value


def _slider(control):
    common = {
        "description": control.label,
        "tooltip": control.tooltip or control.label,
        "style": {"description_width": "150px"},
        "layout": widgets.Layout(width="430px"),
        "continuous_update": True,
    }
    if control.log:
        slider = widgets.FloatLogSlider(
            min=math.log10(control.low),
            max=math.log10(control.high),
            step=0.05,
            readout_format=".3g",
            **common,
        )
    else:
        slider = widgets.FloatSlider(
            min=control.low, max=control.high, step=control.step, readout_format=".3g", **common
        )
    slider.add_class("vw-control")
    slider.add_class(f"vw-control-{control.name}")
    return slider
