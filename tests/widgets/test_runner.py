"""The runner: one job at a time, its `running` trait, and the stop monitor."""

import threading

import pytest
from traitlets import TraitError
from widgetkit import WAIT, Gate

from vis_widgets.runner import Runner, StopMonitor


def test_runner_refuses_a_second_job_and_recovers_from_a_failing_one():
    runner = Runner()
    seen = []
    runner.observe(lambda change: seen.append(change["new"]), names="running")
    release = threading.Event()
    ran = []
    assert runner.start(lambda: (release.wait(10), ran.append("first")))
    assert runner.running and seen == [True]
    assert not runner.start(lambda: ran.append("second"))
    assert not runner.wait(timeout=0.05)
    release.set()
    assert runner.wait(10)
    assert ran == ["first"] and not runner.running and seen == [True, False]

    def fail():
        raise RuntimeError("job failed")

    original = threading.excepthook
    threading.excepthook = lambda args: None  # the job's error is the test's, not pytest's
    try:
        assert runner.start(fail)
        assert runner.wait(10)
    finally:
        threading.excepthook = original
    assert not runner.running
    assert runner.start(lambda: ran.append("third")) and runner.wait(10)
    assert ran == ["first", "third"]
    assert runner.thread.daemon


def test_running_is_read_only_for_views():
    with pytest.raises(TraitError, match="read-only"):
        Runner().running = True


def test_a_stop_before_the_run_begins_is_kept(tiny_opt):
    stop = threading.Event()
    stop.set()
    tiny_opt.minimize(max_iter=1000, callbacks=[StopMonitor(stop)], verbose=False)
    assert tiny_opt.iterations == 1  # stopped after the first iteration
    stop.clear()
    gate = Gate(at=3)
    runner = Runner()
    callbacks = [gate, StopMonitor(stop)]  # the monitor sees the stop set while held
    assert runner.start(
        lambda: tiny_opt.minimize(max_iter=1000, callbacks=callbacks, verbose=False)
    )
    gate.wait_reached()
    stop.set()
    gate.open()
    assert runner.wait(WAIT) and tiny_opt.iterations == 4
