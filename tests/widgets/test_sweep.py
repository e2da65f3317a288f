"""Sweep: one batched minimize, per-sample weights, a labelled grid, the weight restored."""

import io

import numpy as np
import pytest
from PIL import Image
from widgetkit import WAIT, CountCalls

from vis_widgets.sweep import check_values, sweep_values

TV = "TV(2.0) Loss"


def test_a_sweep_of_4_values_is_one_batched_minimize_that_fills_4_cells(tiny_opt, make_dashboard):
    dash = make_dashboard(tiny_opt, max_iter=7)
    spy = CountCalls(tiny_opt)
    seed = dash.current_input
    values = [0.0, 1.0, 10.0, 100.0]
    assert dash.sweep(TV, values)
    assert dash.wait(WAIT)
    assert dash.last_error is None, dash.last_error
    assert len(spy.calls) == 1
    (batch_seed,), kwargs = spy.calls[0]
    assert batch_seed.shape == (4, 12, 12, 3)
    assert kwargs["max_iter"] == 7
    for sample in batch_seed:  # every value starts from the same seed
        np.testing.assert_array_equal(sample, seed[0])
    # each sample was optimized with its own weight
    weighted, raw = tiny_opt.per_sample_losses[TV], tiny_opt.per_sample_raw_losses[TV]
    np.testing.assert_allclose(weighted, np.array(values) * raw, rtol=1e-5)
    # then the scalar weight is back, in the engine and the state
    assert tiny_opt.get_weight(TV) == 10.0 == dash.state.get_weight(TV)
    record = dash.result
    assert record.kind == "sweep" and record.sweep == (TV, values)
    assert record.image.shape == (4, 12, 12, 3)
    cells = dash.sweep_panel.grid.children
    assert len(cells) == 4
    for cell, value in zip(cells, values):
        image, label, _ = cell.children
        assert Image.open(io.BytesIO(image.value)).size == (132, 132)
        assert f"<b>{value:.4g}</b>" in label.value
    assert record.labels == ["w=0", "w=1", "w=10", "w=100"]
    # the live view showed the batch as one labelled grid, larger than one cell
    live = Image.open(io.BytesIO(dash.live.image.value))
    assert live.size[0] >= 2 * 120 and live.size[1] >= 2 * (120 + 14)  # 2x2 cells + captions


def test_a_sweep_cell_gives_its_weight_and_image(tiny_opt, make_dashboard):
    dash = make_dashboard(tiny_opt, max_iter=4)
    dash.sweep_panel.num.value = 3
    dash.sweep_panel.start.value = 0.5
    dash.sweep_panel.stop.value = 50.0
    dash.sweep_panel.loss.value = TV
    dash.sweep_panel.button.click()
    assert dash.wait(WAIT)
    assert dash.result.sweep == (TV, [0.5, 5.0, 50.0])
    dash.sweep_panel.grid.children[2].children[2].click()  # "use" on the third cell
    assert dash.state.get_weight(TV) == 50.0 == tiny_opt.get_weight(TV)
    np.testing.assert_array_equal(dash.current_input, dash.result.best_input[2:3])


def test_sweep_arguments_are_checked(tiny_opt, make_dashboard):
    dash = make_dashboard(tiny_opt)
    assert sweep_values(0.1, 100, 4).tolist() == [0.1, 1.0, 10.0, 100.0]
    with pytest.raises(ValueError, match="start"):
        sweep_values(0.0, 10, 3)
    with pytest.raises(ValueError, match=">= 0"):
        check_values([1.0, -2.0])
    with pytest.raises(ValueError, match="1 to 16"):
        check_values(list(range(17)))
    with pytest.raises(KeyError, match="nope"):
        dash.sweep("nope", [1.0])
    assert dash.history == []
