"""The curve panels (one per loss, each on its own scale), their blitting, the values table."""

import numpy as np
import pytest
from widgetkit import png_size

from vis_widgets.curves import CurvePanels, values_html
from vis_widgets.series import LossSeries


def _series(n):
    return {
        "ActivationMax Loss": np.linspace(-1, -20, n),  # negative, falling
        "TV(2.0) Loss": np.linspace(0.004, 0.002, n),  # four decades smaller
        "overall loss": np.linspace(-1, -20, n) + 0.003,
    }


def test_each_series_gets_its_own_panel_and_scale():
    panels = CurvePanels(width=460, row_height=110)
    png = panels.render(np.arange(50), _series(50), 100, "weighted losses")
    assert png[:4] == b"\x89PNG"
    assert png_size(png) == (460, 2 * 110 + 22)  # 3 panels: 2 rows of 2
    axes = panels.figure.axes
    assert [a.get_title() for a in axes] == list(_series(1))
    lo, hi = axes[1].get_ylim()  # the tiny TV term fills its own axis
    assert 0.0015 < lo < 0.002 and 0.004 < hi < 0.0045
    assert all(a.get_yscale() == "linear" for a in axes)
    one = CurvePanels().render(np.arange(3), {"overall loss": np.zeros(3)}, 10)
    assert png_size(one) == (460, 110 + 22)  # one row


def test_panels_are_blitted_and_fully_redrawn_only_when_an_axis_must_change():
    panels = CurvePanels()
    x, series = np.arange(100), _series(100)
    panels.render(x[:10], {k: v[:10] for k, v in series.items()}, 100, "t")
    assert (panels.full_draws, panels.blits) == (1, 0)
    # the activation falls past its axis: a full draw; within the limits: lines only
    grown = {k: v[:11].copy() for k, v in series.items()}
    grown["ActivationMax Loss"][10] = -50.0
    panels.render(x[:11], grown, 100, "t")
    assert panels.full_draws == 2
    series["ActivationMax Loss"][10] = -50.0
    limits = panels.figure.axes[0].get_ylim()
    flat = {k: np.r_[v[:11], np.full(5, v[10])] for k, v in series.items()}
    panels.render(x[:16], flat, 100, "t")
    assert (panels.full_draws, panels.blits) == (2, 1)
    assert panels.figure.axes[0].get_ylim() == limits
    panels.render(x[:16], flat, 100, "another title")  # a new layout
    assert panels.full_draws == 3
    nan = {k: np.full(16, np.nan) for k in series}
    assert panels.render(x[:16], nan, 100, "t")[:4] == b"\x89PNG"
    zero = panels.render(x[:3], {"TV(2.0) Loss": np.zeros(3)}, 100, "t")
    assert zero[:4] == b"\x89PNG" and panels.figure.axes[0].get_ylim() == (-1.0, 1.0)


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
