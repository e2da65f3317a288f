"""The engine on real architectures: keras.applications, Sequential, 1-D and 3-D inputs."""

import keras
import numpy as np
import pytest
from enginekit import Recorder

from vis_widgets.core import ActivationMaximization, Jitter, Optimizer, keras_vis_losses


def _three_losses(model, layer, index, pre_activation=False, reg_weight=10.0):
    return keras_vis_losses(model, layer, index, 1.0, reg_weight, reg_weight, pre_activation)


def _check_descends(model, layer, index, modifiers):
    """With regularizers the overall loss falls; alone, the target activation rises."""
    for reg_weight, column in ((10.0, "overall"), (0.0, "activation")):
        opt = Optimizer(model.inputs[0], _three_losses(model, layer, index, reg_weight=reg_weight))
        rec = Recorder()
        img, _, _ = opt.minimize(
            max_iter=10, input_modifiers=modifiers, callbacks=[rec], verbose=False
        )
        values = [c["overall"] if column == "overall" else c["named"][0][1] for c in rec.calls]
        assert values[-1] < values[0], column
    return img


@pytest.mark.slow
@pytest.mark.parametrize(
    "factory", ["MobileNetV2", "ResNet50", "EfficientNetB0"], ids=lambda name: name
)
def test_keras_applications_run_finite(factory):
    model = getattr(keras.applications, factory)(weights=None, input_shape=(32, 32, 3), classes=10)
    opt = Optimizer(
        model.inputs[0], _three_losses(model, model.layers[-1], 3, pre_activation=True)
    )
    rec = Recorder()
    img, grads, _ = opt.minimize(
        max_iter=5, input_modifiers=[Jitter(0.05)], callbacks=[rec], verbose=False
    )
    assert img.shape == (32, 32, 3) and np.all(np.isfinite(img))
    assert np.all(np.isfinite(grads)) and np.all(np.isfinite([c["overall"] for c in rec.calls]))
    assert opt.trace_count == 1


def test_sequential_model_target_rises():
    model = keras.Sequential(
        [
            keras.Input((12, 12, 1)),
            keras.layers.Conv2D(4, 3, activation="relu"),
            keras.layers.Flatten(),
            keras.layers.Dense(3, name="head"),
        ]
    )
    opt = Optimizer(model.inputs[0], [(ActivationMaximization(model.get_layer("head"), 1), 1.0)])
    rec = Recorder()
    opt.minimize(max_iter=10, callbacks=[rec], verbose=False)
    assert rec.calls[-1]["overall"] < rec.calls[0]["overall"]


def test_sequential_built_without_input_works_after_build():
    model = keras.Sequential([keras.layers.Conv2D(4, 3), keras.layers.Dense(2, name="head")])
    with pytest.raises(AttributeError, match="no defined inputs"):
        model.inputs[0]  # Keras's own error: the docs say to build first
    model.build((None, 8, 8, 1))
    opt = Optimizer(model.inputs[0], [(ActivationMaximization(model.get_layer("head"), 0), 1.0)])
    assert opt.minimize(max_iter=2, verbose=False)[0].shape == (8, 8, 1)


def test_one_dimensional_signal_input():
    inp = keras.Input((20, 2))
    h = keras.layers.Conv1D(4, 3, name="conv")(inp)
    model = keras.Model(inp, keras.layers.GlobalAveragePooling1D()(h))
    img = _check_descends(model, model.get_layer("conv"), 2, [Jitter(2)])
    assert img.shape == (20, 2)


def test_three_dimensional_volume_input():
    inp = keras.Input((6, 6, 6, 1))
    h = keras.layers.Conv3D(3, 3, name="conv")(inp)
    model = keras.Model(inp, h)
    img = _check_descends(model, model.get_layer("conv"), 1, [Jitter((1, 1, 1))])
    assert img.shape == (6, 6, 6, 1)


def test_channels_first_cnn_target_rises():
    keras.config.set_image_data_format("channels_first")
    inp = keras.Input((3, 12, 12))
    h = keras.layers.Conv2D(4, 3, name="conv")(inp)
    model = keras.Model(inp, h)
    img = _check_descends(model, model.get_layer("conv"), 3, [Jitter(1)])
    assert img.shape == (3, 12, 12)
