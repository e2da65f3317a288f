"""The parameterized path: PixelImage / FourierImage with Adam, checked by value on tiny models."""

import threading

import keras
import numpy as np
import pytest
import tensorflow as tf
from enginekit import At, Linear, MeanAbsoluteError, NanLoss, Recorder, assert_descends

from vis_widgets.core import (
    ActivationMaximization,
    FourierImage,
    Jitter,
    LPNorm,
    Optimizer,
    OptimizerCallback,
    PixelImage,
    RandomJitter,
    TotalVariation,
    standard_transforms,
)


def _input(shape):
    inp = keras.Input(shape)
    return keras.Model(inp, keras.layers.Activation("linear", name="ident")(inp))


def _target(shape, rng):
    """A smooth image with some texture, in [0.02, 0.98]."""
    h, w, c = shape
    yy, xx = np.mgrid[:h, :w] / max(h - 1, 1)
    smooth = np.stack([0.2 + 0.6 * np.sin(3 * xx + k) ** 2 * yy for k in range(c)], -1)
    return np.clip(smooth + 0.05 * rng.normal(size=smooth.shape), 0.02, 0.98).astype(np.float32)


def _adam(p, g, m, v, t, lr):
    """Keras's Adam: the bias corrections folded into the step size."""
    t += 1
    m = 0.9 * m + 0.1 * g
    v = 0.999 * v + 0.001 * g * g
    return p - lr * np.sqrt(1 - 0.999**t) / (1 - 0.9**t) * m / (np.sqrt(v) + 1e-7), m, v, t


def _sigmoid(p):
    return 1 / (1 + np.exp(-p))


# ----------------------------------------------------------------- fitting an image
@pytest.mark.parametrize("channels", [1, 3], ids=["gray", "rgb"])
@pytest.mark.parametrize("param", [PixelImage, FourierImage])
def test_each_parameterization_can_fit_a_given_image(param, channels, rng):
    target = _target((12, 12, channels), rng)
    x = _input((12, 12, channels)).inputs[0]
    opt = Optimizer(
        x,
        [(MeanAbsoluteError(x, target[None]), 1.0)],
        input_range=(0, 1),
        parameterization=param(),
    )
    img, _, _ = opt.minimize(max_iter=1000, verbose=False)
    assert np.abs(img - target).mean() < 0.01
    assert opt.trace_count == 1


def test_a_fit_in_input_units_and_channels_first(rng):
    keras.config.set_image_data_format("channels_first")
    target = np.transpose(_target((10, 12, 3), rng), [2, 0, 1])  # (3, 10, 12)
    x = _input((3, 10, 12)).inputs[0]
    lo, hi = -1.0, 1.0
    opt = Optimizer(
        x,
        [(MeanAbsoluteError(x, lo + (hi - lo) * target[None]), 1.0)],
        input_range=(lo, hi),
        parameterization=FourierImage(),
        learning_rate=0.1,
    )
    img, _, _ = opt.minimize(max_iter=300, verbose=False)
    assert img.shape == (3, 10, 12)
    assert np.abs((img - lo) / (hi - lo) - target).mean() < 0.01


# ----------------------------------------------------------------- the update, by value
def test_adam_on_a_pixel_image_is_exact_and_the_learning_rate_is_live(rng):
    coef = rng.normal(size=(1, 3, 3, 1)).astype(np.float32)
    x = _input((3, 3, 1)).inputs[0]
    lo, hi = 0.0, 255.0
    opt = Optimizer(
        x,
        [(Linear(x, coef), 1.0)],
        input_range=(lo, hi),
        norm_grads=False,
        parameterization=PixelImage(),
        learning_rate=0.05,
    )
    seed01 = rng.uniform(0.1, 0.9, size=(1, 3, 3, 1))
    raise_lr = At(2, lambda o: setattr(o, "learning_rate", 0.2))  # after iteration 2's update
    opt.minimize(lo + (hi - lo) * seed01, max_iter=6, callbacks=[raise_lr], verbose=False)

    p = np.log(seed01 / (1 - seed01))
    m = v = np.zeros_like(p)
    t = 0
    for i, call in enumerate(raise_lr.calls):
        image = lo + (hi - lo) * _sigmoid(p)
        np.testing.assert_allclose(call["wrt"], image, rtol=1e-4)  # the image, input units
        np.testing.assert_allclose(call["grads"], coef, rtol=1e-6)  # image-space gradient
        g = coef * (hi - lo) * _sigmoid(p) * (1 - _sigmoid(p))  # pulled back to p
        p, m, v, t = _adam(p, g, m, v, t, 0.05 if i <= 2 else 0.2)
    np.testing.assert_allclose(opt.last_input, lo + (hi - lo) * _sigmoid(p), rtol=1e-4)
    assert opt.learning_rate == pytest.approx(0.2) and opt.trace_count == 1


