"""The run record (Optimizer.last_run), the seeds module and the callback list."""

import numpy as np
import pytest
from enginekit import At, NanLoss, Recorder

from vis_widgets.core import LPNorm, Optimizer, OptimizerCallback, RunResult, make_seed
from vis_widgets.core.callbacks import CallbackList


def test_last_run_is_one_frozen_record_set_before_on_end(identity_model, rng):
    x = identity_model.inputs[0]
    opt = Optimizer(x, [(LPNorm(x), [1.0, 2.0]), (LPNorm(x, 2), 0.5)])
    seen = {}

    class AtEnd(OptimizerCallback):
        def on_end(self):
            seen["run"] = self.optimizer.last_run

    seed = rng.normal(size=(2, 4, 4, 2)).astype(np.float32)
    img, _, _ = opt.minimize(seed, max_iter=3, callbacks=[AtEnd()], verbose=False)
    run = seen["run"]
    assert isinstance(run, RunResult) and run is opt.last_run
    assert (run.iterations, run.max_iter, run.stopped, run.error) == (3, 3, False, None)
    np.testing.assert_array_equal(run.best_input, opt.best_input)
    np.testing.assert_array_equal(run.last_input, opt.last_input)
    np.testing.assert_array_equal(run.returned, img)
    assert set(run.losses) == {"L-6.0 Norm Loss", "L-2 Norm Loss"}
    np.testing.assert_array_equal(
        run.losses["L-6.0 Norm Loss"], opt.per_sample_losses["L-6.0 Norm Loss"]
    )
    np.testing.assert_array_equal(
        run.raw_losses["L-2 Norm Loss"], opt.per_sample_raw_losses["L-2 Norm Loss"]
    )
    np.testing.assert_array_equal(run.overall_loss, opt.per_sample_overall_loss)
    with pytest.raises(ValueError):
        run.best_input[0, 0, 0, 0] = 1.0  # read-only
    with pytest.raises(TypeError):
        run.losses["x"] = 1  # read-only mapping
    with pytest.raises(AttributeError):
        run.iterations = 5  # frozen
    opt.minimize(seed, max_iter=1, verbose=False)
    assert run.iterations == 3 and opt.last_run.iterations == 1  # a new record per run


def test_last_run_records_a_stop_an_error_and_warnings(identity_model):
    x = identity_model.inputs[0]
    opt = Optimizer(x, [(LPNorm(x), 1.0)])
    opt.minimize(max_iter=10, callbacks=[At(1, lambda o: o.stop())], verbose=False)
    assert opt.last_run.stopped and opt.last_run.iterations == 2

    def boom(_):
        raise KeyError("boom")

    with pytest.raises(KeyError):
        opt.minimize(max_iter=10, callbacks=[At(0, boom)], verbose=False)
    assert opt.last_run.error == "KeyError('boom')" and not opt.last_run.stopped
    nan = Optimizer(x, [(NanLoss(x, np.ones((1, 4, 4, 2), np.float32)), 1.0)])
    with pytest.warns(RuntimeWarning):
        nan.minimize(max_iter=2, verbose=False)
    assert nan.last_run.warnings == tuple(nan.run_warnings) and len(nan.last_run.warnings) == 1


def test_make_seed_is_pure_and_exactly_one_sample_on_request(rng):
    np.random.seed(4)
    a = make_seed((None, 4, 4, 2), (0, 255))
    np.random.seed(4)
    b = make_seed((None, 4, 4, 2), (0, 255), samples=1)
    np.testing.assert_array_equal(a, b)
    three = make_seed((None, 4, 4, 2), (-1, 1), samples=3)
    assert three.shape == (3, 4, 4, 2)
    np.testing.assert_allclose(three.mean(axis=(1, 2, 3)), 0.0, atol=1e-5)  # each on its own
    np.testing.assert_allclose(three.std(axis=(1, 2, 3)), 0.1, rtol=1e-3)
    given = rng.normal(size=(4, 4, 2))
    assert make_seed((None, 4, 4, 2), seed_input=given, samples=1).shape == (1, 4, 4, 2)
    with pytest.raises(ValueError, match=r"one sample of shape \(4, 4, 2\).*batch axis of 1"):
        make_seed((None, 4, 4, 2), seed_input=np.zeros((2, 4, 4, 2)), samples=1)
    with pytest.raises(ValueError, match="samples"):
        make_seed((None, 4, 4, 2), samples=0)


def test_optimizer_make_seed_delegates(identity_model):
    x = identity_model.inputs[0]
    opt = Optimizer(x, [(LPNorm(x), 1.0)], input_range=(0, 1))
    np.random.seed(9)
    ours = opt.make_seed(samples=1)
    np.random.seed(9)
    np.testing.assert_array_equal(ours, make_seed(tuple(x.shape), (0, 1)))
    with pytest.raises(ValueError, match="one sample"):
        opt.make_seed(np.zeros((3, 4, 4, 2)), samples=1)


def test_callback_list_calls_hooks_in_order_and_keeps_the_on_end_policy(identity_model):
    events = []

    class Mark(OptimizerCallback):
        def __init__(self, name, fail_end=False):
            self.name, self.fail_end = name, fail_end

        def on_begin(self):
            events.append(("begin", self.name, self.params["max_iter"]))

        def callback(self, i, named_losses, overall_loss, grads, wrt_value):
            events.append(("it", self.name, i))

        def on_end(self):
            events.append(("end", self.name))
            if self.fail_end:
                raise OSError(self.name)

    callbacks = CallbackList([Mark("a", fail_end=True), Mark("b")])
    callbacks.begin(None, {"max_iter": 5, "batch_size": 1})
    callbacks.iteration(0, [], 0.0, None, None)
    with pytest.raises(OSError, match="a"):
        callbacks.end(run_failed=False)
    with pytest.warns(UserWarning, match="Mark.on_end failed"):
        callbacks.end(run_failed=True)
    assert events[:4] == [("begin", "a", 5), ("begin", "b", 5), ("it", "a", 0), ("it", "b", 0)]
    assert events[4:] == [("end", "a"), ("end", "b")] * 2
    assert not CallbackList([]) and CallbackList([Recorder()])
