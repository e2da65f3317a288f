"""The layer browser: one batched run over a layer's filters, a live grid, chunks, Stop, open."""

import threading

import numpy as np
import pytest
from widgetkit import WAIT, Gate, MinimizeSpy, closed_after, find, find_all, png_size

from vis_widgets import layer_run
from vis_widgets.core import OptimizerCallback
from vis_widgets.dashboard import Dashboard
from vis_widgets.layer_run import chunk_size, per_sample_bytes, split
from vis_widgets.layers import CELL_SIZE, LayerBrowser
from vis_widgets.render import placeholder_png


@pytest.fixture
def make_browser(tiny_model):
    def make(**kwargs):
        kwargs.setdefault("input_range", (0.0, 1.0))
        kwargs.setdefault("jitter", 0.0)
        return LayerBrowser(tiny_model, **kwargs)

    yield from closed_after(make)


def test_all_filters_run_as_one_batch_and_fill_a_labelled_grid_live(make_browser, monkeypatch):
    spy = MinimizeSpy(monkeypatch)
    browser = make_browser(layer="conv", filters=(0, 3), max_iter=6)
    assert browser.run()
    assert browser.wait(WAIT) and browser.last_error is None, browser.last_error
    assert spy.shapes == [(4, 12, 12, 3)]  # ONE minimize for the 4 filters
    cells = find_all(find(browser.widget, "vw-layer-grid"), "vw-layer-cell")
    assert len(cells) == 4
    labels = [find(cell, "vw-layer-open").description for cell in cells]
    assert labels == ["filter 0", "filter 1", "filter 2", "filter 3"]
    for cell in cells:
        assert png_size(find(cell, "vw-layer-image").value) == (CELL_SIZE, CELL_SIZE)
    assert sorted(browser.results) == [0, 1, 2, 3]
    assert (browser.iteration, browser.max_iter, browser.finished) == (6, 6, True)
    assert find(browser.widget, "vw-layer-progress").value == 6
    assert "Done: 4 of 4 filters of conv" in browser.status.value
    # live: with no throttle, a run redraws its cells at every iteration, in place
    monkeypatch.setattr(layer_run, "FPS", 1e6)
    values = []
    seen = threading.Event()

    class Watch(OptimizerCallback):
        def on_begin(self):
            image = find(browser.cells[1], "vw-layer-image")
            image.observe(lambda change: values.append(bytes(change["new"])), names="value")
            seen.set()

    browser.callbacks.append(Watch())
    browser.max_iter_slider.value = 40
    assert browser.run() and browser.wait(WAIT) and seen.is_set()
    assert len(set(values)) >= 4  # one cell drawn again and again as it forms


def test_each_cell_is_the_single_filter_run_from_the_same_seed(make_browser, tiny_model):
    weights = (1.0, 10.0, 1.0)
    browser = make_browser(layer="conv", filters=(0, 3), max_iter=10, weights=weights)
    assert browser.run() and browser.wait(WAIT)
    for f in (0, 3):
        act, lp, tv = weights
        dash = Dashboard.from_model(
            tiny_model, "conv", f, (0.0, 1.0), act_max_weight=act, lp_norm_weight=lp,
            tv_weight=tv, max_iter=10, jitter=0.0, seed_input=browser.seed, layers_tab=False,
        )  # fmt: skip
        assert dash.run() and dash.wait(WAIT)
        np.testing.assert_allclose(browser.results[f], dash.result.best_input, atol=2e-4)
        dash.close()
    assert not np.allclose(browser.results[0], browser.results[3])