def test_the_fourier_decay_is_live_without_retrace(rng):
    x = _input((6, 6, 1)).inputs[0]
    fourier = FourierImage(decay_power=1.0)
    opt = Optimizer(x, [(LPNorm(x), 0.0)], input_range=(0, 1), parameterization=fourier)
    seed = rng.uniform(0.2, 0.8, size=(1, 6, 6, 1)).astype(np.float32)
    p0 = fourier.from_image(seed)
    fourier.decay_power = 2.0
    expected = fourier.to_image(tf.constant(p0)).numpy()  # the same spectrum, decay 2
    fourier.decay_power = 1.0
    rec = At(1, lambda _: setattr(fourier, "decay_power", 2.0))
    opt.minimize(seed, max_iter=4, callbacks=[rec], verbose=False)  # zero gradient: p stays
    np.testing.assert_allclose(rec.calls[1]["wrt"], seed, atol=1e-5)
    np.testing.assert_allclose(rec.calls[2]["wrt"], expected, atol=1e-5)
    assert not np.allclose(expected, seed, atol=1e-3)
    assert opt.trace_count == 1


@pytest.mark.parametrize("parameterized", [False, True], ids=["keras-vis", "parameterized"])
def test_a_transform_amount_changed_mid_run_acts_next_iteration_without_retrace(
    parameterized, rng
):
    model = _input((8, 8, 1))
    x = model.inputs[0]
    coef = rng.normal(size=(1, 8, 8, 1)).astype(np.float32)
    # the loss reads the layer's output: what the model sees, after the transforms
    kwargs = {"parameterization": PixelImage()} if parameterized else {}
    opt = Optimizer(x, [(Linear(model.get_layer("ident").output, coef), 0.0)], **kwargs)
    opt.minimize(max_iter=1, input_modifiers=[RandomJitter(3)], verbose=False)  # traces
    stand_in = RandomJitter(0)
    rec = At(2, lambda _: setattr(stand_in, "amount", 4))
    seed = opt.make_seed()
    opt.minimize(seed, max_iter=8, input_modifiers=[stand_in], callbacks=[rec], verbose=False)
    unmoved = [float(np.sum(coef * c["wrt"])) for c in rec.calls]
    seen = [float(c["raw"]["Linear"][0]) for c in rec.calls]
    np.testing.assert_allclose(seen[:3], unmoved[:3], rtol=1e-5)  # amount 0: the identity
    assert not np.allclose(seen[3:], unmoved[3:], rtol=1e-3)  # amount 4 from iteration 3
    assert opt.trace_count == 1


def test_no_retrace_across_calls_with_new_transforms_and_settings(small_cnn):
    x = small_cnn.inputs[0]
    losses = [(ActivationMaximization(small_cnn.layers[-1], 1, pre_activation=True), 1.0)]
    opt = Optimizer(x, losses, parameterization=FourierImage())
    for k in range(3):
        opt.learning_rate = 0.05 * (k + 1)
        opt.set_weight(0, float(k + 1))
        opt.minimize(max_iter=2 + k, input_modifiers=standard_transforms(16), verbose=False)
    assert opt.trace_count == 1


