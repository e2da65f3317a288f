"""The curve panels (one per loss, each on its own scale, an SVG picture), the values table."""

import numpy as np
import pytest
from widgetkit import SVG, svg_size, svg_tree

from vis_widgets.core.callbacks import reads_arrays
from vis_widgets.curves import CurvePanels, nice_ticks, placeholder_svg, tick_labels, values_html
from vis_widgets.layer_run import GridFeed
from vis_widgets.liveplot import LivePlot
from vis_widgets.recorder import RunRecorder
from vis_widgets.runner import StopMonitor
from vis_widgets.series import LossSeries


def _series(n):
    return {
        "ActivationMax Loss": np.linspace(-1, -20, n),  # negative, falling
        "TV(2.0) Loss": np.linspace(0.004, 0.002, n),  # four decades smaller
        "overall loss": np.linspace(-1, -20, n) + 0.003,
    }


def _titles(root):
    return [t.text for t in root.iter(f"{SVG}text")]


def _lines(root):
    """Each polyline's points as an (n, 2) array, in drawing order."""
    return [
        np.array([[float(v) for v in p.split(",")] for p in line.get("points").split()])
        for line in root.iter(f"{SVG}polyline")
    ]


def _frames(root):
    """Each panel's plot area `(left, top, right, bottom)`: the outlined rectangles."""
    boxes = []
    for rect in root.iter(f"{SVG}rect"):
        if rect.get("stroke"):
            x, y = float(rect.get("x")), float(rect.get("y"))
            boxes.append((x, y, x + float(rect.get("width")), y + float(rect.get("height"))))
    return boxes


def test_each_series_gets_its_own_panel_and_scale():
    panels = CurvePanels(width=460, row_height=110)
    svg = panels.render(np.arange(50), _series(50), 100, "weighted losses")
    assert svg.startswith(b"<svg") and svg_size(svg) == (460, 2 * 110 + 22)  # 2 rows of 2
    root = svg_tree(svg)
    texts = _titles(root)
    assert texts[0] == "weighted losses" and all(key in texts for key in _series(1))
    assert list(panels.limits) == list(_series(1))
    lo, hi = panels.limits["TV(2.0) Loss"]  # the tiny term fills its own axis
    assert 0.0015 < lo < 0.002 and 0.004 < hi < 0.0045
    assert len(_lines(root)) == 3 and len(_frames(root)) == 3
    one = CurvePanels().render(np.arange(3), {"overall loss": np.zeros(3)}, 10)
    assert svg_size(one) == (460, 110 + 22)  # one row


def test_a_line_maps_its_values_onto_its_panel():
    panels = CurvePanels()
    values = np.array([3.0, 1.0, 2.0, 0.0])
    root = svg_tree(panels.render(np.arange(4), {"TV(2.0) Loss": values}, 4))
    (left, top, right, bottom), (line,) = _frames(root)[0], _lines(root)
    lo, hi = panels.limits["TV(2.0) Loss"]
    assert lo < 0.0 and hi > 3.0  # padded around the data
    np.testing.assert_allclose(line[:, 0], left + np.arange(4) / 3 * (right - left), atol=0.06)
    expected_y = bottom - (values - lo) / (hi - lo) * (bottom - top)
    np.testing.assert_allclose(line[:, 1], expected_y, atol=0.06)
    # the y tick labels are the axis's round numbers, the x ones the iterations
    texts = list(root.iter(f"{SVG}text"))
    y_labels = [t.text for t in texts if t.get("text-anchor") == "end"]
    assert y_labels == [f"{t:.3g}" for t in nice_ticks(lo, hi, 3)]
    x_labels = [t.text for t in texts if t.get("text-anchor") == "middle"][1:]  # after the title
    assert x_labels == ["0", "1", "2", "3"]


def test_the_first_steps_leave_the_axis_and_a_nan_breaks_the_line():
    panels = CurvePanels()
    values = np.r_[50.0, 20.0, np.linspace(2.0, 1.0, 38)]  # total variation from noise
    values[25] = np.nan
    root = svg_tree(panels.render(np.arange(40), {"TV(2.0) Loss": values}, 40))
    hi = panels.limits["TV(2.0) Loss"][1]
    assert hi < 2.2  # scaled to the latest 90%: the first two points are beyond it
    lines = _lines(root)
    assert [len(line) for line in lines] == [25, 14]  # split at the NaN, nothing dropped
    top = _frames(root)[0][1]
    assert lines[0][0, 1] < top  # the first point is drawn above the axis (and clipped)
    clips = {c.get("id") for c in root.iter(f"{SVG}clipPath")}
    assert len(clips) == 1
    for line in root.iter(f"{SVG}polyline"):  # every line is clipped to its panel
        assert line.get("clip-path") == f"url(#{next(iter(clips))})"
    lone = svg_tree(panels.render(np.arange(3), {"a": [np.nan, 2.0, np.nan]}, 3))
    (dot,) = lone.iter(f"{SVG}circle")  # a point between gaps is a dot, clipped too
    assert _lines(lone) == [] and dot.get("clip-path") == "url(#c0)"
    nan = panels.render(np.arange(5), {"overall loss": np.full(5, np.nan)}, 5)
    assert _lines(svg_tree(nan)) == [] and panels.limits["overall loss"] == (-1.0, 1.0)
    panels.render(np.arange(3), {"TV(2.0) Loss": np.zeros(3)}, 5)
    assert panels.limits["TV(2.0) Loss"] == (-1.0, 1.0)


