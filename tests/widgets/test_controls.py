"""The controls: the weight slider mapping; every slider reaches the state and the engine."""

import math

import pytest

from vis_widgets.controls import (
    POSITION_MAX,
    POSITION_MIN,
    position_to_weight,
    weight_to_position,
)

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
    assert dash.jitter_modifier.jitter == 0.125
    dash.max_iter_slider.value = 77
    assert dash.state.max_iter == 77
    dash.state.max_iter = 5000  # past the slider's max: the slider widens
    assert dash.max_iter_slider.value == 5000
