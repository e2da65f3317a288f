"""XLA where TensorFlow needs it: channels_first models on a CPU without NCHW input gradients."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from enginekit import Recorder

from vis_widgets.core import (
    ActivationMaximization,
    Attributor,
    FourierImage,
    Jitter,
    Optimizer,
    PixelImage,
    compilation,
    optimizer,
    standard_transforms,
)
from vis_widgets.core.compilation import XlaModelCall


def _channels_first_cnn():
    keras.config.set_image_data_format("channels_first")
    inp = keras.Input((3, 12, 12))
    h = keras.layers.Conv2D(4, 3, activation="relu", name="conv1")(inp)
    h = keras.layers.Conv2D(4, 3, name="conv2")(h)
    return keras.Model(inp, h)


def _channels_last_cnn():
    inp = keras.Input((8, 8, 2))
    h = keras.layers.Conv2D(3, 3, activation="relu", name="conv")(inp)
    return keras.Model(inp, h)


def test_needs_xla_only_for_channels_first_where_nchw_gradients_fail(monkeypatch):
    channels_first = _channels_first_cnn()
    keras.config.set_image_data_format("channels_last")
    channels_last = _channels_last_cnn()
    for works in (True, False):
        monkeypatch.setattr(compilation, "nchw_input_gradients_work", lambda works=works: works)
        assert compilation.needs_xla(channels_last) is False
        assert compilation.needs_xla(keras.Sequential([channels_first])) is (not works)
        call = compilation.model_call(channels_first)
        assert isinstance(call, XlaModelCall) is (not works)
    assert compilation.needs_xla(None) is False


def test_an_xla_model_call_computes_the_model_and_its_gradient(rng):
    model = _channels_last_cnn()
    x = tf.constant(rng.random((2, 8, 8, 2)), tf.float32)
    call = XlaModelCall(model)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        plain, compiled = model(x, training=False), call(x)
    np.testing.assert_allclose(compiled.numpy(), plain.numpy(), atol=1e-5)
    np.testing.assert_allclose(
        tape.gradient(compiled, x).numpy(), tape.gradient(plain, x).numpy(), atol=1e-5
    )
    with pytest.raises(ValueError, match="inference mode"):
        call(x, training=True)


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
    expected = not compilation.nchw_input_gradients_work()
    assert isinstance(opt._spec.probe, XlaModelCall) is expected
    recorder = Recorder()
    img, _, _ = opt.minimize(
        max_iter=30, input_modifiers=modifiers(), callbacks=[recorder], verbose=False
    )
    losses = [call["overall"] for call in recorder.calls]
    assert np.mean(losses[-5:]) < np.mean(losses[:5]), losses
    assert img.shape == (3, 12, 12) and np.all(np.isfinite(img))
    assert opt.trace_count == 1


@pytest.mark.parametrize("parameterization", [None, PixelImage()], ids=["keras-vis", "pixel"])
def test_a_step_through_xla_gives_the_plain_step_s_result(monkeypatch, parameterization, rng):
    """Forcing the XLA model call on a channels_last model changes how, not what."""
    model = _channels_last_cnn()
    seed = rng.normal(128, 20, (2, 8, 8, 2)).astype("float32")
    results = []
    for xla in (False, True):
        monkeypatch.setattr(compilation, "nchw_input_gradients_work", lambda xla=xla: not xla)
        monkeypatch.setattr(compilation, "needs_xla", lambda model, xla=xla: xla)
        monkeypatch.setattr(optimizer, "model_call", compilation.model_call)
        loss = ActivationMaximization(model.get_layer("conv"), 2)
        opt = Optimizer(model.inputs[0], [(loss, 1.0)], parameterization=parameterization)
        assert isinstance(opt._spec.probe, XlaModelCall) is xla
        results.append(opt.minimize(seed, max_iter=5, verbose=False)[0])
    np.testing.assert_allclose(results[1], results[0], rtol=1e-4, atol=1e-3)


def test_attribution_of_a_channels_first_model_on_this_machine(rng):
    """Input-gradient maps work everywhere; maps that need a gradient inside the model work
    where TensorFlow has NCHW gradients, and say how to get them where it has not."""
    model = _channels_first_cnn()
    pooled = keras.layers.GlobalAveragePooling2D("channels_first")(model.outputs[0])
    attributor = Attributor(keras.Model(model.inputs[0], pooled), data_format="channels_first")
    x = rng.random((2, 3, 12, 12)).astype("float32")
    for method in ("saliency", "smoothgrad", "integrated_gradients", "scorecam", "gradcam"):
        if method == "gradcam" and not compilation.nchw_input_gradients_work():
            with pytest.raises(ValueError, match="TF_ENABLE_ONEDNN_OPTS=1"):
                attributor.attribute(x, [1, 3], method=method)
            continue
        maps = attributor.attribute(x, [1, 3], method=method)
        assert maps.shape == (2, 12, 12) and np.all(np.isfinite(maps)), method
        assert maps.max() > 0, method


def test_an_intermediate_wrt_tensor_says_how_to_get_nchw_gradients(monkeypatch):
    model = _channels_first_cnn()
    loss = ActivationMaximization(model.get_layer("conv2"), 1)
    wrt = model.get_layer("conv1").output
    monkeypatch.setattr(compilation, "nchw_input_gradients_work", lambda: False)
    monkeypatch.setattr(optimizer, "model_call", compilation.model_call)
    with pytest.raises(ValueError, match="`wrt_tensor` needs the gradient at a layer inside"):
        Optimizer(model.inputs[0], [(loss, 1.0)], wrt_tensor=wrt)