# ----------------------------------------------------------------- the objective improves
@pytest.mark.parametrize("param", [PixelImage, FourierImage])
def test_the_objective_improves_on_a_tiny_cnn(small_cnn, param):
    head = small_cnn.get_layer("predictions")
    opt = Optimizer(
        small_cnn.inputs[0],
        [(ActivationMaximization(head, 2, pre_activation=True), 1.0)],
        parameterization=param(),
        learning_rate=0.1,
    )
    assert_descends(opt, max_iter=15, input_modifiers=standard_transforms(16))
    assert_descends(opt, max_iter=15)


# ----------------------------------------------------------------- batches
@pytest.mark.parametrize("param", [PixelImage, FourierImage])
def test_a_batch_of_n_equals_n_single_runs_with_per_sample_weights(small_cnn, param, rng):
    x = small_cnn.inputs[0]
    head = small_cnn.get_layer("predictions")
    seeds = rng.uniform(50, 200, size=(3, 16, 16, 3)).astype(np.float32)
    act, tv = [1.0, 2.0, 0.5], [0.0, 1.0, 3.0]

    def opt(act_weight, tv_weight):
        losses = [
            (ActivationMaximization(head, 1, pre_activation=True), act_weight),
            (TotalVariation(x), tv_weight),
        ]
        return Optimizer(x, losses, parameterization=param())

    batch = opt(act, tv)
    images, _, _ = batch.minimize(seeds, max_iter=5, verbose=False)
    for k in range(3):
        single = opt(act[k], tv[k])
        image, _, _ = single.minimize(seeds[k], max_iter=5, verbose=False)
        np.testing.assert_allclose(images[k], image, rtol=1e-4, atol=1e-3)
        for key, values in batch.per_sample_losses.items():
            np.testing.assert_allclose(values[k], single.per_sample_losses[key][0], rtol=1e-4)


def test_samples_stay_independent_under_seeded_transforms(small_cnn, rng):
    x = small_cnn.inputs[0]
    head = small_cnn.get_layer("predictions")
    opt = Optimizer(
        x,
        [(ActivationMaximization(head, 1, pre_activation=True), 1.0)],
        parameterization=PixelImage(),
    )
    first = rng.uniform(50, 200, size=(1, 16, 16, 3)).astype(np.float32)
    others = rng.uniform(50, 200, size=(2, 16, 16, 3)).astype(np.float32)
    runs = []
    for other in others:
        seeds = np.concatenate([first, other[None]])
        runs.append(
            opt.minimize(seeds, max_iter=6, input_modifiers=standard_transforms(16, seed=3))[0]
        )
    np.testing.assert_allclose(runs[0][0], runs[1][0], rtol=1e-5, atol=1e-4)  # sample 0 alone
    assert not np.allclose(runs[0][1], runs[1][1])


# ----------------------------------------------------------------- registration
def test_transforms_change_what_the_model_sees_not_the_registration_keras_vis(rng):
    model = _input((8, 8, 1))
    x = model.inputs[0]
    coef = rng.normal(size=(1, 8, 8, 1)).astype(np.float32)
    opt = Optimizer(x, [(Linear(model.get_layer("ident").output, coef), 0.0)])
    seed = rng.normal(size=(2, 8, 8, 1)).astype(np.float32)
    rec = Recorder()
    opt.minimize(seed, max_iter=5, input_modifiers=standard_transforms(8), callbacks=[rec])
    seen = np.array([c["raw"]["Linear"] for c in rec.calls])
    unmoved = np.sum(coef * seed, axis=(1, 2, 3))
    assert not np.allclose(seen, unmoved[None], rtol=1e-3)  # the model saw transformed images
    np.testing.assert_array_equal(opt.last_input, seed)  # the state never moved
    assert all(np.array_equal(c["wrt"], seed) for c in rec.calls)


def test_transforms_keep_the_returned_picture_registered_parameterized(rng):
    model = _input((12, 12, 1))
    x = model.inputs[0]
    target = _target((12, 12, 1), rng)[None]
    coef = rng.normal(size=(1, 12, 12, 1)).astype(np.float32)
    losses = [
        (MeanAbsoluteError(x, target), 1.0),  # reads the untransformed image
        (Linear(model.get_layer("ident").output, coef), 0.0),  # what the model sees
    ]
    opt = Optimizer(
        x, losses, input_range=(0, 1), parameterization=PixelImage(), learning_rate=0.1
    )
    rec = Recorder()
    modifiers = [*standard_transforms(48), Jitter(2)]  # heavy for 12 px
    img, _, _ = opt.minimize(max_iter=300, input_modifiers=modifiers, callbacks=[rec])
    assert np.abs(img - target[0]).mean() < 0.02
    last = rec.calls[-1]
    assert not np.isclose(last["raw"]["Linear"][0], np.sum(coef * last["wrt"]), rtol=1e-3)


