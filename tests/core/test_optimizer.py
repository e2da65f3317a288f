"""The Optimizer's contract (docs/engine.md), checked by value on tiny models."""

import threading
import time

import keras
import numpy as np
import pytest
import tensorflow as tf
from enginekit import Linear, Recorder

from vis_widgets.core import (
    ActivationMaximization,
    InputModifier,
    Jitter,
    Loss,
    LPNorm,
    Optimizer,
    OptimizerCallback,
    TotalVariation,
    deprocess_input,
)


def _linear_opt(model, coef, **kwargs):
    x = model.inputs[0]
    return Optimizer(x, [(Linear(x, coef), 1.0)], **kwargs)


# ----------------------------------------------------------------- the update rule
def test_first_two_rmsprop_updates_are_exact(identity_model, rng):
    coef = rng.normal(size=(1, 4, 4, 2)).astype(np.float32)
    opt = _linear_opt(identity_model, coef, norm_grads=False)
    seed = rng.normal(size=(1, 4, 4, 2)).astype(np.float32)
    rec = Recorder()
    opt.minimize(seed, max_iter=2, callbacks=[rec], verbose=False)

    g = coef.astype(np.float64)
    cache1 = 0.05 * g**2
    x1 = seed - g / np.sqrt(cache1 + 1e-7)
    cache2 = 0.95 * cache1 + 0.05 * g**2
    x2 = x1 - g / np.sqrt(cache2 + 1e-7)
    np.testing.assert_allclose(rec.calls[0]["wrt"], seed, rtol=1e-6)
    np.testing.assert_allclose(rec.calls[0]["grads"], g, rtol=1e-6)
    np.testing.assert_allclose(rec.calls[1]["wrt"], x1, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(opt.last_input, x2, rtol=1e-5, atol=1e-5)


def test_cache_is_reset_at_every_minimize_call(identity_model, rng):
    coef = rng.normal(size=(1, 4, 4, 2)).astype(np.float32)
    opt = _linear_opt(identity_model, coef, norm_grads=False)
    seed = np.zeros((1, 4, 4, 2), np.float32)
    opt.minimize(seed, max_iter=1, verbose=False)
    first = opt.last_input.copy()
    opt.minimize(seed, max_iter=1, verbose=False)
    np.testing.assert_allclose(opt.last_input, first)  # a kept cache would shrink the step


def test_per_sample_gradients_have_unit_norm_and_zero_stays_zero(identity_model, rng):
    x = identity_model.inputs[0]
    coef = rng.normal(size=(1, 4, 4, 2)).astype(np.float32)
    opt = Optimizer(x, [(Linear(x, coef), [1.0, 0.0, 1000.0])])
    rec = Recorder()
    seed = rng.normal(size=(3, 4, 4, 2))
    opt.minimize(seed, max_iter=2, callbacks=[rec], verbose=False)
    norms = np.sqrt((rec.calls[0]["grads"] ** 2).sum(axis=(1, 2, 3)))
    np.testing.assert_allclose(norms, [1.0, 0.0, 1.0], atol=1e-5)
    assert np.all(np.isfinite(opt.last_input))
    np.testing.assert_allclose(opt.last_input[1], seed[1], rtol=1e-6)  # zero gradient: no move


def test_norm_grads_false_gives_raw_gradients(identity_model):
    coef = np.full((1, 4, 4, 2), 3.0, np.float32)
    opt = _linear_opt(identity_model, coef, norm_grads=False)
    rec = Recorder()
    opt.minimize(max_iter=1, callbacks=[rec], verbose=False)
    np.testing.assert_allclose(rec.calls[0]["grads"], coef)


# ----------------------------------------------------------------- iteration order
class _Affine(InputModifier):
    """pre: x * a + b; post: the exact inverse of its own pre."""

    def __init__(self, a, b):
        self.a, self.b = a, b

    def pre(self, x):
        return x * self.a + self.b

    def post(self, x):
        return (x - self.b) / self.a

    def trace_key(self):
        return (type(self), self.a, self.b)


def test_modifiers_pre_in_order_post_in_reverse(identity_model, rng):
    x = identity_model.inputs[0]
    opt = Optimizer(x, [(LPNorm(x), 0.0)])  # zero gradient: the update is a no-op
    f, g = _Affine(2.0, 0.0), _Affine(1.0, 1.0)
    seed = rng.normal(size=(1, 4, 4, 2)).astype(np.float32)
    rec = Recorder()
    opt.minimize(seed, max_iter=1, input_modifiers=[f, g], callbacks=[rec], verbose=False)
    np.testing.assert_allclose(rec.calls[0]["wrt"], seed * 2.0 + 1.0, rtol=1e-6)  # g(f(x))
    np.testing.assert_allclose(opt.last_input, seed, rtol=1e-6, atol=1e-6)  # f.post(g.post(.))


def test_callbacks_see_modified_gradient_and_value_before_update(identity_model):
    coef = np.full((1, 4, 4, 2), 2.0, np.float32)
    opt = _linear_opt(identity_model, coef, norm_grads=False)
    rec = Recorder()
    seed = np.ones((1, 4, 4, 2), np.float32)
    opt.minimize(seed, max_iter=1, grad_modifier="negate", callbacks=[rec], verbose=False)
    np.testing.assert_allclose(rec.calls[0]["grads"], -coef)
    np.testing.assert_allclose(rec.calls[0]["wrt"], seed)
    # the update used the modified gradient: x moves up
    assert np.all(opt.last_input > seed)


def test_named_losses_are_weighted_python_floats_in_order(small_cnn):
    x = small_cnn.inputs[0]
    losses = [
        (LPNorm(x), 10.0),
        (TotalVariation(x), 0),
        (ActivationMaximization(small_cnn.layers[-1], 1), None),
    ]
    opt = Optimizer(x, losses)
    rec = Recorder()
    opt.minimize(max_iter=1, callbacks=[rec], verbose=False)
    named = rec.calls[0]["named"]
    assert [n for n, _ in named] == ["L-6.0 Norm Loss", "TV(2.0) Loss", "ActivationMax Loss"]
    assert all(type(v) is float for _, v in named)
    assert named[1][1] == 0.0 and named[2][1] == 0.0
    raw = opt.per_sample_raw_losses["L-6.0 Norm Loss"][0]
    assert named[0][1] == pytest.approx(10.0 * raw, rel=1e-6)
    assert type(rec.calls[0]["overall"]) is float
    assert rec.calls[0]["overall"] == pytest.approx(named[0][1], rel=1e-6)


def test_verbose_line_is_exact(identity_model, capsys):
    coef = np.full((1, 4, 4, 2), 0.5, np.float32)
    opt = _linear_opt(identity_model, coef)
    seed = np.ones((1, 4, 4, 2), np.float32)
    opt.minimize(seed, max_iter=1, verbose=True)
    # sum(0.5 * 1) over 32 values = 16.0
    assert capsys.readouterr().out == (
        "Iteration: 1, named_losses: [('Linear', 16.0)], overall loss: 16.0\n"
    )


# ----------------------------------------------------------------- returns
def test_return_shapes_batch_one(small_cnn):
    x = small_cnn.inputs[0]
    opt = Optimizer(x, [(ActivationMaximization(small_cnn.layers[-1], 0), 1.0)])
    img, grads, wrt_value = opt.minimize(max_iter=3, verbose=False)
    assert img.shape == (16, 16, 3)
    assert grads.shape == wrt_value.shape == (1, 16, 16, 3)
    assert img.min() >= 0 and img.max() <= 255


def test_return_shapes_batch_n_each_sample_deprocessed(small_cnn, rng):
    x = small_cnn.inputs[0]
    opt = Optimizer(
        x, [(ActivationMaximization(small_cnn.layers[-1], 0), 1.0)], input_range=(-1, 1)
    )
    seed = rng.uniform(0, 255, size=(3, 16, 16, 3))
    img, grads, wrt_value = opt.minimize(seed, max_iter=2, verbose=False)
    assert img.shape == (3, 16, 16, 3)
    assert grads.shape == wrt_value.shape == (3, 16, 16, 3)
    for k in range(3):
        np.testing.assert_allclose(img[k], deprocess_input(opt.best_input[k], (-1, 1)), rtol=1e-5)


def test_best_input_is_the_state_after_the_lowest_loss_iteration(identity_model):
    x = identity_model.inputs[0]

    class Bowl(Linear):
        name = "Bowl"

        def call(self, value):
            return super().call((value - 1.0) ** 2)

    opt = Optimizer(x, [(Bowl(x, np.ones((1, 4, 4, 2), np.float32)), 1.0)], norm_grads=False)
    rec = Recorder()
    seed = np.zeros((1, 4, 4, 2), np.float32)
    opt.minimize(seed, max_iter=6, callbacks=[rec], verbose=False)
    losses = [c["overall"] for c in rec.calls]
    best = int(np.argmin(losses))
    # the state after iteration `best`'s update is the value fed to iteration best+1,
    # or the final state when best is the last iteration
    expected = rec.calls[best + 1]["wrt"] if best + 1 < len(rec.calls) else opt.last_input
    np.testing.assert_allclose(opt.best_input, expected, rtol=1e-6)


def test_wrt_intermediate_layer_returns_its_value_and_keeps_input(small_cnn, rng):
    x = small_cnn.inputs[0]
    conv2 = small_cnn.get_layer("conv2")
    opt = Optimizer(
        x, [(ActivationMaximization(small_cnn.layers[-1], 2), 1.0)], wrt_tensor=conv2.output
    )
    seed = rng.uniform(0, 255, size=(2, 16, 16, 3)).astype(np.float32)
    _, grads, wrt_value = opt.minimize(seed, max_iter=3, verbose=False)
    assert grads.shape == wrt_value.shape == (2, 12, 12, 8)
    probe = keras.Model(x, conv2.output)
    np.testing.assert_allclose(wrt_value, probe(seed).numpy(), rtol=1e-4, atol=1e-4)
    np.testing.assert_array_equal(opt.last_input, seed)
    assert np.abs(grads).sum() > 0


def test_wrt_input_tensor_itself_is_the_default(identity_model):
    x = identity_model.inputs[0]
    opt = Optimizer(x, [(LPNorm(x), 1.0)], wrt_tensor=x)
    assert opt.wrt_is_input


# ----------------------------------------------------------------- batches and weights
def test_per_sample_weights_make_a_sweep_in_one_call(identity_model, rng):
    x = identity_model.inputs[0]
    coef = np.ones((1, 4, 4, 2), np.float32)
    opt = Optimizer(x, [(Linear(x, coef), [0.0, 1.0, 2.0]), (LPNorm(x), 0.5)])
    seed = rng.normal(size=(3, 4, 4, 2)).astype(np.float32)
    rec = Recorder()
    opt.minimize(seed, max_iter=1, callbacks=[rec], verbose=False)
    raw = seed.sum(axis=(1, 2, 3))
    weighted = opt.per_sample_losses["Linear"]
    np.testing.assert_allclose(weighted, [0.0, raw[1], 2.0 * raw[2]], rtol=1e-5)
    assert rec.calls[0]["named"][0][1] == pytest.approx(weighted.mean(), rel=1e-5)
    overall = opt.per_sample_overall_loss
    np.testing.assert_allclose(overall, weighted + opt.per_sample_losses["L-6.0 Norm Loss"])
    assert rec.calls[0]["overall"] == pytest.approx(float(overall.mean()), rel=1e-5)


def test_samples_are_independent_no_one_over_n(identity_model, rng):
    x = identity_model.inputs[0]
    coef = rng.normal(size=(1, 4, 4, 2)).astype(np.float32)
    seed = rng.normal(size=(2, 4, 4, 2)).astype(np.float32)
    batch = Optimizer(x, [(Linear(x, coef), 1.0)], norm_grads=False)
    batch.minimize(seed, max_iter=3, verbose=False)
    single = Optimizer(x, [(Linear(x, coef), 1.0)], norm_grads=False)
    single.minimize(seed[1], max_iter=3, verbose=False)
    np.testing.assert_allclose(batch.last_input[1], single.last_input[0], rtol=1e-5)


def test_per_sample_weight_of_wrong_length_fails_at_minimize(identity_model):
    x = identity_model.inputs[0]
    opt = Optimizer(x, [(LPNorm(x), [1.0, 2.0, 3.0])])
    with pytest.raises(ValueError, match=r"3 values.*2 samples"):
        opt.minimize(np.zeros((2, 4, 4, 2)), max_iter=1, verbose=False)


def test_set_and_get_weight_by_name_and_index(identity_model):
    x = identity_model.inputs[0]
    opt = Optimizer(x, [(LPNorm(x), 1.0), (TotalVariation(x), 2.0)])
    opt.set_weight("TV(2.0) Loss", 5.0)
    opt.set_weight(0, None)
    assert opt.get_weight(1) == 5.0 and opt.get_weight("L-6.0 Norm Loss") == 0.0
    opt.set_weight(-1, [1, 2])
    np.testing.assert_array_equal(opt.get_weight(1), [1.0, 2.0])
    with pytest.raises(ValueError, match="loss name"):
        opt.set_weight("nope", 1.0)
    with pytest.raises(ValueError, match="index"):
        opt.set_weight(7, 1.0)
    with pytest.raises(TypeError, match="TV"):
        opt.set_weight(1, "heavy")
    with pytest.raises(ValueError, match="finite"):
        opt.set_weight(1, float("nan"))


def test_duplicate_loss_names_get_unique_keys(identity_model):
    x = identity_model.inputs[0]
    opt = Optimizer(x, [(LPNorm(x), 1.0), (LPNorm(x), 2.0)])
    assert opt.loss_names == ["L-6.0 Norm Loss", "L-6.0 Norm Loss"]
    assert opt.loss_keys == ["L-6.0 Norm Loss", "L-6.0 Norm Loss (2)"]
    with pytest.raises(ValueError, match="Several losses"):
        opt.set_weight("L-6.0 Norm Loss", 3.0)
    opt.set_weight("L-6.0 Norm Loss (2)", 3.0)
    assert opt.get_weight(1) == 3.0


# ----------------------------------------------------------------- tracing
def test_trace_count_stays_one_across_calls_that_change_settings(small_cnn, rng):
    x = small_cnn.inputs[0]
    opt = Optimizer(
        x,
        [
            (ActivationMaximization(small_cnn.layers[-1], 1), 1.0),
            (LPNorm(x), 10.0),
            (TotalVariation(x), 10.0),
        ],
    )
    jitter = Jitter(0.05)
    opt.minimize(max_iter=2, input_modifiers=[jitter], verbose=False)
    assert opt.trace_count == 1
    opt.set_weight("TV(2.0) Loss", 0.0)
    opt.set_weight(0, 3.0)
    jitter.jitter = 0.2
    opt.minimize(max_iter=5, input_modifiers=[jitter], verbose=False)
    opt.minimize(
        rng.uniform(0, 255, (1, 16, 16, 3)),
        max_iter=3,
        input_modifiers=[Jitter(2)],
        callbacks=[Recorder()],
        verbose=True,
    )
    opt.set_weight("TV(2.0) Loss", 7.5)
    opt.minimize(max_iter=1, input_modifiers=[Jitter((0.1, 0.2))], verbose=False)
    assert opt.trace_count == 1
    opt.minimize(max_iter=1, verbose=False)  # no modifier at all: another arrangement
    assert opt.trace_count == 2


def test_a_new_jitter_amount_is_copied_into_the_traced_step(identity_model, rng):
    x = identity_model.inputs[0]
    opt = Optimizer(x, [(LPNorm(x), 0.0)])
    seed = rng.normal(size=(1, 4, 4, 2)).astype(np.float32)
    opt.minimize(seed, max_iter=1, input_modifiers=[Jitter(0)], verbose=False)
    rec = Recorder()
    opt.minimize(seed, max_iter=20, input_modifiers=[Jitter(2)], callbacks=[rec], verbose=False)
    moved = [not np.allclose(c["wrt"], seed) for c in rec.calls]
    assert any(moved)
    assert opt.trace_count == 1


def test_weight_changed_from_another_thread_reaches_the_next_iteration(identity_model):
    x = identity_model.inputs[0]
    coef = np.ones((1, 4, 4, 2), np.float32)
    opt = Optimizer(x, [(Linear(x, coef), 1.0)])
    seed = np.ones((1, 4, 4, 2), np.float32)
    seen = threading.Event()
    release = threading.Event()

    class Gate(OptimizerCallback):
        def __init__(self):
            self.named = []

        def callback(self, i, named_losses, overall_loss, grads, wrt_value):
            self.named.append((i, named_losses[0][1], wrt_value.sum()))
            if i == 2:
                seen.set()
                assert release.wait(10)

    gate = Gate()
    worker = threading.Thread(
        target=opt.minimize,
        kwargs={"seed_input": seed, "max_iter": 5, "callbacks": [gate], "verbose": False},
    )
    worker.start()
    assert seen.wait(30)
    opt.set_weight("Linear", 0.0)  # while iteration 2's callbacks run
    release.set()
    worker.join(30)
    assert not worker.is_alive()
    assert gate.named[2][1] != 0.0
    assert gate.named[3][1] == 0.0
    assert opt.trace_count == 1


# ----------------------------------------------------------------- stop and errors
def test_stop_from_another_thread_ends_the_run_and_keeps_the_best(identity_model):
    x = identity_model.inputs[0]
    opt = Optimizer(x, [(LPNorm(x, 2), 1.0)])

    class Slow(OptimizerCallback):
        def callback(self, i, named_losses, overall_loss, grads, wrt_value):
            time.sleep(0.01)

    rec = Recorder()
    result = {}
    worker = threading.Thread(
        target=lambda: result.update(
            out=opt.minimize(max_iter=100000, callbacks=[Slow(), rec], verbose=False)
        )
    )
    worker.start()
    deadline = time.time() + 30
    while len(rec.calls) < 5 and time.time() < deadline:
        time.sleep(0.01)
    assert opt.running
    opt.stop()
    worker.join(30)
    assert not worker.is_alive() and not opt.running
    assert rec.events == ["begin", "end"]
    assert 5 <= len(rec.calls) < 100000
    img = result["out"][0]
    np.testing.assert_allclose(img, deprocess_input(opt.best_input[0]), rtol=1e-5)


def test_stop_called_by_a_callback_ends_before_the_next_iteration(identity_model):
    x = identity_model.inputs[0]
    opt = Optimizer(x, [(LPNorm(x), 1.0)])

    class StopAt3(OptimizerCallback):
        def callback(self, i, named_losses, overall_loss, grads, wrt_value):
            if i == 2:
                self.optimizer.stop()

    rec = Recorder()
    opt.minimize(max_iter=50, callbacks=[StopAt3(), rec], verbose=False)
    assert [c["i"] for c in rec.calls] == [0, 1, 2]
    assert opt.iterations == 3


def test_on_end_runs_once_when_a_callback_raises(identity_model):
    x = identity_model.inputs[0]
    opt = Optimizer(x, [(LPNorm(x), 1.0)])

    class Boom(OptimizerCallback):
        def callback(self, i, named_losses, overall_loss, grads, wrt_value):
            if i == 1:
                raise KeyError("boom")

    first, last = Recorder(), Recorder()
    with pytest.raises(KeyError, match="boom"):
        opt.minimize(max_iter=10, callbacks=[first, Boom(), last], verbose=False)
    assert first.events == ["begin", "end"] and last.events == ["begin", "end"]
    assert opt.best_input is not None and opt.iterations == 2
    assert not opt.running
    opt.minimize(max_iter=1, verbose=False)  # still usable


def test_minimize_refuses_a_second_concurrent_run(identity_model):
    x = identity_model.inputs[0]
    opt = Optimizer(x, [(LPNorm(x), 1.0)])
    inside = threading.Event()
    release = threading.Event()

    class Hold(OptimizerCallback):
        def callback(self, i, named_losses, overall_loss, grads, wrt_value):
            inside.set()
            release.wait(10)

    worker = threading.Thread(
        target=opt.minimize, kwargs={"max_iter": 1, "callbacks": [Hold()], "verbose": False}
    )
    worker.start()
    assert inside.wait(30)
    with pytest.raises(RuntimeError, match="already running"):
        opt.minimize(max_iter=1, verbose=False)
    release.set()
    worker.join(30)


def test_callers_lists_and_seed_are_not_mutated(identity_model, rng):
    x = identity_model.inputs[0]
    opt = Optimizer(x, [(LPNorm(x), 1.0)])
    callbacks = [Recorder()]
    modifiers = [Jitter(1)]
    seed = rng.normal(size=(4, 4, 2)).astype(np.float32)
    before = seed.copy()
    opt.minimize(seed, max_iter=2, input_modifiers=modifiers, callbacks=callbacks, verbose=True)
    assert len(callbacks) == 1 and len(modifiers) == 1
    np.testing.assert_array_equal(seed, before)


def test_all_nan_loss_warns_and_returns_the_seed(identity_model, rng):
    x = identity_model.inputs[0]

    class Nan(Linear):
        name = "Nan"

        def call(self, value):
            return super().call(value) * np.float32("nan")

    opt = Optimizer(x, [(Nan(x, np.ones((1, 4, 4, 2), np.float32)), 1.0)])
    seed = rng.normal(size=(1, 4, 4, 2)).astype(np.float32)
    with pytest.warns(RuntimeWarning, match="never finite"):
        img, _, _ = opt.minimize(seed, max_iter=3, verbose=False)
    np.testing.assert_array_equal(opt.best_input, seed)
    assert np.all(np.isfinite(img))


def test_loss_turning_nan_keeps_the_last_finite_best(identity_model):
    x = identity_model.inputs[0]

    class Cliff(Linear):
        """Finite for x < 10, NaN beyond: the run walks off the cliff."""

        name = "Cliff"

        def call(self, value):
            base = super().call(value)
            return tf.where(tf.reduce_max(value, axis=[1, 2, 3]) < 10.0, base, np.nan)

    opt = Optimizer(x, [(Cliff(x, -np.ones((1, 4, 4, 2), np.float32)), 1.0)], norm_grads=False)
    rec = Recorder()
    with pytest.warns(RuntimeWarning, match="became NaN"):
        img, _, _ = opt.minimize(
            np.zeros((1, 4, 4, 2), np.float32), max_iter=20, callbacks=[rec], verbose=False
        )
    finite = [k for k, c in enumerate(rec.calls) if np.isfinite(c["overall"])]
    assert 1 < len(finite) < 20
    # best: the state after the update of the last (lowest) finite iteration
    np.testing.assert_allclose(opt.best_input, rec.calls[finite[-1] + 1]["wrt"])
    assert np.all(np.isfinite(img))
    assert not np.all(np.isfinite(opt.per_sample_overall_loss))


def test_a_nan_update_never_becomes_the_result(identity_model):
    # The loss is finite at the first iteration, but the update it leads to is not
    # (an infinite gradient): the best input must not be that NaN update.
    x = identity_model.inputs[0]
    opt = Optimizer(x, [(LPNorm(x, p=2), 1.0)])
    seed = np.ones((1, 4, 4, 2), np.float32)
    with pytest.warns(RuntimeWarning, match="never finite"):
        img, _, _ = opt.minimize(
            seed, max_iter=3, grad_modifier=lambda g: g * np.inf, verbose=False
        )
    np.testing.assert_array_equal(opt.best_input, seed)
    assert np.all(np.isfinite(img))
    assert not np.all(np.isfinite(opt.last_input))


def test_a_nan_gradient_at_a_finite_loss_keeps_the_seed(identity_model):
    # sqrt(|x|) is finite at 0 but its gradient there is not.
    x = identity_model.inputs[0]

    class Sqrt(Loss):
        name = "Sqrt"

        def call(self, value):
            return tf.reduce_sum(tf.sqrt(tf.abs(value)), axis=[1, 2, 3])

    opt = Optimizer(x, [(Sqrt(x), 1.0)], norm_grads=False)
    seed = np.zeros((1, 4, 4, 2), np.float32)
    with pytest.warns(RuntimeWarning, match="never finite"):
        img, _, _ = opt.minimize(seed, max_iter=3, verbose=False)
    np.testing.assert_array_equal(opt.best_input, seed)
    assert np.all(np.isfinite(img))


# ----------------------------------------------------------------- seeds
def test_random_seed_statistics_and_shape(identity_model):
    x = identity_model.inputs[0]
    opt = Optimizer(x, [(LPNorm(x), 1.0)], input_range=(0, 255))
    seed = opt.make_seed(None)
    assert seed.shape == (1, 4, 4, 2) and seed.dtype == np.float32
    assert seed.mean() == pytest.approx(127.5, abs=1e-3)
    assert seed.std() == pytest.approx(0.05 * 255, rel=1e-3)


def test_seed_without_batch_axis_gets_one(identity_model):
    x = identity_model.inputs[0]
    opt = Optimizer(x, [(LPNorm(x), 1.0)])
    assert opt.make_seed(np.zeros((4, 4, 2))).shape == (1, 4, 4, 2)


def test_channels_last_seed_is_moved_for_channels_first_input(rng):
    keras.config.set_image_data_format("channels_first")
    inp = keras.Input((2, 4, 5))
    model = keras.Model(inp, keras.layers.Activation("linear")(inp))
    x = model.inputs[0]
    opt = Optimizer(x, [(LPNorm(x), 1.0)])
    seed = rng.normal(size=(4, 5, 2))
    moved = opt.make_seed(seed)
    assert moved.shape == (1, 2, 4, 5)
    np.testing.assert_allclose(moved[0, 1], seed[..., 1], rtol=1e-6)
    img, _, _ = opt.minimize(seed, max_iter=2, verbose=False)
    assert img.shape == (2, 4, 5)


# ----------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"input_tensor": None}, TypeError, "input_tensor.*Sequential"),
        ({"input_tensor": np.zeros(3)}, TypeError, "input_tensor"),
        ({"losses": []}, ValueError, "at least one"),
        ({"losses": "LPNorm"}, TypeError, "losses"),
        ({"losses": ["not a pair"]}, TypeError, "Loss, weight"),
        ({"input_range": (1, 1)}, ValueError, "input_range.*min < max"),
        ({"input_range": (0, float("nan"))}, ValueError, "input_range"),
        ({"input_range": 5}, ValueError, "input_range"),
        ({"norm_grads": "yes"}, TypeError, "norm_grads"),
        ({"wrt_tensor": "conv"}, TypeError, "wrt_tensor"),
    ],
)
def test_constructor_rejects_bad_arguments(identity_model, kwargs, error, match):
    x = identity_model.inputs[0]
    args = {"input_tensor": x, "losses": [(LPNorm(x), 1.0)], **kwargs}
    with pytest.raises(error, match=match):
        Optimizer(**args)


