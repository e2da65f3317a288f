"""History (records, gallery, restore), export (snippet, PNG, GIF) and the curves toggle."""

import io

import numpy as np
import pytest
from PIL import Image
from widgetkit import WAIT, Slow, three_losses

from vis_widgets.core import Optimizer

TV = "TV(2.0) Loss"
LP = "L-6.0 Norm Loss"
AM = "ActivationMax Loss"


def _run(dash, method="run"):
    assert getattr(dash, method)()
    assert dash.wait(WAIT)
    assert dash.last_error is None, dash.last_error
    return dash.result


def test_history_records_each_run_and_one_click_restores_it(tiny_opt, make_dashboard):
    dash = make_dashboard(tiny_opt, max_iter=8, jitter=0.05)
    first = _run(dash)
    dash.state.set_weight(TV, 0.0)
    dash.weight_texts[LP].value = 3.7
    dash.state.max_iter = 6
    dash.state.jitter = 0.1
    second = _run(dash, "continue_")
    assert dash.history == [first, second]
    assert [r.number for r in dash.history] == [1, 2]
    assert first.weights == {AM: 1.0, LP: 10.0, TV: 10.0}
    assert (first.max_iter, first.jitter, first.iterations) == (8, 0.05, 8)
    assert second.weights == {AM: 1.0, LP: 3.7, TV: 0.0}
    assert (second.max_iter, second.jitter, second.kind) == (6, 0.1, "continue")
    assert set(first.named_losses) == {AM, LP, TV} == set(first.raw_losses)
    assert second.named_losses[TV] == 0.0 and second.raw_losses[TV] > 0.0
    assert first.image.shape == (12, 12, 3)
    # the gallery shows both, newest first, each with its thumbnail
    visible = [s for s in dash.gallery.slots if s.layout.display != "none"]
    assert len(visible) == 2
    assert "#2" in visible[0].children[1].value and "#1" in visible[1].children[1].value
    assert all(s.children[0].value[:4] == b"\x89PNG" for s in visible)
    # one click on run #1's restore button
    visible[1].children[2].click()
    assert dash.weights == first.weights
    assert tiny_opt.get_weight(TV) == 10.0 and tiny_opt.get_weight(LP) == 10.0
    assert dash.weight_sliders[TV].value == pytest.approx(1.0)
    assert (dash.state.max_iter, dash.state.jitter) == (8, 0.05)
    np.testing.assert_array_equal(dash.current_input, first.best_input)
    with pytest.raises(KeyError, match="#7"):
        dash.restore(7)


def test_history_keeps_the_latest_runs(tiny_opt, make_dashboard):
    dash = make_dashboard(tiny_opt, max_iter=2, history_size=2)
    for _ in range(3):
        _run(dash)
    assert [r.number for r in dash.history] == [2, 3]


def test_the_export_snippet_rebuilds_the_same_losses_and_weights(tiny_model, make_dashboard):
    opt = Optimizer(tiny_model.inputs[0], three_losses(tiny_model), input_range=(0.0, 1.0))
    dash = make_dashboard(opt, max_iter=3, jitter=0.08)
    dash.state.set_weight(AM, 0.0)
    dash.weight_texts[LP].value = 3.7
    dash.weight_sliders[TV].value = 2.1
    snippet = dash.export_code()
    assert dash.export_text.value == snippet
    assert 'model.get_layer("pred")' in snippet or "model.get_layer('pred')" in snippet
    namespace = {"model": tiny_model}
    exec(snippet, namespace)
    rebuilt = namespace["losses"]
    assert [w for _, w in rebuilt] == list(dash.weights.values()) == [0.0, 3.7, 126.0]
    for (loss, _), original in zip(rebuilt, opt.losses):
        assert type(loss) is type(original)
        assert loss.get_config() == original.get_config()
    assert namespace["opt"].input_range == (0.0, 1.0)
    assert [namespace["opt"].get_weight(k) for k in range(3)] == pytest.approx([0.0, 3.7, 126.0])
    assert "max_iter=3" in snippet and "Jitter(0.08)" in snippet
    assert namespace["img"].shape == (12, 12, 3)


def test_the_export_snippet_names_a_callable_grad_modifier(tiny_model, make_dashboard):
    def clip_gradients(grads):
        return grads

    opt = Optimizer(tiny_model.inputs[0], three_losses(tiny_model), input_range=(0.0, 1.0))
    snippet = make_dashboard(opt, grad_modifier=clip_gradients).export_code()
    assert "# grad_modifier: the dashboard used the function 'clip_gradients'" in snippet
    assert "grad_modifier=clip_gradients, verbose=False)" in snippet
    snippet = make_dashboard(opt, grad_modifier=lambda g: g).export_code()
    assert "the function '<lambda>'" in snippet and "grad_modifier=" not in snippet.split("\n")[-2]
    assert "grad_modifier='negate'" in make_dashboard(opt, grad_modifier="negate").export_code()


def test_save_png_and_gif(tiny_opt, make_dashboard, tmp_path):
    dash = make_dashboard(tiny_opt, callbacks=[Slow(0.003)], max_iter=40)
    with pytest.raises(ValueError, match="no finished run"):
        dash.save_gif(tmp_path / "none.gif")
    _run(dash)
    png = Image.open(dash.save_png(tmp_path / "img.png"))
    assert png.format == "PNG" and png.size == (264, 264)  # 12 px upscaled x22 to reach 256
    native = Image.open(dash.save_png(tmp_path / "native.png", min_size=0))
    assert native.size == (12, 12)
    gif = Image.open(dash.save_gif(tmp_path / "run.gif"))
    assert gif.format == "GIF"
    assert gif.n_frames == len(dash.result.frames) >= 3
    assert dash.result.frames[0][0] == 1 and dash.result.frames[-1][0] == 40
    # the Export tab's buttons: what was saved, or why not
    panel = dash.export_panel
    panel.png_path.value = str(tmp_path / "clicked.png")
    panel.save_png_button.click()
    assert (tmp_path / "clicked.png").exists() and panel.status.value.startswith("Saved ")
    panel.gif_path.value = str(tmp_path / "missing" / "run.gif")
    panel.save_gif_button.click()
    assert panel.status.value.startswith("Could not save: FileNotFoundError")


def test_the_curves_toggle_shows_unweighted_values(tiny_opt, make_dashboard):
    dash = make_dashboard(tiny_opt, max_iter=5)
    _run(dash)
    weighted = dash.live.curves.value
    dash.curves_mode.value = True
    assert dash.state.raw_curves and dash.live.raw
    assert dash.live.curves.value != weighted
    picture = Image.open(io.BytesIO(dash.live.curves.value))
    assert picture.size == (460, 240)
    assert dash.live.raw_history[TV] == pytest.approx(
        [v / 10.0 for v in dash.live.history[TV]], rel=1e-5
    )
