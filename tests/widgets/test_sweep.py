"""Sweep: one batched minimize, per-sample weights, a labelled grid, the weight restored."""

import ipywidgets as widgets
import numpy as np
import pytest
from widgetkit import WAIT, CountCalls, find, find_all, png_size

from vis_widgets.sweep import (
    check_sweep_values,
    default_sweep_loss,
    default_sweep_range,
    sweep_values,
)

TV = "TV(2.0) Loss"
LP = "L-6.0 Norm Loss"


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
        assert png_size(find(cell, "vw-sweep-cell").value) == (132, 132)
        assert find(cell, "vw-sweep-label").value == f"<small>{TV} = <b>{value:.4g}</b></small>"
    assert record.labels == ["w=0", "w=1", "w=10", "w=100"]
    # the live view showed the batch as one labelled grid, larger than one cell
    width, height = png_size(dash.image.value)
    assert width >= 2 * 120 and height >= 2 * (120 + 14)  # 2x2 cells + captions
    assert dash.range_text.value.startswith("each image stretched on its own")


def test_a_sweep_cell_gives_its_weight_and_image(tiny_opt, make_dashboard):
    dash = make_dashboard(tiny_opt, max_iter=4)
    panel = dash.sweep_panel
    panel.num.value = 3
    panel.loss.value = TV
    panel.start.value = 0.5
    panel.stop.value = 50.0
    find(panel.widget, "vw-sweep").click()
    assert dash.wait(WAIT)
    assert dash.result.sweep == (TV, [0.5, 5.0, 50.0])
    (third,) = [c for c in panel.grid.children if "<b>50</b>" in find(c, "vw-sweep-label").value]
    find(third, "vw-sweep-use").click()
    assert dash.state.get_weight(TV) == 50.0 == tiny_opt.get_weight(TV)
    np.testing.assert_array_equal(dash.current_input, dash.result.best_input[2:3])


def test_the_sweep_starts_on_a_regularizer_with_a_range_around_its_weight(
    tiny_opt, make_dashboard
):
    dash = make_dashboard(tiny_opt)
    panel = dash.sweep_panel
    assert panel.loss.value == TV  # not the activation weight
    assert (panel.start.value, panel.stop.value) == (0.1, 100.0)  # TV's weight is 10
    dash.state.set_weight(LP, 0.0)
    panel.loss.value = LP  # the range follows the loss picked, and its weight
    assert (panel.start.value, panel.stop.value) == (0.01, 10.0)
    assert default_sweep_range(2.0) == (0.02, 20.0)
    assert default_sweep_loss(tiny_opt.losses) == 2
    assert default_sweep_loss(tiny_opt.losses[:2]) == 1  # no TV: the L-p norm
    assert default_sweep_loss(tiny_opt.losses[:1]) == 0  # only an activation


def test_sweep_cells_start_as_placeholders_and_follow_the_display(tiny_opt, make_dashboard):
    dash = make_dashboard(tiny_opt, max_iter=3)
    dash.sweep_panel.ensure_cells(2)
    for cell in dash.sweep_panel.cells:
        assert png_size(find(cell, kind=widgets.Image).value) == (128, 128)
    assert dash.sweep(TV, [1.0, 2.0]) and dash.wait(WAIT)
    images = find_all(dash.sweep_panel.grid, "vw-sweep-cell")
    before = [bytes(i.value) for i in images]
    dash.state.display = "as returned"
    assert [bytes(i.value) for i in images] != before


def test_sweep_arguments_are_checked(tiny_opt, make_dashboard):
    dash = make_dashboard(tiny_opt)
    assert sweep_values(0.1, 100, 4).tolist() == [0.1, 1.0, 10.0, 100.0]
    with pytest.raises(ValueError, match="start"):
        sweep_values(0.0, 10, 3)
    with pytest.raises(ValueError, match=">= 0"):
        check_sweep_values([1.0, -2.0])
    with pytest.raises(ValueError, match="1 to 16"):
        check_sweep_values(list(range(17)))
    with pytest.raises(ValueError, match="nope"):
        dash.sweep("nope", [1.0])
    assert dash.runs == []