# ----------------------------------------------------------------- what callbacks see
def test_read_outs_are_images_in_input_units_and_as_returned_keeps_them(small_cnn):
    x = small_cnn.inputs[0]
    head = small_cnn.get_layer("predictions")
    opt = Optimizer(
        x,
        [(ActivationMaximization(head, 0, pre_activation=True), 1.0)],
        input_range=(-1, 1),
        parameterization=FourierImage(),
    )
    seen = []

    class Look(OptimizerCallback):
        def callback(self, i, named_losses, overall_loss, grads, wrt_value):
            seen.append((wrt_value, self.optimizer.current_input))

    img, grads, wrt = opt.minimize(opt.make_seed(samples=2), max_iter=4, callbacks=[Look()])
    for a in [img, wrt, opt.best_input, opt.last_input, *[s for pair in seen for s in pair]]:
        assert a.min() > -1 and a.max() < 1
    np.testing.assert_array_equal(img, opt.last_input)  # the last image, no deprocess_input
    np.testing.assert_array_equal(opt.as_returned(opt.last_input), opt.last_input)
    np.testing.assert_array_equal(opt.last_run.returned, img)
    assert grads.shape == wrt.shape == (2, 16, 16, 3)


def test_make_seed_without_a_seed_is_a_random_near_grey_image(identity_model):
    x = identity_model.inputs[0]
    opt = Optimizer(x, [(LPNorm(x), 1.0)], input_range=(0, 255), parameterization=PixelImage())
    seed = opt.make_seed(samples=3)
    assert seed.shape == (3, 4, 4, 2) and seed.dtype == np.float32
    assert abs(seed.mean() - 127.5) < 1 and 0 < seed.std() < 2


def test_a_nan_loss_keeps_the_last_finite_image_and_warns(identity_model, rng):
    x = identity_model.inputs[0]

    class Cliff(Linear):
        """Finite while the mean stays below 0.6, NaN beyond: the run walks off the cliff."""

        name = "Cliff"

        def call(self, value):
            return tf.where(
                tf.reduce_mean(value, axis=[1, 2, 3]) < 0.6, super().call(value), np.nan
            )

    opt = Optimizer(
        x,
        [(Cliff(x, -np.ones((1, 4, 4, 2), np.float32)), 1.0)],
        input_range=(0, 1),
        parameterization=PixelImage(),
        learning_rate=0.2,
    )
    rec = Recorder()
    with pytest.warns(RuntimeWarning, match="became NaN.*last image"):
        img, _, _ = opt.minimize(max_iter=30, callbacks=[rec], verbose=False)
    finite = [k for k, c in enumerate(rec.calls) if np.isfinite(c["overall"])]
    assert 1 < len(finite) < 30 and np.all(np.isfinite(img))
    np.testing.assert_allclose(img, rec.calls[finite[-1] + 1]["wrt"][0], rtol=1e-6)
    assert len(opt.run_warnings) == 1


def test_an_all_nan_run_returns_the_seed_image(identity_model):
    x = identity_model.inputs[0]
    opt = Optimizer(
        x, [(NanLoss(x, np.ones((1, 4, 4, 2), np.float32)), 1.0)], parameterization=PixelImage()
    )
    seed = opt.make_seed()
    with pytest.warns(RuntimeWarning, match="never finite"):
        img, _, _ = opt.minimize(seed, max_iter=3, verbose=False)
    np.testing.assert_allclose(img, seed[0], rtol=1e-6)  # the seed, through logit and sigmoid