@pytest.mark.parametrize(
    "weight, error",
    [
        ("1", TypeError),
        ([[1.0]], TypeError),
        ([], TypeError),
        (True, TypeError),
        (float("inf"), ValueError),
    ],
)
def test_bad_weights_name_the_loss(identity_model, weight, error):
    x = identity_model.inputs[0]
    with pytest.raises(error, match=r"L-6\.0 Norm Loss"):
        Optimizer(x, [(LPNorm(x), weight)])


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"max_iter": 0}, ValueError, "max_iter.*Received: max_iter=0"),
        ({"max_iter": 2.5}, ValueError, "max_iter"),
        ({"max_iter": True}, ValueError, "max_iter"),
        ({"seed_input": np.zeros((3, 3, 2))}, ValueError, r"\(4, 4, 2\).*\(3, 3, 2\)"),
        ({"seed_input": np.full((4, 4, 2), np.nan)}, ValueError, "finite"),
        ({"seed_input": "noise"}, TypeError, "seed_input"),
        ({"grad_modifier": "sqrt"}, ValueError, "absolute, invert, negate, relu, small_values"),
        ({"grad_modifier": 3}, TypeError, "grad_modifier"),
        ({"input_modifiers": [lambda x: x]}, TypeError, "InputModifier"),
        ({"callbacks": [print]}, TypeError, "OptimizerCallback"),
        ({"input_modifiers": [Jitter((1, 2, 3))]}, ValueError, "one per image dimension"),
        ({"verbose": "no"}, TypeError, "verbose.*Received: 'no'"),
    ],
)
def test_minimize_rejects_bad_arguments(identity_model, kwargs, error, match):
    x = identity_model.inputs[0]
    opt = Optimizer(x, [(LPNorm(x), 1.0)])
    with pytest.raises(error, match=match):
        opt.minimize(**{"max_iter": 1, "verbose": False, **kwargs})
    assert not opt.running


