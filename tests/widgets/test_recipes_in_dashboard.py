"""Recipes in the UI: from_model builds each, the choice switches runs, live sliders, export."""

import numpy as np
import pytest
from widgetkit import WAIT, Gate, closed_after, find, find_all

from vis_widgets.core import (
    RECIPES,
    FourierImage,
    Jitter,
    PixelImage,
    RandomJitter,
    RandomScale,
    Transform,
)
from vis_widgets.dashboard import Dashboard
from vis_widgets.layers import LayerBrowser

TV = "TV(2.0) Loss"


@pytest.fixture
def make_recipe_dashboard(tiny_model):
    def make(**kwargs):
        kwargs.setdefault("live_options", {"image_fps": 50, "curve_fps": 20})
        kwargs.setdefault("input_range", (0.0, 1.0))
        kwargs.setdefault("layers_tab", False)
        return Dashboard.from_model(tiny_model, "pred", 1, **kwargs)

    yield from closed_after(make)


TRANSFORM_CONTROLS = ["pad", "jitter", "scale", "rotate", "jitter2"]


@pytest.mark.parametrize(
    ("recipe", "parameterization", "controls"),
    [
        ("keras-vis", type(None), []),
        ("robust pixel", PixelImage, ["learning_rate", *TRANSFORM_CONTROLS]),
        ("fourier", FourierImage, ["learning_rate", "decay", *TRANSFORM_CONTROLS]),
    ],
)
def test_from_model_builds_each_recipe(make_recipe_dashboard, recipe, parameterization, controls):
    dash = make_recipe_dashboard(recipe=recipe, max_iter=4)
    settings = RECIPES[recipe]
    assert isinstance(dash.optimizer.parameterization, parameterization)
    assert dash.state.recipe == recipe == find(dash.widget, "vw-recipe").value
    weights = [settings.act_max_weight, settings.lp_norm_weight, settings.tv_weight]
    assert list(dash.weights.values()) == weights
    assert dash.state.max_iter == 4 and dash.state.jitter == settings.jitter
    assert list(dash.recipe_panel.controls.sliders) == controls
    assert all(isinstance(m, Transform) for m in dash.input_modifiers)
    assert (len(dash.input_modifiers) == 5) == settings.transforms
    assert dash.run() and dash.wait(WAIT) and dash.last_error is None, dash.last_error
    record = dash.result
    assert record.recipe == recipe and record.iterations == 4
    lo, hi = dash.optimizer.input_range
    assert np.all((record.image >= lo) & (record.image <= hi))
    np.testing.assert_allclose(record.image, dash.optimizer.last_run.returned[0])


def test_the_recipe_choice_switches_what_runs_between_runs(make_recipe_dashboard):
    dash = make_recipe_dashboard(tv_weight=3.0, max_iter=3)  # keras-vis, TV overridden
    keras_vis = dash.optimizer
    assert dash.run() and dash.wait(WAIT)
    first = dash.result
    find(dash.widget, "vw-recipe").value = "fourier"
    assert dash.optimizer is not keras_vis
    assert isinstance(dash.optimizer.parameterization, FourierImage)
    assert list(dash.weights.values()) == [1.0, 0.0, 0.0]
    assert dash.optimizer.get_weight(TV) == 0.0  # the binding drives the new optimizer
    dash.state.set_weight(TV, 0.5)
    assert dash.optimizer.get_weight(TV) == 0.5 and keras_vis.get_weight(TV) == 3.0
    assert dash.state.max_iter == RECIPES["fourier"].max_iter
    # a fresh seed for the recipe: its parameterization's near-flat grey
    assert np.ptp(dash.current_input) < 0.1
    assert "Recipe fourier" in dash.state.status
    dash.state.max_iter = 3
    assert dash.run() and dash.wait(WAIT) and dash.result.recipe == "fourier"
    # restoring a keras-vis run switches back, with its settings
    dash.restore(first)
    assert dash.state.recipe == "keras-vis" and dash.optimizer is keras_vis
    assert dash.weights[TV] == 3.0 and dash.recipe_panel.controls.sliders == {}
    np.testing.assert_array_equal(dash.current_input, first.result_input)
    with pytest.raises(ValueError, match="Unknown `recipe`"):
        dash.set_recipe("deep dream")


def test_no_recipe_change_while_a_run_goes(make_recipe_dashboard):
    gate = Gate(at=2)
    dash = make_recipe_dashboard(max_iter=50, callbacks=[gate])
    assert dash.run()
    gate.wait_reached()
    assert find(dash.widget, "vw-recipe").disabled
    assert dash.set_recipe("fourier") is False
    dash.state.recipe = "fourier"  # the API's other way in: refused, reverted
    assert dash.state.recipe == "keras-vis" and dash.optimizer.parameterization is None
    gate.open()
    assert dash.wait(WAIT)
    assert not find(dash.widget, "vw-recipe").disabled


