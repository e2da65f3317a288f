"""Runs on the background thread: live steering, progress, Stop, errors, double Run, close."""

import numpy as np
import pytest
import tensorflow as tf
from widgetkit import WAIT, CountCalls, Gate, Slow

from vis_widgets.core import Loss, Optimizer, OptimizerCallback, TotalVariation
from vis_widgets.display import returned_images

TV = "TV(2.0) Loss"


def test_slider_change_mid_run_reaches_the_engine_without_retrace(tiny_opt, make_dashboard):
    gate = Gate(at=5)
    dash = make_dashboard(tiny_opt, callbacks=[gate], max_iter=12)
    dash.run()  # the first run traces the step
    gate.open()
    assert dash.wait(WAIT)
    traces = tiny_opt.trace_count

    gate = Gate(at=5)
    dash.callbacks[:] = [gate]
    dash.run()
    gate.wait_reached()
    dash.weight_sliders[TV].value = 2.0  # weight 100, while the run is held at iteration 5
    assert tiny_opt.get_weight(TV) == 100.0
    dash.jitter_slider.value = 0.0
    assert dash.jitter_modifier.jitter == 0.0
    gate.open()
    assert dash.wait(WAIT)
    assert dash.last_error is None
    record = dash.result
    # the last iterations were computed with the new weight
    assert record.named_losses[TV] == pytest.approx(100.0 * record.raw_losses[TV], rel=1e-5)
    assert record.weights[TV] == 100.0
    assert record.iterations == 12
    assert tiny_opt.trace_count == traces


def test_run_updates_the_image_several_times_and_progress_reaches_max_iter(
    tiny_opt, make_dashboard
):
    dash = make_dashboard(tiny_opt, callbacks=[Slow(0.01)], max_iter=60)
    image = dash.image
    values = []
    image.observe(lambda change: values.append(change["new"]), names="value")
    assert dash.run()
    assert dash.wait(WAIT)
    assert dash.last_error is None, dash.last_error
    assert len(values) >= 3
    assert len(set(values)) >= 3  # distinct frames, all into the same Image widget
    assert dash.image is image and image.value == dash.live.image_png
    assert dash.progress.bar.value == 60 == dash.progress.bar.max
    assert dash.state.iteration == 60
    assert "60 / 60" in dash.progress.text.value
    assert "it/s" in dash.progress.text.value
    assert bytes(dash.curves.value) == dash.live.curves_svg  # an SVG picture of the curves
    assert b"<polyline" in dash.live.curves_svg
    assert "done" in dash.state.status and "warning" not in dash.state.status
    assert not dash.running
    assert not dash.run_button.disabled and dash.stop_button.disabled


def test_the_live_image_is_not_jittered(tiny_opt, make_dashboard):
    every = {"image_fps": 1e6, "threaded": False}  # every iteration renders a frame
    dash = make_dashboard(tiny_opt, live_options=every, jitter=0.5, max_iter=8)
    for key in dash.weights:
        dash.state.set_weight(key, 0.0)  # a zero gradient: the input stays the seed
    shown = dash.image.value  # the seed, as the dashboard shows it before a run
    assert dash.run() and dash.wait(WAIT)
    assert dash.last_error is None, dash.last_error
    frames = dash.result.frames
    assert [step for step, _ in frames] == list(range(1, 9))
    expected = returned_images(tiny_opt, dash.result.seed).as_returned()
    for _, images in frames:
        np.testing.assert_array_equal(images, expected)
    assert dash.image.value == shown


def test_stop_ends_within_one_iteration_and_keeps_the_result(tiny_opt, make_dashboard):
    gate = Gate(at=10)
    dash = make_dashboard(tiny_opt, callbacks=[gate], max_iter=500)
    assert dash.run()
    gate.wait_reached()
    assert dash.running and not dash.stop_button.disabled
    dash.stop_button.click()
    gate.open()
    assert dash.wait(WAIT)
    record = dash.result
    assert record.stopped
    assert record.iterations == 11  # the held iteration was the last one
    assert record.image.shape == (12, 12, 3)
    assert np.all((record.image >= 0.0) & (record.image <= 1.0))
    assert dash.runs == [record]
    assert "stopped at 11/500" in dash.state.status
    assert dash.progress.bar.value == 11 == dash.state.iteration