def test_a_long_line_keeps_each_pixel_columns_extremes():
    panels = CurvePanels()
    values = np.sin(np.arange(20_000) / 50.0)
    values[12_345] = 3.0  # one spike
    svg = panels.render(np.arange(20_000), {"overall loss": values}, 20_000)
    (line,) = _lines(svg_tree(svg))
    left, top, right, bottom = _frames(svg_tree(svg))[0]
    assert len(line) <= 4 * (right - left + 1) and len(svg) < 60_000
    assert line[:, 1].min() == pytest.approx(top + 0.12 / 1.24 * (bottom - top), abs=0.06)
    assert np.all(np.diff(line[:, 0]) >= 0)  # still drawn left to right


def test_labels_are_escaped_and_the_placeholder_is_a_picture():
    svg = CurvePanels().render(
        np.arange(3), {"<b>&'": np.ones(3), "a\x01b": np.ones(3)}, 3, "a < b"
    )
    assert {"<b>&'", "ab", "a < b"} <= set(_titles(svg_tree(svg)))  # control characters dropped
    long = "ActivationMax Loss of a layer with a very long name indeed"
    title = _titles(svg_tree(CurvePanels().render(np.arange(3), {long: np.ones(3)}, 3)))[0]
    assert title.endswith("\u2026") and long.startswith(title[:-1]) and len(title) < 40
    empty = placeholder_svg(460, 242, "the curves appear here")
    assert svg_size(empty) == (460, 242) and _titles(svg_tree(empty)) == ["the curves appear here"]


@pytest.mark.parametrize(
    "low, high, count, integer",
    [(0, 499, 4, True), (0, 9, 4, True), (-0.93, 0.41, 3, False), (1e-4, 3e-4, 3, False),
     (-20, -1, 3, False), (1e5, 1.7e5, 3, False), (0.5, 0.5000001, 3, False)],
)  # fmt: skip
def test_ticks_are_round_and_inside_the_axis(low, high, count, integer):
    ticks = nice_ticks(low, high, count, integer=integer)
    assert 1 <= len(ticks) <= count + 2 and ticks == sorted(ticks)
    assert all(low - 1e-12 <= t <= high + 1e-12 for t in ticks)
    steps = np.diff(ticks)
    if len(ticks) > 1:
        np.testing.assert_allclose(steps, steps[0])
        mantissa = steps[0] / 10 ** np.floor(np.log10(steps[0]))
        assert round(mantissa, 6) in (1, 2, 2.5, 5)
        assert not integer or steps[0] >= 1
    assert nice_ticks(1.0, 1.0) == [1.0] and nice_ticks(0.0, np.inf) == [0.0]
    assert len(set(tick_labels(ticks))) == len(ticks)  # labels tell the ticks apart


@pytest.mark.parametrize(
    "values",
    [[-1234.0, -1236.0, -1240.0], [1000.0, 1002.0, 1010.0], [5e-324] * 5, [0.0, 1.7e308, 1e308],
     [-0.0, 0.0], [1e-30, 2e-30], [3.0], [np.inf, -np.inf, 1.0]],
)  # fmt: skip
def test_any_finite_data_gives_a_picture_with_distinct_round_ticks(values):
    panels = CurvePanels()
    values = np.asarray(values)
    svg = panels.render(np.arange(values.size), {"a": values}, values.size)
    lo, hi = panels.limits["a"]
    assert np.isfinite([lo, hi]).all() and lo < hi
    labels = [t.text for t in svg_tree(svg).iter(f"{SVG}text") if t.get("text-anchor") == "end"]
    assert labels and len(set(labels)) == len(labels)


def test_the_widgets_callbacks_never_read_the_arrays():
    # a run watched by the dashboard spares the engine the per-iteration numpy copies
    for callback in (LivePlot, LossSeries, StopMonitor, RunRecorder, GridFeed):
        assert not reads_arrays(callback), callback


def test_the_values_table_gives_each_terms_latest_value(tiny_opt):
    series = LossSeries()
    tiny_opt.minimize(max_iter=4, callbacks=[series], verbose=False)
    latest = series.latest()
    assert list(latest) == [*tiny_opt.loss_keys, "overall loss"]
    tv_weighted, tv_raw = latest["TV(2.0) Loss"]
    assert tv_weighted == series.history["TV(2.0) Loss"][-1]
    assert tv_raw == series.raw_history["TV(2.0) Loss"][-1]
    assert tv_weighted == pytest.approx(10.0 * tv_raw, rel=1e-5)
    table = values_html(latest)
    assert table.count("<tr") == 5  # a header and 4 terms
    assert f"<td>{tv_weighted:.4g}</td><td>{tv_raw:.4g}</td>" in table
    raw_first = values_html(latest, raw=True)
    assert f"<td>{tv_raw:.4g}</td><td>{tv_weighted:.4g}</td>" in raw_first
    assert values_html({}) == ""


def test_a_snapshot_counts_an_iteration_once_all_its_values_are_in(tiny_opt):
    series = LossSeries()
    tiny_opt.minimize(max_iter=3, callbacks=[series], verbose=False)
    # an iteration half recorded (as a render thread may see it): values in, index not yet
    for values in [*series.raw_history.values(), *series.history.values()]:
        values.append(0.0)
    x, values = series.snapshot(raw=True)
    assert x.tolist() == [0, 1, 2]
    assert set(values) == {*tiny_opt.loss_keys, "overall loss"}
    assert all(len(v) == 3 for v in values.values())
    np.testing.assert_allclose(values["overall loss"], series.history["overall loss"][:3])
    np.testing.assert_allclose(values["TV(2.0) Loss"], series.raw_history["TV(2.0) Loss"][:3])
