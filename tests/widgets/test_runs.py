"""Finished runs: the record a run makes of itself, the compact gallery, one-click restore."""

import ipywidgets as widgets
import numpy as np
import pytest
from widgetkit import WAIT, find, find_all, png_size

from vis_widgets.display import returned_images, shown
from vis_widgets.recorder import RunPlan, RunRecorder
from vis_widgets.runs import THUMBNAIL_SIZE, thumbnail

TV = "TV(2.0) Loss"
LP = "L-6.0 Norm Loss"
AM = "ActivationMax Loss"


def _run(dash, method="run"):
    assert getattr(dash, method)()
    assert dash.wait(WAIT)
    assert dash.last_error is None, dash.last_error
    return dash.result


def test_the_recorder_builds_the_record_from_the_run_itself(tiny_opt, make_dashboard):
    dash = make_dashboard(tiny_opt)  # for its state
    seed = np.full((1, 12, 12, 3), 0.5, np.float32)
    recorder = RunRecorder(RunPlan(4, "run", seed, 6), dash.state)
    img, _, _ = tiny_opt.minimize(seed, max_iter=6, callbacks=[recorder], verbose=False)
    record = recorder.record
    np.testing.assert_array_equal(record.image, img)  # minimize's result
    np.testing.assert_array_equal(record.best_input, tiny_opt.best_input)
    np.testing.assert_array_equal(record.seed, seed)
    assert (record.number, record.kind, record.iterations, record.stopped) == (4, "run", 6, False)
    assert record.named_losses[TV] == pytest.approx(float(tiny_opt.per_sample_losses[TV][0]))
    assert record.raw_losses[TV] == pytest.approx(record.named_losses[TV] / 10.0, rel=1e-5)
    assert record.weights == dash.state.weights and record.frames == []
    assert record.summary().startswith("#4 run done: 6/6 iterations in ")


def test_runs_are_recorded_and_one_click_on_a_card_restores_one(tiny_opt, make_dashboard):
    dash = make_dashboard(tiny_opt, max_iter=8, jitter=0.05)
    first = _run(dash)
    dash.state.set_weight(TV, 0.0)
    dash.weight_texts[LP].value = 3.7
    dash.state.max_iter = 6
    dash.state.jitter = 0.1
    second = _run(dash, "continue_")
    assert dash.runs == [first, second]
    assert [r.number for r in dash.runs] == [1, 2]
    assert first.weights == {AM: 1.0, LP: 10.0, TV: 10.0}
    assert (first.max_iter, first.jitter, first.iterations) == (8, 0.05, 8)
    assert second.weights == {AM: 1.0, LP: 3.7, TV: 0.0}
    assert (second.max_iter, second.jitter, second.kind) == (6, 0.1, "continue")
    assert second.named_losses[TV] == 0.0 and second.raw_losses[TV] > 0.0
    assert first.image.shape == (12, 12, 3)
    # compact cards, newest first: a thumbnail and one line of facts (the restore button)
    cards = find_all(dash.gallery.widget, "vw-history-item")
    cards = [card for card in cards if card.layout.display != "none"]
    assert len(cards) == 2
    facts = [find(card, "vw-restore") for card in cards]
    assert facts[0].description == "#2 continue · 6/6 it · " + f"{second.overall_loss:.3g}"
    assert facts[1].description.startswith("#1 run · 8/8 it · ")
    assert "<br" not in facts[0].description and "\n" not in facts[0].description
    assert "L-6.0 Norm Loss: 3.7" in facts[0].tooltip and "jitter: 0.1" in facts[0].tooltip
    thumbnails = [find(card, kind=widgets.Image) for card in cards]
    assert [png_size(t.value) for t in thumbnails] == [(THUMBNAIL_SIZE, THUMBNAIL_SIZE)] * 2
    # one click on run #1's line
    find(dash.gallery.widget, description=facts[1].description).click()
    assert dash.weights == first.weights
    assert tiny_opt.get_weight(TV) == 10.0 and tiny_opt.get_weight(LP) == 10.0
    assert dash.weight_sliders[TV].value == pytest.approx(1.0)
    assert (dash.state.max_iter, dash.state.jitter) == (8, 0.05)
    np.testing.assert_array_equal(dash.current_input, first.best_input)
    with pytest.raises(KeyError, match="#7"):
        dash.restore(7)


def test_the_gallery_follows_the_display_setting(tiny_opt, make_dashboard):
    dash = make_dashboard(tiny_opt, max_iter=4)
    record = _run(dash)
    card = find_all(dash.gallery.widget, "vw-history-item")[0]
    image = find(card, kind=widgets.Image)
    stretched = bytes(image.value)
    dash.state.display = "as returned"
    assert bytes(image.value) != stretched
    expected = shown(returned_images(tiny_opt, record.best_input), "as returned")
    assert bytes(image.value) == thumbnail(expected.images)


def test_only_the_latest_runs_are_kept(tiny_opt, make_dashboard):
    dash = make_dashboard(tiny_opt, max_iter=2, keep_runs=2)
    for _ in range(3):
        _run(dash)
    assert [r.number for r in dash.runs] == [2, 3]
    assert len(find_all(dash.gallery.widget, "vw-history-item")) == 2
