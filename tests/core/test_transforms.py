"""The in-tape transforms, by value: the coordinate maps, per-sample draws, amounts."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from enginekit import Linear, Recorder

from vis_widgets.core import (
    Optimizer,
    Pad,
    RandomJitter,
    RandomRotate,
    RandomScale,
    Transform,
    standard_transforms,
)
from vis_widgets.core.transforms import apply_transforms


def _apply(transforms, x, fill=0.5, data_format="channels_last"):
    for t in transforms:
        t.build(x.shape, data_format)
    return apply_transforms(transforms, tf.constant(x), fill, data_format).numpy()


def _image(rng, shape=(2, 9, 9, 2)):
    return rng.normal(size=shape).astype(np.float32)


@pytest.mark.parametrize(
    "transform",
    [Pad(0), RandomJitter(0, seed=1), RandomScale((1, 1), seed=1), RandomRotate(0, seed=1)],
    ids=lambda t: type(t).__name__,
)
def test_zero_amounts_are_exactly_the_identity(transform, rng):
    x = _image(rng)
    np.testing.assert_array_equal(_apply([transform], x), x)


def test_pad_shows_the_fill_and_resizes_the_canvas_back(rng):
    x = _image(rng, (1, 8, 8, 1))
    out = _apply([Pad(4)], x, fill=7.0)  # canvas 16 -> 8: out i reads source 2i - 3.5
    assert out.shape == x.shape
    assert out[0, 0, 0, 0] == pytest.approx(7.0)
    expected = 0.25 * (x[0, 0, 0] + x[0, 0, 1] + x[0, 1, 0] + x[0, 1, 1])  # source (0.5, 0.5)
    np.testing.assert_allclose(out[0, 2, 2], expected, rtol=1e-5)
    np.testing.assert_allclose(out[0, 5, 3], 0.25 * x[0, 6:8, 2:4].sum(axis=(0, 1)), rtol=1e-5)


def test_scale_zooms_about_the_centre(rng):
    x = _image(rng, (1, 9, 9, 1))
    out = _apply([RandomScale((2, 2), seed=0)], x)  # out i reads 4 + (i - 4) / 2
    np.testing.assert_allclose(out[0, 2, 6], x[0, 3, 5], rtol=1e-6)
    np.testing.assert_allclose(out[0, 0, 0], x[0, 2, 2], rtol=1e-6)
    np.testing.assert_allclose(out[0, 4, 4], x[0, 4, 4], rtol=1e-6)


def test_rotation_turns_about_the_centre_with_one_angle_per_sample(rng):
    x = np.repeat(_image(rng, (1, 9, 9, 1)), 4, axis=0)
    out = _apply([RandomRotate(180, seed=2)], x, fill=0.0)
    np.testing.assert_allclose(out[:, 4, 4], x[:, 4, 4], rtol=1e-5)  # the centre stays
    assert len({round(float(v), 4) for v in out[:, 1, 4, 0]}) == 4  # four different angles


def test_jitter_draws_per_sample_offsets_within_the_amount(rng):
    x = np.repeat(_image(rng, (1, 9, 9, 1)), 6, axis=0)
    jitter = RandomJitter(2, seed=4)  # canvas 7 resized to 9, shifted by [0, 2]
    out = _apply([jitter], x)
    assert len({out[k].tobytes() for k in range(6)}) == 6
    # every output is a bilinear blend of the image: within its range
    assert out.min() >= x.min() - 1e-5 and out.max() <= x.max() + 1e-5


def test_a_run_of_affine_transforms_is_one_resampling(rng):
    x = _image(rng)
    calls = []
    original = tf.raw_ops.ImageProjectiveTransformV3

    def counting(**kwargs):
        calls.append(1)
        return original(**kwargs)

    tf.raw_ops.ImageProjectiveTransformV3 = counting
    try:
        out = _apply(standard_transforms(9, seed=0), x)
    finally:
        tf.raw_ops.ImageProjectiveTransformV3 = original
    assert len(calls) == 1 and out.shape == x.shape


def test_channels_first_matches_channels_last(rng):
    x = _image(rng)
    first = _apply(
        standard_transforms(9, seed=5), np.transpose(x, [0, 3, 1, 2]), 0.5, "channels_first"
    )
    last = _apply(standard_transforms(9, seed=5), x)
    np.testing.assert_allclose(np.transpose(first, [0, 2, 3, 1]), last, rtol=1e-5, atol=1e-6)


def test_the_gradient_flows_through_to_the_image(rng):
    x = tf.constant(_image(rng))
    transforms = standard_transforms(9, seed=1)
    for t in transforms:
        t.build(x.shape, "channels_last")
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = apply_transforms(transforms, x, 0.5, "channels_last")
        total = tf.reduce_sum(y * y)
    grad = tape.gradient(total, x).numpy()
    assert np.all(np.isfinite(grad)) and np.abs(grad).sum(axis=(1, 2, 3)).min() > 0


def test_a_custom_transform_runs_between_two_resamplings(rng):
    class Negate(Transform):
        def transform(self, x, fill):
            return -x

    x = _image(rng)
    out = _apply([Pad(0), Negate(), Pad(0)], x)
    np.testing.assert_array_equal(out, -x)
    assert Negate().trace_key() != Negate().trace_key()  # custom: one trace per instance


def test_standard_transforms_scale_lucids_pixel_amounts():
    pad, jitter, scale, rotate, jitter2 = standard_transforms(16)
    assert (pad.amount, jitter.amount, jitter2.amount) == (1.5, 1.0, 0.5)
    assert scale.amount == pytest.approx((0.9, 1.1)) and rotate.amount == 10.0
    assert [type(t).__name__ for t in standard_transforms(128)] == [
        "Pad",
        "RandomJitter",
        "RandomScale",
        "RandomRotate",
        "RandomJitter",
    ]
    assert standard_transforms(128)[0].amount == 12.0


def test_seeded_draws_are_reproducible_and_numpy_seeds_the_rest(rng):
    x = _image(rng)
    a = _apply(standard_transforms(9, seed=7), x)
    b = _apply(standard_transforms(9, seed=7), x)
    np.testing.assert_array_equal(a, b)
    np.random.seed(3)
    c = _apply(standard_transforms(9), x)
    np.random.seed(3)
    d = _apply(standard_transforms(9), x)
    np.testing.assert_array_equal(c, d)


def test_amounts_are_live_and_validated():
    jitter = RandomJitter(2)
    variable = jitter.variables[0]
    jitter.amount = 5
    assert jitter.amount == 5.0 and jitter.variables[0] is variable
    scale = RandomScale(0.2)
    assert scale.amount == pytest.approx((0.8, 1.2))
    scale.amount = (1.0, 1.5)
    assert scale.amount == pytest.approx((1.0, 1.5))
    assert repr(Pad(3)) == "Pad(pad=3.0)"
    assert RandomRotate(5, seed=1).get_config() == {"degrees": 5.0, "seed": 1}


@pytest.mark.parametrize(
    "make, error, match",
    [
        (lambda: Pad(-1), ValueError, r"`pad` must be >= 0 and finite. Received: pad=-1"),
        (lambda: RandomJitter(float("inf")), ValueError, "jitter"),
        (lambda: RandomJitter("lots"), TypeError, "jitter"),
        (lambda: RandomScale((0, 1)), ValueError, r"scale.*0 < min <= max"),
        (lambda: RandomScale((1.2, 1.1)), ValueError, "scale"),
        (lambda: RandomScale(1.5), ValueError, r"scale.*\[0, 1\)"),
        (lambda: RandomRotate(200), ValueError, r"degrees.*\[0, 180\].*Received: degrees=200"),
        (lambda: RandomRotate(5, seed=1.5), TypeError, "seed"),
        (lambda: standard_transforms(0), ValueError, "size"),
    ],
)
def test_out_of_range_amounts_name_the_argument(make, error, match):
    with pytest.raises(error, match=match):
        make()


def test_a_live_amount_out_of_range_is_refused_and_kept():
    rotate = RandomRotate(10)
    with pytest.raises(ValueError, match="degrees"):
        rotate.amount = -5
    assert rotate.amount == 10.0


def _seen_by_model(opt, seed, transforms, n=6):
    """What a model-side Linear loss saw at each iteration (a fingerprint of the draws)."""
    rec = Recorder()
    opt.minimize(seed, max_iter=n, input_modifiers=transforms, callbacks=[rec], verbose=False)
    return [c["raw"]["Linear"].tolist() for c in rec.calls]


def _linear_probe(coef):
    inp = keras.Input((9, 9, 1))
    model = keras.Model(inp, keras.layers.Activation("linear", name="ident")(inp))
    return Optimizer(inp, [(Linear(model.get_layer("ident").output, coef), 0.0)])


def test_seeded_stand_in_transforms_reproduce_on_a_reused_optimizer(rng):
    seed = rng.normal(size=(2, 9, 9, 1)).astype(np.float32)
    coef = rng.normal(size=(1, 9, 9, 1)).astype(np.float32)
    opt = _linear_probe(coef)
    _seen_by_model(opt, seed, standard_transforms(9, seed=11))  # traces with these
    first = _seen_by_model(opt, seed, standard_transforms(9, seed=7))
    second = _seen_by_model(opt, seed, standard_transforms(9, seed=7))
    fresh = _seen_by_model(_linear_probe(coef), seed, standard_transforms(9, seed=7))
    assert first == second
    np.testing.assert_allclose(first, fresh, rtol=1e-6)
    assert opt.trace_count == 1


def test_a_reused_stand_in_transform_keeps_drawing_new_values(rng):
    seed = rng.normal(size=(1, 9, 9, 1)).astype(np.float32)
    opt = _linear_probe(rng.normal(size=(1, 9, 9, 1)).astype(np.float32))
    _seen_by_model(opt, seed, [RandomJitter(3, seed=1)])
    stand_in = [RandomJitter(3, seed=2)]
    assert _seen_by_model(opt, seed, stand_in) != _seen_by_model(opt, seed, stand_in)


def test_transforms_on_an_input_of_unknown_size(rng):
    inp = keras.Input((None, None, 1))
    model = keras.Model(inp, keras.layers.Conv2D(2, 3, name="conv")(inp))
    opt = Optimizer(inp, [(Linear(model.get_layer("conv").output, 1.0), 1.0)])
    seed = rng.normal(size=(2, 10, 12, 1)).astype(np.float32)
    _, grads, _ = opt.minimize(seed, max_iter=2, input_modifiers=standard_transforms(12, seed=0))
    assert grads.shape == seed.shape and np.all(np.isfinite(grads))
