"""Jitter and the gradient modifiers."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from enginekit import Recorder

from vis_widgets.core import Jitter, LPNorm, Optimizer, grad_modifiers


def _offsets(jitter, x):
    """Applies `pre` and returns the offsets it drew (checked against np.roll elsewhere)."""
    rolled = jitter.pre(tf.constant(x)).numpy()
    np.testing.assert_array_equal(rolled, np.roll(x, tuple(jitter._offsets.numpy()), axis=(1, 2)))
    return tuple(int(v) for v in jitter._offsets.numpy())


def test_jitter_draws_every_offset_in_the_closed_range():
    jitter = Jitter(2, seed=1)
    jitter.build((1, 20, 20, 2), "channels_last")
    x = np.random.default_rng(0).normal(size=(1, 20, 20, 2)).astype(np.float32)
    seen = {_offsets(jitter, x) for _ in range(300)}
    assert {r for r, _ in seen} == {-2, -1, 0, 1, 2}
    assert {c for _, c in seen} == {-2, -1, 0, 1, 2}


def test_jitter_fraction_is_of_each_dimension_and_per_dimension_values():
    jitter = Jitter((0.25, 0), seed=3)  # rows: int(8*0.25)=2 pixels, cols: none
    jitter.build((1, 8, 6, 2), "channels_last")
    x = np.random.default_rng(0).normal(size=(1, 8, 6, 2)).astype(np.float32)
    rows = set()
    for _ in range(200):
        r, c = _offsets(jitter, x)
        rows.add(r)
        assert c == 0
    assert rows == {-2, -1, 0, 1, 2}


def test_jitter_rolls_circularly_keeps_channels_and_post_undoes_it():
    jitter = Jitter(3, seed=0)
    x = np.random.default_rng(0).normal(size=(2, 7, 9, 3)).astype(np.float32)
    jitter.build(x.shape, "channels_last")
    rolled = jitter.pre(tf.constant(x))
    r, c = jitter._offsets.numpy()
    np.testing.assert_array_equal(rolled.numpy(), np.roll(x, (r, c), axis=(1, 2)))
    np.testing.assert_array_equal(jitter.post(rolled).numpy(), x)


def test_jitter_channels_first_leaves_the_channel_axis():
    jitter = Jitter(1, seed=0, data_format="channels_first")
    x = np.random.default_rng(1).normal(size=(1, 3, 5, 5)).astype(np.float32)
    jitter.build(x.shape, "channels_first")
    for _ in range(20):
        rolled = jitter.pre(tf.constant(x)).numpy()
        r, c = jitter._offsets.numpy()
        np.testing.assert_array_equal(rolled, np.roll(x, (r, c), axis=(2, 3)))


def test_jitter_amount_is_live_and_validated():
    jitter = Jitter(0.05)
    variable = jitter.variables[0]
    jitter.jitter = 0.2
    assert jitter.jitter == pytest.approx(0.2) and jitter.variables[0] is variable
    jitter.jitter = (1, 2)
    assert jitter.jitter == (1.0, 2.0)
    with pytest.raises(ValueError, match=r"jitter.*>= 0.*Received: jitter=-1"):
        Jitter(-1)
    with pytest.raises(TypeError, match="jitter"):
        Jitter("big")
    with pytest.raises(ValueError, match="image dimensions"):
        Jitter(1).build((1, 5), "channels_last")


def test_jitter_keeps_the_image_registered_in_a_run():
    inp = keras.Input((6, 6, 1))
    model = keras.Model(inp, keras.layers.Activation("linear")(inp))
    x = model.inputs[0]
    opt = Optimizer(x, [(LPNorm(x), 0.0)])  # zero gradient: only the modifiers act
    seed = np.random.default_rng(2).normal(size=(1, 6, 6, 1)).astype(np.float32)
    rec = Recorder()
    opt.minimize(seed, max_iter=10, input_modifiers=[Jitter(2, seed=5)], callbacks=[rec])
    assert any(not np.array_equal(c["wrt"], seed) for c in rec.calls)  # it did jitter
    np.testing.assert_allclose(opt.last_input, seed)  # and rolled back each time


@pytest.mark.parametrize(
    "name, expected",
    [
        ("absolute", lambda g: np.abs(g)),
        ("negate", lambda g: -g),
        ("invert", lambda g: 1 / (g + 1e-7)),
        ("relu", lambda g: np.maximum(g, 0)),
        ("small_values", lambda g: np.abs(1 / (g + 1e-7))),
    ],
)
def test_named_grad_modifiers(name, expected):
    g = np.array([-2.0, -0.5, 0.25, 3.0], np.float32)
    before = g.copy()
    out = grad_modifiers.get(name)(tf.constant(g)).numpy()
    np.testing.assert_allclose(out, expected(g), rtol=1e-6)
    np.testing.assert_array_equal(g, before)


def test_grad_modifier_lookup():
    assert grad_modifiers.get(None) is None
    assert grad_modifiers.get(tf.square) is tf.square
    with pytest.raises(ValueError, match="absolute, invert, negate, relu, small_values"):
        grad_modifiers.get("sqrt")
    with pytest.raises(TypeError, match="grad_modifier"):
        grad_modifiers.get(3)


def _jitter_run(opt, seed_img, jitter, n=8):
    rec = Recorder()
    opt.minimize(seed_img, max_iter=n, input_modifiers=[jitter], callbacks=[rec], verbose=False)
    return [c["wrt"] for c in rec.calls]


def _zero_opt(shape):
    inp = keras.Input(shape)
    model = keras.Model(inp, keras.layers.Activation("linear")(inp))
    x = model.inputs[0]
    return Optimizer(x, [(LPNorm(x), 0.0)])  # zero gradient: only the modifiers act


def test_a_seeded_jitter_is_reproducible_on_a_reused_optimizer():
    opt = _zero_opt((9, 9, 1))
    img = np.random.default_rng(4).normal(size=(1, 9, 9, 1)).astype(np.float32)
    _jitter_run(opt, img, Jitter(3, seed=11))  # traces with this instance
    first = _jitter_run(opt, img, Jitter(3, seed=7))
    second = _jitter_run(opt, img, Jitter(3, seed=7))
    fresh = _jitter_run(_zero_opt((9, 9, 1)), img, Jitter(3, seed=7))
    for a, b, c in zip(first, second, fresh):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(a, c)
    assert opt.trace_count == 1


def test_a_reused_stand_in_jitter_keeps_drawing_new_offsets():
    opt = _zero_opt((9, 9, 1))
    img = np.random.default_rng(4).normal(size=(1, 9, 9, 1)).astype(np.float32)
    _jitter_run(opt, img, Jitter(3, seed=11))
    stand_in = Jitter(3, seed=5)
    first = _jitter_run(opt, img, stand_in)
    second = _jitter_run(opt, img, stand_in)
    assert any(not np.array_equal(a, b) for a, b in zip(first, second))


def test_a_stand_in_jitter_amount_changed_mid_run_acts_next_iteration():
    opt = _zero_opt((9, 9, 1))
    img = np.random.default_rng(4).normal(size=(1, 9, 9, 1)).astype(np.float32)
    _jitter_run(opt, img, Jitter(3, seed=11))
    stand_in = Jitter(0, seed=5)

    class Raise(Recorder):
        def callback(self, i, named_losses, overall_loss, grads, wrt_value):
            super().callback(i, named_losses, overall_loss, grads, wrt_value)
            if i == 3:
                stand_in.jitter = 4

    rec = Raise()
    opt.minimize(img, max_iter=30, input_modifiers=[stand_in], callbacks=[rec], verbose=False)
    assert all(np.array_equal(c["wrt"], img) for c in rec.calls[:4])
    assert any(not np.array_equal(c["wrt"], img) for c in rec.calls[4:])
    assert opt.trace_count == 1


def test_current_input_is_the_registered_state_during_callbacks():
    opt = _zero_opt((9, 9, 1))
    img = np.random.default_rng(4).normal(size=(1, 9, 9, 1)).astype(np.float32)
    seen = []

    class Look(Recorder):
        def callback(self, i, named_losses, overall_loss, grads, wrt_value):
            seen.append((np.array(wrt_value), self.optimizer.current_input))

    assert opt.current_input is None
    opt.minimize(img, max_iter=10, input_modifiers=[Jitter(3, seed=2)], callbacks=[Look()])
    assert any(not np.array_equal(w, img) for w, _ in seen)  # wrt_value is jittered
    for _, current in seen:
        np.testing.assert_array_equal(current, img)  # the state is not
