"""Live controls: a slider per engine value, through one validated state, into a tf.Variable."""

import pytest
import tensorflow as tf
from traitlets import TraitError
from widgetkit import find

from vis_widgets.live_controls import Control, LiveControls


def _controls():
    rate = tf.Variable(0.05)
    amount = tf.Variable(4.0)
    controls = LiveControls(
        [
            Control("lr", "learning rate", rate.numpy, rate.assign, 1e-3, 1.0, log=True),
            Control("pad", "pad", amount.numpy, amount.assign, 0.0, 16.0, step=1.0),
        ]
    )
    return controls, rate, amount


def test_a_slider_writes_its_variable_through_the_state():
    controls, rate, amount = _controls()
    assert controls.state.lr == pytest.approx(0.05) and controls.state.pad == 4.0
    lr = find(controls.widget, "vw-control-lr")
    assert "vw-control" in lr._dom_classes and lr.value == pytest.approx(0.05)
    lr.value = 0.2
    assert controls.state.lr == pytest.approx(0.2) and rate.numpy() == pytest.approx(0.2)
    controls.state.pad = 9.0  # the API takes the same path
    assert amount.numpy() == 9.0 and find(controls.widget, "vw-control-pad").value == 9.0


def test_the_state_validates_and_refresh_reads_the_engine_back():
    controls, rate, amount = _controls()
    with pytest.raises(TraitError, match=r"`pad` must be in \[0.0, 16.0\]. Received: pad=20.0"):
        controls.state.pad = 20.0
    assert amount.numpy() == 4.0
    rate.assign(0.5)  # changed elsewhere, e.g. a new optimizer
    controls.refresh()
    assert controls.state.lr == pytest.approx(0.5)
    assert find(controls.widget, "vw-control-lr").value == pytest.approx(0.5)