def test_stop_from_a_callback_and_from_another_thread(small_cnn):
    x = small_cnn.inputs[0]
    opt = Optimizer(
        x, [(ActivationMaximization(small_cnn.layers[-1], 0), 1.0)], parameterization=PixelImage()
    )
    rec = At(2, lambda o: o.stop())
    opt.minimize(max_iter=50, callbacks=[rec], verbose=False)
    assert opt.iterations == 3 and opt.last_run.stopped
    started = threading.Event()
    rec = At(0, lambda _: started.set())
    worker = threading.Thread(
        target=opt.minimize, kwargs={"max_iter": 100000, "callbacks": [rec], "verbose": False}
    )
    worker.start()
    assert started.wait(30)
    opt.stop()
    worker.join(30)
    assert not worker.is_alive() and rec.events == ["begin", "end"]
    assert opt.last_run.stopped and opt.last_run.iterations < 100000


# ----------------------------------------------------------------- bad input
def test_bad_parameterized_arguments_get_clear_errors(small_cnn):
    x = small_cnn.inputs[0]
    losses = [(LPNorm(x), 1.0)]
    conv = small_cnn.get_layer("conv2").output
    with pytest.raises(ValueError, match=r"wrt_tensor.*parameterization"):
        Optimizer(x, losses, wrt_tensor=conv, parameterization=PixelImage())
    for rate in (0, -0.1):
        with pytest.raises(ValueError, match=r"learning_rate.*> 0.*Received: learning_rate="):
            Optimizer(x, losses, parameterization=PixelImage(), learning_rate=rate)
    with pytest.raises(TypeError, match="learning_rate"):
        Optimizer(x, losses, parameterization=PixelImage(), learning_rate="fast")
    with pytest.raises(ValueError, match=r"learning_rate.*needs a `parameterization`"):
        Optimizer(x, losses, learning_rate=0.1)
    with pytest.raises(TypeError, match="parameterization"):
        Optimizer(x, losses, parameterization="fourier")
    opt = Optimizer(x, losses, parameterization=PixelImage())
    with pytest.raises(ValueError, match="learning_rate"):
        opt.learning_rate = 0.0
    assert opt.learning_rate == pytest.approx(0.05)
    with pytest.raises(ValueError, match="needs a `parameterization`"):
        Optimizer(x, losses).learning_rate = 0.1


@pytest.mark.parametrize(
    "shape, kwargs, match",
    [
        ((20, 2), {}, r"2-D images.*\(None, 20, 2\).*PixelImage"),
        ((8,), {}, "2-D images"),
        ((6, 6, 6, 1), {}, "2-D images"),
        ((8, 8, 1), {"decorrelate": True}, r"decorrelate=True.*3 \(RGB\).*1 channel"),
        ((None, None, 3), {}, "known height, width"),
    ],
)
def test_a_fourier_image_for_an_input_it_cannot_represent(shape, kwargs, match):
    x = keras.Input(shape)
    with pytest.raises(ValueError, match=match):
        Optimizer(x, [(LPNorm(x), 1.0)], parameterization=FourierImage(**kwargs))


def test_pixel_image_works_on_a_one_dimensional_signal():
    inp = keras.Input((20, 2))
    h = keras.layers.Conv1D(4, 3, name="conv")(inp)
    model = keras.Model(inp, keras.layers.GlobalAveragePooling1D()(h))
    opt = Optimizer(
        inp,
        [(ActivationMaximization(model.get_layer("conv"), 2), 1.0)],
        parameterization=PixelImage(),
    )
    assert_descends(opt, max_iter=10, input_modifiers=[Jitter(2)])
    with pytest.raises(ValueError, match=r"RandomJitter needs a batch of 2-D images"):
        opt.minimize(max_iter=1, input_modifiers=[RandomJitter(2)])


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: FourierImage(decay_power=-1), r"decay_power.*>= 0.*Received: decay_power=-1"),
        (lambda: FourierImage(sd=float("nan")), "sd"),
        (lambda: FourierImage(decorrelate=1), "decorrelate.*bool"),
        (lambda: PixelImage(sd=-0.1), "sd"),
    ],
)
def test_bad_parameterization_arguments(make, match):
    with pytest.raises((ValueError, TypeError), match=match):
        make()