def test_the_chunk_rule_and_a_chunked_run(make_browser, tiny_model, monkeypatch):
    conv = tiny_model.get_layer("conv")
    per_sample = 4 * ((12 * 12 * 3 + 10 * 10 * 4) + 8 * 12 * 12 * 3)  # input + conv
    assert per_sample_bytes(tiny_model, conv) == per_sample
    assert chunk_size(tiny_model, conv, 40, memory_budget=5 * per_sample) == 5
    assert chunk_size(tiny_model, conv, 3, memory_budget=5 * per_sample) == 3
    assert chunk_size(tiny_model, conv, 40, memory_budget=1) == 1
    assert chunk_size(tiny_model, conv, 40, max_chunk=8) == 8
    assert split(range(5), 2) == [[0, 1], [2, 3], [4]]
    spy = MinimizeSpy(monkeypatch)
    browser = make_browser(layer="conv", filters=(0, 3), max_iter=4, chunk=3)
    assert browser.run() and browser.wait(WAIT)
    assert spy.shapes == [(2, 12, 12, 3), (2, 12, 12, 3)]  # 4 filters by 3: two equal chunks
    assert sorted(browser.results) == [0, 1, 2, 3]
    assert (browser.iteration, browser.max_iter) == (8, 8)  # the progress spans the chunks


def test_stop_keeps_what_has_formed(make_browser):
    hold = Gate(at=3, run=2)
    browser = make_browser(layer="conv", filters=(0, 3), max_iter=50, chunk=1, callbacks=[hold])
    assert browser.run()
    assert hold.reached.wait(WAIT)  # filter 1 is forming
    assert find(browser.widget, "vw-layer-stop").disabled is False
    find(browser.widget, "vw-layer-stop").click()
    hold.open()
    assert browser.wait(WAIT) and browser.last_error is None, browser.last_error
    assert sorted(browser.results) == [0, 1]  # filter 0 done, filter 1 stopped at 4 iterations
    assert "Stopped: 2 of 4 filters" in browser.status.value
    not_run = placeholder_png(CELL_SIZE, CELL_SIZE, "not run")
    assert bytes(find(browser.cells[2], "vw-layer-image").value) == not_run
    assert bytes(find(browser.cells[1], "vw-layer-image").value) != not_run
    assert find(browser.widget, "vw-layer-run").disabled is False


def test_a_cell_opens_its_filter_in_a_dashboard(make_browser):
    browser = make_browser(layer="conv", filters=(0, 3), max_iter=5)
    assert browser.run() and browser.wait(WAIT)
    find(browser.cells[2], "vw-layer-open").click()
    dash = browser.dashboard
    assert isinstance(dash, Dashboard)
    assert dash.optimizer.losses[0].get_config()["filter_indices"] == [2]
    assert dash.optimizer.losses[0].layer.name == "conv"
    np.testing.assert_array_equal(dash.current_input, browser.results[2])  # Continue refines it
    assert find(browser.widget, "vw-layer-dashboard").children[-1] is dash.widget
    browser.display = "as returned"  # one display setting
    assert dash.state.display == "as returned"
    assert browser.open(3) is browser.dashboard is not dash  # replaces the one before


def test_cells_start_as_placeholders_and_follow_the_display(make_browser):
    browser = make_browser(layer="pred", filters=(1, 2), max_iter=3, chunk=1)  # Dense softmax
    assert browser.run() and browser.wait(WAIT)
    image = find(browser.cells[1], "vw-layer-image")
    stretched = bytes(image.value)
    browser.display_toggle.value = "as returned"
    assert browser.display == "as returned" and bytes(image.value) != stretched
    hold = Gate(at=0, run=1)
    browser.callbacks.append(hold)
    assert browser.run(filters=[0, 3]) and hold.reached.wait(WAIT)
    waiting = placeholder_png(CELL_SIZE, CELL_SIZE, "waiting")  # before its first frame
    assert bytes(find(browser.cells[3], "vw-layer-image").value) == waiting
    hold.open()


def test_the_dashboards_layers_tab_shares_its_display_setting(tiny_model):
    dash = Dashboard.from_model(tiny_model, "conv", 0, input_range=(0.0, 1.0))
    dash.state.display = "as returned"
    assert dash.layers.display == "as returned"
    with pytest.raises(ValueError, match=r"`filters` must be \(first, last\)"):
        LayerBrowser(tiny_model, "conv", filters=(2, 9))
    dash.close()