def test_stop_right_after_run_is_not_lost(tiny_opt, make_dashboard):
    dash = make_dashboard(tiny_opt, max_iter=100_000)
    assert dash.run()
    dash.stop()  # may come before minimize has begun: the stop monitor keeps it
    assert dash.wait(WAIT)
    assert dash.result.stopped
    assert dash.result.iterations < 100_000


class FailOnce(OptimizerCallback):
    def __init__(self):
        self.failed = False

    def callback(self, i, named_losses, overall_loss, grads, wrt_value):
        if i == 3 and not self.failed:
            self.failed = True
            raise ZeroDivisionError("boom at iteration 4")


def test_an_error_is_shown_and_the_next_run_works(tiny_opt, make_dashboard):
    dash = make_dashboard(tiny_opt, callbacks=[FailOnce()])
    assert dash.run()
    assert dash.wait(WAIT)
    assert isinstance(dash.last_error, ZeroDivisionError)
    shown = "".join(o["text"] for o in dash.errors.outputs if o.get("name") == "stderr")
    assert "Traceback" in shown and "boom at iteration 4" in shown
    assert dash.state.status.startswith("Error: ZeroDivisionError")
    assert dash.runs == []
    assert not dash.running and not dash.run_button.disabled
    assert dash.run()  # the widget is still usable
    assert dash.wait(WAIT)
    assert len(dash.runs) == 1 and dash.result.iterations == 30
    assert dash.errors.outputs == ()  # cleared by the new run


class NanLoss(Loss):
    name = "NaN Loss"

    def call(self, value):
        return tf.fill([tf.shape(value)[0]], float("nan"))


@pytest.mark.filterwarnings("ignore:The loss of sample:RuntimeWarning")
def test_the_engine_warnings_of_a_run_are_shown(tiny_model, make_dashboard):
    x = tiny_model.inputs[0]
    opt = Optimizer(x, [(NanLoss(x), 1.0), (TotalVariation(x), 1.0)], input_range=(0.0, 1.0))
    dash = make_dashboard(opt, max_iter=3)
    assert dash.run() and dash.wait(WAIT)
    assert dash.last_error is None, dash.last_error
    assert dash.result.warnings == opt.run_warnings != []
    shown = "".join(o["text"] for o in dash.errors.outputs if o.get("name") == "stderr")
    assert "Warning: The loss of sample(s) [0] was never finite" in shown
    assert "done" in dash.state.status and "1 warning, see below" in dash.state.status


def test_a_double_run_starts_one_run(tiny_opt, make_dashboard):
    gate = Gate(at=2)
    dash = make_dashboard(tiny_opt, callbacks=[gate])
    spy = CountCalls(tiny_opt)
    assert dash.run() is True
    assert dash.run() is False
    dash.run_button.click()
    dash.continue_button.click()
    gate.wait_reached()
    gate.open()
    assert dash.wait(WAIT)
    assert len(spy.calls) == 1
    assert len(dash.runs) == 1


def test_continue_starts_from_the_current_image_and_reset_draws_a_new_seed(
    tiny_opt, make_dashboard
):
    dash = make_dashboard(tiny_opt, max_iter=5)
    spy = CountCalls(tiny_opt)
    seed = dash.current_input
    dash.run()
    dash.wait(WAIT)
    first = dash.result
    np.testing.assert_array_equal(spy.calls[0][0][0], seed)
    np.testing.assert_array_equal(dash.current_input, first.best_input)
    dash.continue_()
    dash.wait(WAIT)
    np.testing.assert_array_equal(spy.calls[1][0][0], first.best_input)
    assert dash.result.kind == "continue"
    assert dash.reset()
    assert not np.array_equal(dash.current_input, seed)
    dash.run()
    dash.wait(WAIT)
    np.testing.assert_array_equal(spy.calls[2][0][0], dash.runs[-1].seed)
    assert not np.array_equal(spy.calls[2][0][0], seed)


def test_closing_the_widget_stops_its_run(tiny_opt, make_dashboard):
    gate = Gate(at=3)
    dash = make_dashboard(tiny_opt, callbacks=[gate], max_iter=100_000)
    dash.run()
    gate.wait_reached()
    dash.widget.close()  # as when the front-end's view is closed through the widget
    gate.open()
    assert dash.wait(WAIT)
    assert dash.result.stopped and dash.result.iterations == 4
    assert dash.run() is False  # a closed dashboard does not start again