def test_a_dashboard_over_an_optimizer_has_no_recipe_choice(tiny_opt, make_dashboard):
    dash = make_dashboard(tiny_opt)
    assert dash.recipe_panel is None and find_all(dash.widget, "vw-recipe") == []
    with pytest.raises(ValueError, match=r"Dashboard\.from_model"):
        dash.set_recipe("fourier")


def test_recipe_sliders_move_the_running_engine_without_a_retrace(make_recipe_dashboard):
    dash = make_recipe_dashboard(recipe="fourier", max_iter=8)
    assert dash.run() and dash.wait(WAIT)  # the first run traces
    traces = dash.optimizer.trace_count
    gate = Gate(at=3)
    dash.callbacks[:] = [gate]
    assert dash.run()
    gate.wait_reached()
    controls = dash.recipe_panel.controls
    find(dash.widget, "vw-control-learning_rate").value = 0.2
    find(dash.widget, "vw-control-decay").value = 1.5
    find(dash.widget, "vw-control-scale").value = 0.25
    find(dash.widget, "vw-control-rotate").value = 20.0
    assert dash.optimizer.learning_rate == pytest.approx(0.2)
    assert dash.optimizer.parameterization.decay_power == pytest.approx(1.5)
    (scale,) = [m for m in dash.input_modifiers if isinstance(m, RandomScale)]
    assert scale.amount == pytest.approx((0.75, 1.25))
    assert controls.state.rotate == 20.0
    gate.open()
    assert dash.wait(WAIT) and dash.last_error is None, dash.last_error
    assert dash.optimizer.trace_count == traces  # no retrace: the values are tf.Variables
    assert "learning_rate=0.2" in dash.export_code()  # the snippet follows the sliders


def test_the_export_snippet_reproduces_the_chosen_recipe(make_recipe_dashboard, tiny_model):
    dash = make_recipe_dashboard(recipe="fourier", max_iter=5)
    dash.recipe_panel.controls.state.decay = 1.25
    dash.recipe_panel.controls.state.jitter = 2.0
    dash.state.set_weight(TV, 0.3)
    dash.state.jitter = 0.1
    snippet = dash.export_code()
    assert snippet.startswith("# Exported from the vis-widgets dashboard (recipe: fourier).")
    namespace = {"model": tiny_model}
    exec(snippet, namespace)
    opt, modifiers = namespace["opt"], namespace["input_modifiers"]
    assert type(opt.parameterization) is FourierImage
    assert opt.parameterization.get_config() == dash.optimizer.parameterization.get_config()
    assert opt.learning_rate == pytest.approx(dash.optimizer.learning_rate)
    assert opt.input_range == dash.optimizer.input_range
    assert [opt.get_weight(k) for k in range(3)] == pytest.approx(list(dash.weights.values()))
    for rebuilt, original in zip(opt.losses, dash.optimizer.losses):
        assert type(rebuilt) is type(original) and rebuilt.get_config() == original.get_config()
    mine = [dash.jitter_modifier, *dash.input_modifiers]
    assert [type(m) for m in modifiers] == [type(m) for m in mine]
    assert isinstance(modifiers[0], Jitter) and modifiers[0].jitter == pytest.approx(0.1)
    for rebuilt, original in zip(modifiers[1:], mine[1:]):
        assert rebuilt.amount == pytest.approx(original.amount)
    jitters = [m for m in modifiers if isinstance(m, RandomJitter)]
    assert jitters[0].amount == 2.0
    assert "max_iter=5" in snippet and namespace["img"].shape == (12, 12, 3)


@pytest.mark.parametrize("recipe", list(RECIPES))
def test_the_layer_browser_runs_every_recipe(tiny_model, recipe):
    browser = LayerBrowser(
        tiny_model, "conv", input_range=(0.0, 1.0), filters=(0, 2), recipe=recipe, max_iter=4
    )
    assert browser.recipe == find(browser.widget, "vw-layer-recipe").value == recipe
    assert browser.run() and browser.wait(WAIT)
    assert browser.last_error is None, browser.last_error
    assert sorted(browser.results) == [0, 1, 2] and f"({recipe})" in browser.status.value
    dash = browser.open(1)
    assert dash.state.recipe == recipe
    np.testing.assert_array_equal(dash.current_input, browser.results[1])
    if recipe != "keras-vis":
        assert all(np.all((r >= 0.0) & (r <= 1.0)) for r in browser.results.values())
    browser.recipe_select.value = "fourier" if recipe != "fourier" else "keras-vis"
    assert browser.max_iter_slider.value == RECIPES[browser.recipe].max_iter
    browser.close()