def test_tensor_of_a_nested_submodel_is_rejected_with_a_fix():
    inner = keras.Sequential(
        [keras.Input((8, 8, 3)), keras.layers.Conv2D(2, 3, name="inner_conv")]
    )
    inp = keras.Input((8, 8, 3))
    outer = keras.Model(inp, keras.layers.Flatten()(inner(inp)))
    x = outer.inputs[0]
    with pytest.raises(ValueError, match=r"not connected.*nested sub-model"):
        Optimizer(x, [(ActivationMaximization(inner.get_layer("inner_conv"), 0), 1.0)])


def test_one_input_of_a_multi_input_model_is_rejected():
    a, b = keras.Input((4,)), keras.Input((4,))
    out = keras.layers.Dense(2, name="head")(keras.layers.Concatenate()([a, b]))
    model = keras.Model([a, b], out)
    with pytest.raises(ValueError, match="several inputs"):
        Optimizer(model.inputs[0], [(ActivationMaximization(model.get_layer("head"), 0), 1.0)])


def test_wrt_tensor_the_losses_do_not_read_fails_clearly(small_cnn):
    x = small_cnn.inputs[0]
    conv3 = small_cnn.get_layer("conv3").output
    opt = Optimizer(
        x, [(ActivationMaximization(small_cnn.get_layer("conv1"), 0), 1.0)], wrt_tensor=conv3
    )
    with pytest.raises(ValueError, match="do not depend on `wrt_tensor`"):
        opt.minimize(max_iter=1, verbose=False)
    assert not opt.running


