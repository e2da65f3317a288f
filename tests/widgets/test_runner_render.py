"""The runner's one-at-a-time guarantee, the curve plot's blitting, the lazy public names."""

import subprocess
import sys
import threading

import numpy as np

import vis_widgets
from vis_widgets.render import CurvePlot
from vis_widgets.runner import Runner


def test_runner_refuses_a_second_job_and_recovers_from_a_failing_one():
    runner = Runner()
    release = threading.Event()
    ran = []
    assert runner.start(lambda: (release.wait(10), ran.append("first")))
    assert runner.busy
    assert not runner.start(lambda: ran.append("second"))
    assert not runner.wait(timeout=0.05)
    release.set()
    assert runner.wait(10)
    assert ran == ["first"] and not runner.busy

    def fail():
        raise RuntimeError("job failed")

    original = threading.excepthook
    threading.excepthook = lambda args: None  # the job's error is the test's, not pytest's
    try:
        assert runner.start(fail)
        assert runner.wait(10)
    finally:
        threading.excepthook = original
    assert not runner.busy
    assert runner.start(lambda: ran.append("third")) and runner.wait(10)
    assert ran == ["first", "third"]
    assert runner.thread.daemon


def test_curves_are_blitted_and_fully_redrawn_only_when_the_axes_must_change():
    plot = CurvePlot()
    x = np.arange(100)
    series = {"a": np.linspace(5, 1, 100), "overall loss": np.linspace(-3, -1, 100)}
    first = plot.render(x[:10], {k: v[:10] for k, v in series.items()}, 100, "t")
    assert first[:4] == b"\x89PNG" and plot.full_draws == 1
    plot.render(x[:20], {k: v[:20] for k, v in series.items()}, 100, "t")
    assert (plot.full_draws, plot.blits) == (1, 1)  # inside the limits: lines only
    plot.render(x[:21], {"a": series["a"][:21], "overall loss": np.r_[series["a"][:20], 1e4]},
                100, "t")  # fmt: skip
    assert plot.full_draws == 2  # a value beyond the y limits redraws the axes
    plot.render(x[:3], {"a": np.ones(3), "overall loss": np.ones(3)}, 100, "u")
    assert plot.full_draws == 3  # a constant series (no NaN limits) and a new title
    nan = plot.render(x[:3], {"a": np.full(3, np.nan), "overall loss": np.zeros(3)}, 100, "u")
    assert nan[:4] == b"\x89PNG"


def test_public_names_are_lazy():
    assert vis_widgets.Dashboard.__name__ == "Dashboard"
    assert vis_widgets.LivePlot.__name__ == "LivePlot"
    assert {"Dashboard", "LivePlot", "RunRecord"} <= set(dir(vis_widgets))
    code = "import sys, vis_widgets\nprint('ipywidgets' in sys.modules)\n"
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"TF_CPP_MIN_LOG_LEVEL": "3", "PATH": "/usr/bin:/bin"},
    )
    assert out.stdout.strip() == "False"
