"""The state, its validation, the weight slider mapping, and the links to the engine."""

import math

import numpy as np
import pytest
from traitlets import TraitError

from vis_widgets.controls import (
    POSITION_MAX,
    POSITION_MIN,
    position_to_weight,
    weight_to_position,
)
from vis_widgets.state import DashboardState

TV = "TV(2.0) Loss"


def test_weight_slider_reaches_zero_and_spans_001_to_1000():
    assert position_to_weight(POSITION_MIN) == 0.0
    assert weight_to_position(0.0) == POSITION_MIN
    assert position_to_weight(-2.0) == 0.01
    assert position_to_weight(POSITION_MAX) == 1000.0
    assert position_to_weight(0.55) == 3.55  # 3 significant digits while dragging
    # a positive weight is never shown at the zero position
    assert weight_to_position(1e-9) > POSITION_MIN
    for weight in (0.01, 0.3, 1.0, 10.0, 125.0, 1000.0):
        assert math.isclose(position_to_weight(weight_to_position(weight)), weight, rel_tol=1e-3)


def test_weight_slider_and_text_reach_the_engine(tiny_opt, make_dashboard):
    dash = make_dashboard(tiny_opt)
    slider, text = dash.weight_sliders[TV], dash.weight_texts[TV]
    assert "vw-weight" in slider._dom_classes
    assert slider.description == TV
    slider.value = 2.0
    assert dash.state.get_weight(TV) == 100.0
    assert tiny_opt.get_weight(TV) == 100.0
    assert text.value == 100.0
    text.value = 3.7  # an exact value typed in the box
    assert tiny_opt.get_weight(TV) == pytest.approx(3.7)
    assert slider.value == pytest.approx(math.log10(3.7))
    text.value = 0.0
    assert tiny_opt.get_weight(TV) == 0.0
    assert slider.value == POSITION_MIN
    text.value = 2500.0  # beyond the slider's range: the engine gets it, the slider pins
    assert tiny_opt.get_weight(TV) == 2500.0
    assert slider.value == POSITION_MAX
    assert dash.state.get_weight(TV) == 2500.0


def test_jitter_and_max_iter_sliders_reach_state_and_engine(tiny_opt, make_dashboard):
    dash = make_dashboard(tiny_opt, jitter=0.05, max_iter=30)
    dash.jitter_slider.value = 0.125
    assert dash.jitter.jitter == 0.125
    dash.max_iter_slider.value = 77
    assert dash.state.max_iter == 77
    dash.state.max_iter = 5000  # past the slider's max: the slider widens
    assert dash.max_iter_slider.value == 5000


def test_state_validation_names_the_value():
    state = DashboardState.create(["A", TV], [1.0, 10.0])
    with pytest.raises(TraitError, match=r"TV\(2.0\) Loss.*>= 0. Received: -1.0"):
        state.set_weight(TV, -1)
    with pytest.raises(TraitError, match="finite"):
        state.set_weight("A", float("nan"))
    with pytest.raises(TraitError, match="max_iter"):
        state.max_iter = 0
    with pytest.raises(TraitError, match=r"jitter.*\[0, 1\)"):
        state.jitter = 1.5
    with pytest.raises(KeyError, match="nope"):
        state.set_weight("nope", 1.0)
    assert state.weights == {"A": 1.0, TV: 10.0}


def test_dashboard_rejects_bad_arguments(tiny_opt):
    from vis_widgets.dashboard import Dashboard

    with pytest.raises(TypeError, match="optimizer"):
        Dashboard("not an optimizer")
    with pytest.raises(ValueError, match="jitter"):
        Dashboard(tiny_opt, jitter=-0.1)
    with pytest.raises(ValueError, match="seed_input"):
        Dashboard(tiny_opt, seed_input=[[1.0, 2.0]])
    with pytest.raises(ValueError, match="seed_input"):
        Dashboard(tiny_opt, seed_input=np.zeros((1, 12, 12, 3, 2)))  # one axis too many
    with pytest.raises(ValueError, match="absolute, invert, negate"):
        Dashboard(tiny_opt, grad_modifier="foo")  # at construction, not at the first Run
    with pytest.raises(TypeError, match="OptimizerCallback"):
        Dashboard(tiny_opt, callbacks=[print])
    tiny_opt.set_weight(TV, [1.0, 2.0])
    with pytest.raises(ValueError, match="one weight per sample"):
        Dashboard(tiny_opt)


def test_dashboard_takes_one_callback_as_minimize_does(tiny_opt):
    from vis_widgets.core import History
    from vis_widgets.dashboard import Dashboard

    history = History()
    dash = Dashboard(tiny_opt, callbacks=history, max_iter=2)
    assert dash.callbacks == [history]
    dash.close()


def test_liveplot_rejects_bad_arguments():
    from vis_widgets.liveplot import LivePlot

    for name in ("image_fps", "curve_fps"):
        for value in (0, -1, float("inf"), float("nan"), "10", True):
            with pytest.raises(ValueError, match=f"`{name}` must be a finite number > 0"):
                LivePlot(**{name: value})
    with pytest.raises(TypeError, match=r"keep_frames.*Received: 'no'"):
        LivePlot(keep_frames="no")


def test_from_model_builds_keras_vis_losses_for_a_filter(tiny_model):
    from vis_widgets.dashboard import Dashboard

    dash = Dashboard.from_model(tiny_model, "pred", 2, input_range=(0.0, 1.0), tv_weight=5.0)
    losses = dash.optimizer.losses
    assert dash.optimizer.loss_names == ["ActivationMax Loss", "L-6.0 Norm Loss", TV]
    config = {"layer": "pred", "filter_indices": [2], "pre_activation": True}  # softmax: auto
    assert losses[0].get_config() == config
    assert dash.weights == {"ActivationMax Loss": 1.0, "L-6.0 Norm Loss": 10.0, TV: 5.0}
    by_index = Dashboard.from_model(tiny_model, 1, None, pre_activation=False)
    assert by_index.optimizer.losses[0].layer.name == "conv"
    assert by_index.optimizer.losses[0].pre_activation is False
    dash.close()
    by_index.close()