def test_run_warnings_keep_the_messages(identity_model):
    x = identity_model.inputs[0]

    class Nan(Linear):
        name = "Nan"

        def call(self, value):
            return super().call(value) * np.float32("nan")

    opt = Optimizer(x, [(Nan(x, np.ones((1, 4, 4, 2), np.float32)), 1.0)])
    with pytest.warns(RuntimeWarning):
        opt.minimize(max_iter=2, verbose=False)
    assert len(opt.run_warnings) == 1 and "never finite" in opt.run_warnings[0]
    opt.set_weight(0, 0.0)
    with pytest.warns(RuntimeWarning):  # 0 * NaN is still NaN
        opt.minimize(max_iter=1, verbose=False)


def test_input_range_does_not_clip_during_optimization(identity_model):
    coef = -np.ones((1, 4, 4, 2), np.float32)  # pushes every value up
    opt = _linear_opt(identity_model, coef, input_range=(0, 1))
    img, _, _ = opt.minimize(np.full((1, 4, 4, 2), 0.5), max_iter=5, verbose=False)
    assert opt.last_input.min() > 1.0  # the raw state left the range
    assert img.min() >= 0.0 and img.max() <= 1.0  # only the returned image is mapped back


def test_run_warnings_are_ready_for_on_end_and_reset_per_call(identity_model):
    x = identity_model.inputs[0]

    class Nan(Linear):
        name = "Nan"

        def call(self, value):
            return super().call(value) * np.float32("nan")

    seen = []

    class AtEnd(OptimizerCallback):
        def on_end(self):
            seen.append(list(self.optimizer.run_warnings))

    opt = Optimizer(x, [(Nan(x, np.ones((1, 4, 4, 2), np.float32)), 1.0)])
    with pytest.warns(RuntimeWarning):
        opt.minimize(max_iter=1, callbacks=[AtEnd()], verbose=False)
    assert len(seen[0]) == 1
    with pytest.raises(ValueError):
        opt.minimize(np.zeros((9, 9, 9)), max_iter=1, verbose=False)
    assert opt.run_warnings == []
