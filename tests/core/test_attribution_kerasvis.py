"""keras-vis's attention API on the engine: semantics, overlay, utils, the build_loss protocol."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from attributionkit import gap_cnn, images, linear_model, normalize
from enginekit import Linear
from PIL import Image

from vis_widgets.core import ActivationMaximization, Loss, Optimizer
from vis_widgets.core.attribution import Attributor
from vis_widgets.core.utils import utils
from vis_widgets.core.visualization import (
    overlay,
    saliency,
    visualize_activation,
    visualize_activation_with_losses,
    visualize_cam,
    visualize_cam_with_losses,
    visualize_saliency,
    visualize_saliency_with_losses,
)


def test_visualize_saliency_keeps_keras_vis_semantics():
    model, kernel = linear_model((4, 4, 2), classes=3, softmax=True)
    x = images(3, (4, 4, 2))
    # keras-vis differentiates what the layer outputs: here the softmax (no swap done)
    engine = Attributor(model, pre_activation=False)
    np.testing.assert_allclose(
        visualize_saliency(model, -1, 1, x), engine.attribute(x, 1), atol=1e-6
    )
    one = visualize_saliency(model, -1, 1, x[0])
    assert one.shape == (4, 4)
    np.testing.assert_allclose(one, visualize_saliency(model, -1, 1, x)[0], atol=1e-6)
    # a list of filter indices is their sum; None the mean of the whole output
    linear, kernel = linear_model((4, 4, 2), classes=3)
    both = visualize_saliency(linear, -1, [0, 2], x[0], grad_modifier=None, keepdims=True)
    np.testing.assert_allclose(
        both, normalize((kernel[:, 0] + kernel[:, 2]).reshape(1, 4, 4, 2))[0], atol=1e-6
    )
    mean = visualize_saliency(linear, -1, None, x[0], grad_modifier=None, keepdims=True)
    np.testing.assert_allclose(mean, normalize(kernel.mean(1).reshape(1, 4, 4, 2))[0], atol=1e-6)
    negated = visualize_saliency(linear, -1, 0, x[0], grad_modifier="negate", keepdims=True)
    np.testing.assert_allclose(negated, normalize(-kernel[:, 0].reshape(1, 4, 4, 2))[0], atol=1e-6)


def test_keras_vis_calls_reuse_one_traced_function():
    model = gap_cnn()
    for k in range(4):
        visualize_saliency(model, -1, k, images(1, seed=k)[0])
        visualize_cam(model, -1, [k, (k + 1) % 4], images(2, seed=k))
    engine = saliency._ENGINES[model][len(model.layers) - 1]
    assert engine.trace_count == 2


def test_visualize_cam_and_its_layer():
    model = gap_cnn()
    x = images(2)
    engine = Attributor(model, pre_activation=False)
    both = np.tile(np.float32([0, 1, 0, 1]), (2, 1))  # a list of indices: their sum
    np.testing.assert_allclose(
        visualize_cam(model, -1, [1, 3], x), engine.attribute(x, both, method="gradcam"), atol=1e-6
    )
    index = utils.find_layer_idx(model, "conv1")
    by_index = visualize_cam(model, -1, 1, x, penultimate_layer_idx=index)
    np.testing.assert_allclose(by_index, engine.attribute(x, 1, method="gradcam", layer="conv1"))
    with pytest.raises(ValueError, match=r"needs to be before `layer_idx`.*idx=4, layer_idx=1"):
        visualize_cam(model, 1, 0, x, penultimate_layer_idx=4)
    with pytest.raises(ValueError, match=r"spatial axes.*'gap'"):
        visualize_cam(model, -1, 0, x, penultimate_layer_idx=utils.find_layer_idx(model, "gap"))
    with pytest.raises(ValueError, match=r"`seed_input` must have the model's input shape"):
        visualize_cam(model, -1, 0, np.zeros((8, 8)))
    with pytest.raises(ValueError, match=r"`seed_input` must be finite"):
        visualize_saliency(model, -1, 0, np.full((8, 8, 3), np.inf))
    with pytest.raises(ValueError, match=r"`filter_indices` must be in \[0, 4\)"):
        visualize_cam(model, -1, 7, x)


def test_visualize_cam_with_guided_relus_between_the_feature_map_and_the_output():
    inp = keras.Input((8, 8, 3))
    h = keras.layers.Conv2D(5, 3, 2, padding="same", activation="relu", name="features")(inp)
    h = keras.layers.Dense(6, activation="relu")(keras.layers.GlobalAveragePooling2D()(h))
    model = keras.Model(inp, keras.layers.Dense(3)(h))
    x = images(3, seed=4)
    vanilla = visualize_cam(model, -1, 2, x)
    guided = visualize_cam(model, -1, 2, x, backprop_modifier="guided")
    assert guided.shape == vanilla.shape == (3, 8, 8) and not np.allclose(guided, vanilla)
    expected = Attributor(model).attribute(x, 2, method="gradcam", backprop_modifier="guided")
    np.testing.assert_allclose(guided, expected)


def test_wrt_tensor_gives_the_gradient_at_a_layer():
    model = gap_cnn()
    x = images(2)
    features = model.get_layer("features").output
    maps = visualize_saliency(model, -1, 2, x, wrt_tensor=features)
    probe = keras.Model(model.inputs[0], [features, model.output])
    with tf.GradientTape() as tape:
        a, y = probe(tf.constant(x))
        s = tf.reduce_sum(y[:, 2])
    g = tape.gradient(s, a).numpy()
    np.testing.assert_allclose(maps, normalize(np.abs(g).max(-1)), atol=1e-6)


def test_the_with_losses_forms():
    model = gap_cnn()
    x = images(2)
    preds = model.get_layer("preds")
    losses = [(ActivationMaximization(preds, 1), -1)]
    inp = model.inputs[0]
    np.testing.assert_allclose(
        visualize_saliency_with_losses(inp, losses, x),
        visualize_saliency(model, -1, 1, x),
        atol=1e-6,
    )
    np.testing.assert_allclose(
        visualize_cam_with_losses(inp, losses, x, model.get_layer("features")),
        visualize_cam(model, -1, 1, x),
        atol=1e-6,
    )

    class Logit(Loss):  # a custom loss: the Optimizer path
        name = "logit"

        def __init__(self, layer, idx):
            super().__init__(layer.output)
            self.idx = idx

        def call(self, value):
            return -value[:, self.idx]

    custom = [(Logit(preds, 1), -1)]
    np.testing.assert_allclose(
        visualize_saliency_with_losses(inp, custom, x),
        visualize_saliency(model, -1, 1, x),
        atol=1e-5,
    )
    np.testing.assert_allclose(
        visualize_cam_with_losses(inp, custom, x, model.get_layer("features")),
        visualize_cam(model, -1, 1, x),
        atol=1e-5,
    )
    coef = np.random.default_rng(1).normal(size=(8, 8, 3)).astype(np.float32)
    maps = visualize_saliency_with_losses(inp, [(Linear(inp, coef), 1.0)], x[0])
    np.testing.assert_allclose(maps, normalize(np.abs(coef).max(-1)[None])[0], atol=1e-6)


def test_keras_vis_module_paths():
    from vis_widgets.core.visualization import with_losses
    from vis_widgets.core.visualization.saliency import (
        visualize_cam_with_losses as cam_with_losses,
    )
    from vis_widgets.core.visualization.saliency import (
        visualize_saliency_with_losses as saliency_with_losses,
    )

    assert cam_with_losses is with_losses.visualize_cam_with_losses
    assert saliency_with_losses is visualize_saliency_with_losses
    with pytest.raises(AttributeError, match="no attribute 'visualize'"):
        saliency.visualize  # noqa: B018


def test_overlay():
    a = np.full((2, 3, 3), 200, np.uint8)
    b = np.full((2, 3, 3), 100, np.uint8)
    out = overlay(a, b, alpha=0.3)
    assert out.dtype == np.uint8 and np.all(out == 130)
    assert np.all(overlay(a, b) == 150)
    with pytest.raises(ValueError, match=r"`alpha` must be in \[0, 1\]. Received: alpha=1.5"):
        overlay(a, b, alpha=1.5)
    with pytest.raises(
        ValueError,
        match=r"same shapes. Received: array1 with shape \(2, 3, 3\), "
        r"array2 with shape \(2, 3\)",
    ):
        overlay(a, b[..., 0])
    with pytest.raises(TypeError, match=r"`alpha` must be a number"):
        overlay(a, b, alpha="half")


def test_utils_find_layer_idx_and_apply_modifications():
    model = gap_cnn(softmax=True)
    idx = utils.find_layer_idx(model, "preds")
    assert model.layers[idx].name == "preds"
    with pytest.raises(ValueError, match=r"No layer with name 'pred' within the model"):
        utils.find_layer_idx(model, "pred")
    x = images(2)
    logits = Attributor(model).attribute(x, 2, raw=True)
    model.layers[idx].activation = keras.activations.linear
    swapped = utils.apply_modifications(model)
    assert swapped is not model and swapped.layers[idx].activation is keras.activations.linear
    for w, w0 in zip(swapped.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(w, w0)
    np.testing.assert_allclose(
        visualize_saliency(swapped, idx, 2, x, grad_modifier=None, keepdims=True),
        normalize(logits),
        atol=1e-6,
    )
    swapped.layers[idx].kernel.assign(np.zeros((5, 4), np.float32))  # an independent copy
    assert np.any(model.layers[idx].get_weights()[0] != 0)
    with pytest.raises(TypeError, match=r"`custom_objects` must be a dict"):
        utils.apply_modifications(model, custom_objects=["x"])


def test_load_img(tmp_path):
    rgb = np.random.default_rng(0).integers(0, 256, (10, 12, 3), dtype=np.uint8)
    path = tmp_path / "img.png"
    Image.fromarray(rgb).save(path)
    img = utils.load_img(path)
    assert img.dtype == np.uint8 and np.array_equal(img, rgb)
    resized = utils.load_img(str(path), target_size=(5, 6))
    assert resized.shape == (5, 6, 3) and resized.dtype == np.uint8
    gray = utils.load_img(path, grayscale=True)
    assert gray.shape == (10, 12) and gray.dtype == np.uint8
    with pytest.raises(ValueError, match=r"`target_size` must be a \(height, width\) pair"):
        utils.load_img(path, target_size=5)


def test_the_keras_vis_build_loss_protocol():
    model = gap_cnn()
    preds = model.get_layer("preds")

    class KerasOpsLoss(Loss):  # keras-vis's protocol, written with keras.ops
        def __init__(self, layer, idx):
            super().__init__()
            self.name = "Class Logit"
            self.layer = layer
            self.idx = idx

        def build_loss(self):
            return -keras.ops.mean(self.layer.output[:, self.idx])

    x = images(3)
    opt = Optimizer(model.inputs[0], [(KerasOpsLoss(preds, 1), -1)], norm_grads=False)
    assert opt.loss_names == ["Class Logit"] and opt.wrt_tensor_is_input_tensor
    _, grads, _ = opt.minimize(x, max_iter=1, verbose=False)
    with tf.GradientTape() as tape:
        xt = tf.constant(x)
        tape.watch(xt)
        s = tf.reduce_sum(model(xt)[:, 1])
    np.testing.assert_allclose(grads, tape.gradient(s, xt).numpy(), atol=1e-5)  # per sample
    np.testing.assert_allclose(
        visualize_saliency_with_losses(model.inputs[0], [(KerasOpsLoss(preds, 1), -1)], x),
        visualize_saliency(model, -1, 1, x),
        atol=1e-5,
    )
    img = visualize_activation_with_losses(
        model.inputs[0], [(KerasOpsLoss(preds, 2), 1)], max_iter=3, input_range=(0, 255)
    )
    assert img.shape == (8, 8, 3) and img.dtype == np.uint8

    class BackendLoss(KerasOpsLoss):
        def build_loss(self):
            return -keras.backend.mean(self.layer.output[:, self.idx])

    with pytest.raises(
        TypeError,
        match=r"(?s)build_loss\(\) protocol.*AttributeError.*"
        r"keras.ops.*def call\(self, value\)",
    ):
        Optimizer(model.inputs[0], [(BackendLoss(preds, 1), 1.0)])
    opt = Optimizer(
        model.inputs[0],
        [(KerasOpsLoss(preds, 1), 1.0)],
        wrt_tensor=model.get_layer("features").output,
    )
    assert not opt.wrt_tensor_is_input_tensor


def test_visualize_activation_takes_keras_vis_modifiers():
    model = gap_cnn()
    kwargs = {"filter_indices": [1, 3], "max_iter": 3, "seed_input": images(1)[0]}
    plain = visualize_activation(model, -1, **kwargs)
    guided = visualize_activation(model, -1, backprop_modifier="guided", **kwargs)
    negated = visualize_activation(model, -1, grad_modifier="negate", **kwargs)
    assert plain.shape == guided.shape == negated.shape == (8, 8, 3)
    assert not np.array_equal(plain, negated)
