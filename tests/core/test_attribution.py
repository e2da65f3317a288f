"""The attribution engine, checked by value on tiny models with known weights."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from attributionkit import (
    bilinear,
    feature_maps_and_grads,
    gap_cnn,
    images,
    input_gradient,
    keras_vis_pair,
    linear_model,
    normalize,
    score_cam_reference,
)

from vis_widgets.core.attribution import Attributor

ALL = Attributor.methods
NOISE_FREE = {
    "smoothgrad": {"noise": 0.0},
    "squaregrad": {"noise": 0.0},
    "vargrad": {"noise": 0.0},
}


def test_linear_saliency_is_normalized_abs_kernel_column():
    model, kernel = linear_model((4, 4, 2), classes=3)
    x = images(2, (4, 4, 2))
    attributor = Attributor(model)
    for k in range(3):
        col = np.abs(kernel[:, k]).reshape(4, 4, 2)
        kept = attributor.attribute(x, k, keepdims=True)
        np.testing.assert_allclose(kept, normalize(np.stack([col, col])), atol=1e-6)
        maxed = attributor.attribute(x, k)
        np.testing.assert_allclose(maxed, normalize(np.stack([col.max(-1)] * 2)), atol=1e-6)
        raw = attributor.attribute(x, k, raw=True)
        np.testing.assert_allclose(raw, np.stack([kernel[:, k].reshape(4, 4, 2)] * 2), atol=1e-6)


def test_input_x_gradient_and_integrated_gradients_of_a_linear_model():
    model, kernel = linear_model((3, 3, 1), classes=2)
    x = images(3, (3, 3, 1))
    attributor = Attributor(model)
    w = kernel[:, 1].reshape(3, 3, 1)
    ixg = attributor.attribute(x, 1, method="input_x_gradient", raw=True)
    np.testing.assert_allclose(ixg, x * w, atol=1e-6)
    ig = attributor.attribute(x, 1, method="integrated_gradients", raw=True, steps=4)
    np.testing.assert_allclose(ig, x * w, atol=1e-5)  # exact for a linear model
    base = np.full((3, 3, 1), 0.5, np.float32)
    ig = attributor.attribute(x, 1, method="integrated_gradients", raw=True, baseline=base)
    np.testing.assert_allclose(ig, (x - base) * w, atol=1e-5)


def test_integrated_gradients_are_complete_on_a_nonlinear_model():
    model = gap_cnn(softmax=False)
    x = images(2)
    attributor = Attributor(model)
    ig = attributor.attribute(x, [0, 2], method="integrated_gradients", raw=True, steps=256)
    logits, at_zero = model(x).numpy(), model(np.zeros_like(x)).numpy()
    expected = logits[[0, 1], [0, 2]] - at_zero[[0, 1], [0, 2]]
    np.testing.assert_allclose(ig.sum(axis=(1, 2, 3)), expected, rtol=2e-2, atol=2e-3)


def test_gradcam_on_a_gap_network_is_cam():
    model = gap_cnn()
    x = images(3)
    attributor = Attributor(model)
    classes = np.array([0, 3, 1])
    raw = attributor.attribute(x, classes, method="gradcam", raw=True, upsample=False)
    a = keras.Model(model.inputs[0], model.get_layer("features").output)(x).numpy()
    w = model.get_layer("preds").get_weights()[0]  # (K, C)
    cam = np.einsum("nhwk,kn->nhw", a, w[:, classes])
    np.testing.assert_allclose(raw, cam / (4 * 4), rtol=1e-4, atol=1e-6)
    maps = attributor.attribute(x, classes, method="gradcam")
    expected = normalize(bilinear(np.maximum(cam / 16, 0), (8, 8)))
    np.testing.assert_allclose(maps, expected, atol=1e-6)


def test_gradcam_plus_plus_and_layercam_match_their_formulas():
    model = gap_cnn()
    x = images(2)
    classes = np.array([1, 2])
    a, g = feature_maps_and_grads(model, x, classes)
    attributor = Attributor(model)
    denominator = 2 * g**2 + a.sum(axis=(1, 2), keepdims=True) * g**3
    alpha = g**2 / np.where(denominator == 0, 1, denominator)
    weights = (alpha * np.maximum(g, 0)).sum(axis=(1, 2))
    plus = np.maximum(np.einsum("nhwk,nk->nhw", a, weights), 0)
    np.testing.assert_allclose(
        attributor.attribute(x, classes, method="gradcam++"),
        normalize(bilinear(plus, (8, 8))),
        atol=1e-5,
    )
    layer = np.maximum((np.maximum(g, 0) * a).sum(-1), 0)
    np.testing.assert_allclose(
        attributor.attribute(x, classes, method="layercam"),
        normalize(bilinear(layer, (8, 8))),
        atol=1e-5,
    )


def test_score_cam_and_faster_score_cam_match_a_loop_reference():
    model = gap_cnn(filters=5)
    x = images(2)
    classes = np.array([3, 0])
    attributor = Attributor(model, batch_size=3)  # chunks of 3 masked inputs
    np.testing.assert_allclose(
        attributor.attribute(x, classes, method="scorecam"),
        score_cam_reference(model, x, classes),
        atol=1e-5,
    )
    np.testing.assert_allclose(
        attributor.attribute(x, classes, method="faster_scorecam", max_n=2),
        score_cam_reference(model, x, classes, max_n=2),
        atol=1e-5,
    )
    np.testing.assert_allclose(
        attributor.attribute(x, classes, method="faster_scorecam", max_n=5),
        attributor.attribute(x, classes, method="scorecam"),
        atol=1e-6,
    )


def test_guided_gradcam_is_guided_backprop_times_upsampled_gradcam():
    model = gap_cnn()
    x = images(2)
    attributor = Attributor(model)
    guided = attributor.attribute(x, 1, backprop_modifier="guided", raw=True)
    cam = attributor.attribute(x, 1, method="gradcam", normalize=False)
    expected = normalize(np.abs(guided * cam[..., None]).max(-1))
    np.testing.assert_allclose(
        attributor.attribute(x, 1, method="guided_gradcam"), expected, atol=1e-5
    )


def test_smoothgrad_family_without_noise_reduces_to_the_gradient():
    model = gap_cnn()
    x = images(2)
    attributor = Attributor(model)
    raw = attributor.attribute(x, 2, raw=True)
    kwargs = {"noise": 0.0, "samples": 3}
    np.testing.assert_allclose(
        attributor.attribute(x, 2, method="smoothgrad", **kwargs),
        attributor.attribute(x, 2),
        atol=1e-5,
    )
    np.testing.assert_allclose(
        attributor.attribute(x, 2, method="squaregrad", raw=True, **kwargs),
        raw**2,
        rtol=1e-4,
        atol=1e-9,
    )
    np.testing.assert_allclose(
        attributor.attribute(x, 2, method="vargrad", raw=True, **kwargs), 0.0, atol=1e-9
    )


def test_smoothgrad_averages_noisy_gradients_and_is_seeded():
    model = gap_cnn()
    x = images(1)
    maps = [
        Attributor(model, seed=7).attribute(x, 0, method="smoothgrad", noise=0.3) for _ in range(2)
    ]
    np.testing.assert_array_equal(maps[0], maps[1])
    plain = Attributor(model).attribute(x, 0)
    assert not np.allclose(maps[0], plain, atol=1e-3)


@pytest.mark.parametrize("method", ALL)
def test_every_method_gives_one_map_per_sample_in_unit_range(method):
    model = gap_cnn(softmax=True)
    attributor = Attributor(model)
    params = {"steps": 4} if method == "integrated_gradients" else {}
    params.update({"samples": 3} if method in NOISE_FREE else {})
    for n in (1, 4):
        maps = attributor.attribute(images(n), None, method=method, **params)
        assert maps.shape == (n, 8, 8) and maps.dtype == np.float32
        assert maps.min() >= 0 and maps.max() <= 1
        assert np.all(maps.reshape(n, -1).max(axis=1) > 0.99)
    one = attributor.attribute(images(1)[0], 1, method=method, **params)
    assert one.shape == (8, 8)


@pytest.mark.parametrize("method", ALL)
def test_each_sample_of_a_batch_equals_its_map_alone(method):
    model = gap_cnn()
    attributor = Attributor(model, batch_size=5)
    x = images(4, seed=3)
    classes = [0, 3, 3, 1]
    params = {"steps": 6} if method == "integrated_gradients" else dict(NOISE_FREE.get(method, {}))
    if method == "vargrad":
        params["raw"] = True  # zero without noise: its normalized map is rounding noise
    batch = attributor.attribute(x, classes, method=method, **params)
    for i in range(4):
        alone = attributor.attribute(x[i], classes[i], method=method, **params)
        np.testing.assert_allclose(batch[i], alone, atol=2e-5)


def test_targets_default_to_the_top_class_read_before_the_softmax():
    soft = gap_cnn(softmax=True)
    linear = gap_cnn(softmax=False)
    linear.set_weights(soft.get_weights())
    x = images(3)
    a_soft, a_lin = Attributor(soft), Attributor(linear)
    assert a_soft.pre_activation and not a_lin.pre_activation
    for method in ("saliency", "gradcam"):
        np.testing.assert_allclose(
            a_soft.attribute(x, method=method), a_lin.attribute(x, method=method), atol=1e-6
        )
    top = np.argmax(soft(x).numpy(), axis=1)
    np.testing.assert_array_equal(a_soft.last["targets"], top)
    indices, probabilities = a_soft.top_k(x, k=2)
    np.testing.assert_array_equal(indices[:, 0], top)
    np.testing.assert_allclose(
        probabilities, np.take_along_axis(soft(x).numpy(), indices, axis=1), rtol=1e-5
    )
    # the softmax itself when asked
    plain = Attributor(soft, pre_activation=False).attribute(x, 0, raw=True)
    expected = np.stack(
        [
            input_gradient(keras.Model(soft.inputs[0], soft.output[:, 0]), x[i : i + 1])[0]
            for i in range(3)
        ]
    )
    np.testing.assert_allclose(plain, expected, atol=1e-6)


def test_channels_first_equals_channels_last():
    convs = [
        keras.layers.Conv2D(6, 3, 2, padding="same", activation="relu"),
        keras.layers.Conv2D(5, 3, padding="same", activation="relu"),
    ]
    head = keras.layers.Dense(4)

    def build(first):
        inp = keras.Input((3, 8, 8) if first else (8, 8, 3))
        h = keras.layers.Permute((2, 3, 1))(inp) if first else inp
        for conv in convs:
            h = conv(h)
        if first:  # CPU convolutions are channels_last only: the features go back to NCHW
            h = keras.layers.Permute((3, 1, 2))(h)
        h = keras.layers.GlobalAveragePooling2D(data_format="channels_first" if first else None)(h)
        return keras.Model(inp, head(h))

    cl, cf = build(False), build(True)
    x = images(2)
    a_cl, a_cf = Attributor(cl), Attributor(cf, data_format="channels_first")
    assert a_cf.cam_layer().data_format == "channels_first"
    x_cf = np.moveaxis(x, -1, 1)
    for method in ("saliency", "smoothgrad", "gradcam", "scorecam", "guided_gradcam"):
        kwargs = {"noise": 0.0, "samples": 2} if method == "smoothgrad" else {}
        np.testing.assert_allclose(
            a_cf.attribute(x_cf, [1, 2], method=method, **kwargs),
            a_cl.attribute(x, [1, 2], method=method, **kwargs),
            atol=1e-5,
        )
    np.testing.assert_allclose(
        a_cf.attribute(x_cf, 1, keepdims=True),
        np.moveaxis(a_cl.attribute(x, 1, keepdims=True), -1, 1),
        atol=1e-6,
    )


def test_one_dimensional_inputs():
    inp = keras.Input((12, 2))
    h = keras.layers.Conv1D(4, 3, 2, padding="same", activation="relu", name="features")(inp)
    out = keras.layers.Dense(3)(keras.layers.GlobalAveragePooling1D()(h))
    model = keras.Model(inp, out)
    kernel, bias = model.layers[-1].get_weights()
    model.layers[-1].set_weights([np.abs(kernel), bias])  # a positive CAM for every class
    x = images(2, (12, 2))
    attributor = Attributor(model)
    assert attributor.attribute(x, 1).shape == (2, 12)
    assert attributor.attribute(x, 1, keepdims=True).shape == (2, 12, 2)
    a = keras.Model(inp, h)(x).numpy()
    w = model.layers[-1].get_weights()[0][:, 1]
    cam = np.maximum(a @ w, 0)
    assert cam.max() > 0
    up = tf.image.resize(cam[:, :, None, None], (12, 1))[:, :, 0, 0].numpy()
    np.testing.assert_allclose(
        attributor.attribute(x, 1, method="gradcam"), normalize(up), atol=1e-5
    )
    # a rank-2 input keeps its features (keras-vis collapsed them to one number)
    flat, kernel = linear_model((6,), classes=2)
    maps = Attributor(flat).attribute(images(2, (6,)), 1)
    np.testing.assert_allclose(maps, normalize(np.abs(np.stack([kernel[:, 1]] * 2))), atol=1e-6)


def test_three_dimensional_cam_is_upsampled_to_the_volume():
    inp = keras.Input((4, 6, 6, 1))
    h = keras.layers.Conv3D(3, 3, 2, padding="same", activation="relu")(inp)
    model = keras.Model(inp, keras.layers.Dense(2)(keras.layers.GlobalAveragePooling3D()(h)))
    maps = Attributor(model).attribute(images(2, (4, 6, 6, 1)), 0, method="gradcam")
    assert maps.shape == (2, 4, 6, 6) and maps.min() >= 0 and maps.max() <= 1


def test_nested_model_maps_equal_the_flat_models():
    flat = gap_cnn()
    base = keras.Model(flat.inputs[0], flat.get_layer("features").output, name="base")
    inp = keras.Input((8, 8, 3))
    head = keras.layers.Dense(4, name="head")
    nested = keras.Model(inp, head(keras.layers.GlobalAveragePooling2D()(base(inp))))
    head.set_weights(flat.get_layer("preds").get_weights())
    x = images(2)
    a_flat, a_nested = Attributor(flat), Attributor(nested)
    assert a_nested.cam_layer().name == "features"
    for method in ("gradcam", "scorecam", "saliency"):
        np.testing.assert_allclose(
            a_nested.attribute(x, 1, method=method),
            a_flat.attribute(x, 1, method=method),
            atol=1e-6,
        )
    guided = keras_vis_pair("nested")
    maps = Attributor(guided).attribute([[-1.0, 0.0]], 0, backprop_modifier="guided", raw=True)
    np.testing.assert_array_equal(maps, [[0.0, 0.0]])


def test_the_cam_layer_can_be_given_as_name_index_layer_or_tensor():
    model = gap_cnn()
    x = images(2)
    attributor = Attributor(model)
    auto = attributor.attribute(x, 0, method="gradcam")
    layer = model.get_layer("features")
    for spec in (
        "features",
        model.layers.index(layer),
        layer,
        layer.output,
        model.get_layer("gap").input,
    ):
        np.testing.assert_allclose(attributor.attribute(x, 0, method="gradcam", layer=spec), auto)
    conv1 = attributor.attribute(x, 0, method="gradcam", layer="conv1")
    assert not np.allclose(conv1, auto)
    assert attributor.cam_layer("conv1").name == "conv1"


def test_an_all_negative_cam_is_zeros_with_a_warning():
    model = gap_cnn()
    dense = model.get_layer("preds")
    kernel, bias = dense.get_weights()
    dense.set_weights([-np.abs(kernel), bias])  # features >= 0 (ReLU): every CAM <= 0
    attributor = Attributor(model)
    with pytest.warns(RuntimeWarning, match=r"sample\(s\) \[0, 1\] is all non-positive") as seen:
        maps = attributor.attribute(images(2), 0, method="gradcam")
    np.testing.assert_array_equal(maps, 0.0)
    assert attributor.last_warnings
    assert seen[0].filename == __file__  # the warning points at the caller's line


def test_the_engine_follows_the_models_weights_without_retracing():
    model = gap_cnn()
    x = images(2)
    attributor = Attributor(model)
    before = attributor.attribute(x, 1, method="gradcam")
    count = attributor.trace_count
    model.set_weights([w * np.float32(-1.5) for w in model.get_weights()])
    after = attributor.attribute(x, 1, method="gradcam")
    assert attributor.trace_count == count
    np.testing.assert_allclose(
        after, Attributor(model).attribute(x, 1, method="gradcam"), atol=1e-6
    )
    assert not np.allclose(before, after)


def test_the_users_model_is_not_modified():
    model = gap_cnn(softmax=True)
    config, weights = model.get_config(), [w.copy() for w in model.get_weights()]
    activations = [getattr(layer, "activation", None) for layer in model.layers]
    x = images(2)
    predictions = model(x).numpy()
    attributor = Attributor(model)
    for method in ALL:
        attributor.attribute(
            x, 0, method=method, **({"steps": 2} if method == "integrated_gradients" else {})
        )
    attributor.attribute(x, 0, backprop_modifier="guided")
    attributor.attribute(x, 0, method="gradcam", backprop_modifier="rectified")
    assert model.get_config() == config
    assert [getattr(layer, "activation", None) for layer in model.layers] == activations
    for w, w0 in zip(model.get_weights(), weights):
        np.testing.assert_array_equal(w, w0)
    np.testing.assert_array_equal(model(x).numpy(), predictions)
