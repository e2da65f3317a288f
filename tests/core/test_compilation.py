"""XLA where TensorFlow needs it: channels_first models on a CPU without NCHW input gradients."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from enginekit import Recorder

from vis_widgets.core import (
    ActivationMaximization,
    FourierImage,
    Jitter,
    Optimizer,
    PixelImage,
    compilation,
    optimizer,
    standard_transforms,
)
from vis_widgets.core.transforms import gather_bilinear


def _affines(rng, n):
    turn, scale = rng.uniform(-0.3, 0.3, n), rng.uniform(0.8, 1.2, n)
    shift = rng.uniform(-6, 8, (2, n))  # far enough to read outside the image: the fill
    rows = [
        scale * np.cos(turn),
        -scale * np.sin(turn),
        shift[0],
        scale * np.sin(turn),
        scale * np.cos(turn),
        shift[1],
    ]
    return tf.constant(np.stack(rows, axis=1), tf.float32)


@pytest.mark.parametrize("size, canvas", [(16, 19), (12, 12), (9, 14)])
def test_gather_bilinear_computes_what_image_projective_transform_computes(rng, size, canvas):
    images = tf.constant(rng.random((4, canvas, canvas + 2, 3)), tf.float32)
    coefficients = _affines(rng, 4)
    shape = tf.constant([size, size + 1])
    expected = tf.raw_ops.ImageProjectiveTransformV3(
        images=images,
        transforms=tf.concat([coefficients, tf.zeros([4, 2])], axis=1),
        output_shape=shape,
        fill_value=0.5,
        interpolation="BILINEAR",
        fill_mode="CONSTANT",
    )
    got = gather_bilinear(images, coefficients, shape, 0.5)
    np.testing.assert_allclose(got.numpy(), expected.numpy(), atol=1e-5)
    assert np.any(np.isclose(got.numpy(), 0.5))  # some output pixels came from the fill


def _channels_first_cnn():
    keras.config.set_image_data_format("channels_first")
    inp = keras.Input((3, 12, 12))
    h = keras.layers.Conv2D(4, 3, activation="relu", name="conv1")(inp)
    h = keras.layers.Conv2D(4, 3, name="conv2")(h)
    return keras.Model(inp, h)


def test_needs_xla_only_for_channels_first_where_nchw_gradients_fail(monkeypatch):
    channels_first = _channels_first_cnn()
    keras.config.set_image_data_format("channels_last")
    inp = keras.Input((12, 12, 3))
    channels_last = keras.Model(inp, keras.layers.Conv2D(4, 3)(inp))
    for works in (True, False):
        monkeypatch.setattr(compilation, "nchw_input_gradients_work", lambda works=works: works)
        assert compilation.needs_xla(channels_last) is False
        assert compilation.needs_xla(keras.Sequential([channels_first])) is (not works)
    assert compilation.needs_xla(None) is False


@pytest.mark.parametrize(
    "parameterization, modifiers",
    [
        (None, lambda: [Jitter(1)]),
        (None, lambda: standard_transforms(12, seed=1)),
        (PixelImage(), lambda: standard_transforms(12, seed=1)),
        (FourierImage(decay_power=2.0), lambda: standard_transforms(12, seed=1)),
    ],
    ids=["keras-vis", "keras-vis+transforms", "pixel+transforms", "fourier+transforms"],
)
def test_a_channels_first_model_is_optimized_on_this_machine(parameterization, modifiers):
    """Whichever way this machine needs (plain or XLA), a channels_first run descends.

    (Read from the losses the run reports: an eager forward pass of a
    channels_first Conv2D fails on such a CPU too; only compiled graphs work.)
    """
    model = _channels_first_cnn()
    loss = ActivationMaximization(model.get_layer("conv2"), 1)
    opt = Optimizer(model.inputs[0], [(loss, 1.0)], parameterization=parameterization)
    assert opt._spec.jit_compile == (not compilation.nchw_input_gradients_work())
    recorder = Recorder()
    run = opt.minimize(
        max_iter=30, input_modifiers=modifiers(), callbacks=[recorder], verbose=False
    )
    img = run[0]
    losses = [call["overall"] for call in recorder.calls]
    assert np.mean(losses[-5:]) < np.mean(losses[:5]), losses
    assert img.shape == (3, 12, 12) and np.all(np.isfinite(img))
    assert opt.trace_count == 1


@pytest.mark.parametrize("parameterization", [None, PixelImage()], ids=["keras-vis", "pixel"])
def test_an_xla_compiled_step_gives_the_plain_step_s_result(monkeypatch, parameterization):
    """Forcing XLA on a channels_last model changes how the step runs, not what it computes."""
    inp = keras.Input((8, 8, 2))
    model = keras.Model(inp, keras.layers.Conv2D(3, 3, name="conv")(inp))
    seed = np.random.default_rng(3).normal(128, 20, (2, 8, 8, 2)).astype("float32")
    results = []
    for xla in (False, True):
        monkeypatch.setattr(optimizer, "needs_xla", lambda model, xla=xla: xla)
        loss = ActivationMaximization(model.get_layer("conv"), 2)
        opt = Optimizer(inp, [(loss, 1.0)], parameterization=parameterization)
        assert opt._spec.jit_compile is xla
        results.append(opt.minimize(seed, max_iter=5, verbose=False)[0])
    np.testing.assert_allclose(results[1], results[0], rtol=1e-4, atol=1e-3)
