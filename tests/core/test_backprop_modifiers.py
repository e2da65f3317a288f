"""Guided and rectified backprop: keras-vis's reference values, all ReLU forms, the model kept."""

import warnings

import keras
import numpy as np
import pytest
import tensorflow as tf
from attributionkit import input_gradient, keras_vis_pair, set_weights

from vis_widgets.core import backprop_modifiers

# keras-vis's tests/vis/backend/test_backend.py: input -> (vanilla, guided) gradients
KERAS_VIS_CASES = [
    ([0.0, 0.0], [0.0, 0.0], [0.0, 0.0]),
    ([1.0, 0.0], [1.0, 1.0], [1.0, 1.0]),
    ([0.0, 1.0], [1.0, 1.0], [1.0, 1.0]),
    ([1.0, 1.0], [1.0, 1.0], [1.0, 1.0]),
    ([-1.0, 0.0], [1.0, 1.0], [0.0, 0.0]),
    ([0.0, -1.0], [1.0, 1.0], [0.0, 0.0]),
    ([-1.0, -1.0], [1.0, 1.0], [0.0, 0.0]),
]
RELU_FORMS = ["dense", "activation", "relu", "tf", "ops", "nested"]


@pytest.mark.parametrize("form", RELU_FORMS)
def test_guided_matches_keras_vis_reference(form):
    model = keras_vis_pair(form)
    guided = backprop_modifiers.get("guided")(model)
    for x, vanilla, expected in KERAS_VIS_CASES:
        np.testing.assert_array_equal(input_gradient(model, [x])[0], vanilla)
        np.testing.assert_array_equal(input_gradient(guided, [x])[0], expected)
        np.testing.assert_array_equal(guided(np.array([x])), model(np.array([x])))


@pytest.mark.parametrize("form", RELU_FORMS)
def test_rectified_passes_positive_gradient_without_forward_gate(form):
    # dL/d(relu output) = W2 = [-1, 1]: rectified passes relu([-1, 1]) = [0, 1] to every
    # pre-activation, whatever its sign, so dL/dx = W1 [0, 1] = [1, 1] for every input.
    model = keras_vis_pair(form)
    for name in ("rectified", "relu", "deconv"):
        modified = backprop_modifiers.get(name)(model)
        for x, _, _ in KERAS_VIS_CASES:
            np.testing.assert_array_equal(input_gradient(modified, [x])[0], [1.0, 1.0])


def _single(layer_or_fn):
    inp = keras.Input((3,))
    out = layer_or_fn(inp)
    return keras.Model(inp, out)


@pytest.mark.parametrize("upstream", [1.0, -1.0])
def test_relu6_gates_on_zero_to_max_value(upstream):
    x = [[-1.0, 3.0, 7.0]]
    for relu6 in (keras.layers.ReLU(6.0), keras.layers.Activation("relu6"), keras.ops.relu6):
        model = _single(relu6)
        vanilla = input_gradient(model, x, upstream)
        np.testing.assert_array_equal(vanilla, [[0.0, upstream, 0.0]])
        guided = input_gradient(backprop_modifiers.guided(model), x, upstream)
        np.testing.assert_array_equal(guided, [[0.0, max(upstream, 0.0), 0.0]])
        rectified = input_gradient(backprop_modifiers.rectified(model), x, upstream)
        np.testing.assert_array_equal(rectified, [[max(upstream, 0.0)] * 3])


def test_threshold_and_negative_slope_use_the_relus_own_derivative():
    model = _single(keras.layers.ReLU(negative_slope=0.5, threshold=1.0))
    x = [[0.0, 2.0, -3.0]]
    np.testing.assert_allclose(input_gradient(model, x), [[0.5, 1.0, 0.5]])
    guided = backprop_modifiers.guided(model)
    np.testing.assert_allclose(input_gradient(guided, x), [[0.5, 1.0, 0.5]])
    np.testing.assert_allclose(input_gradient(guided, x, -1.0), [[0.0, 0.0, 0.0]])


def test_the_users_model_is_unchanged_and_its_weights_are_shared():
    model = keras_vis_pair("dense")
    before = {
        "config": model.get_config(),
        "layers": list(model.layers),
        "activations": [getattr(layer, "activation", None) for layer in model.layers],
        "calls": [layer.call for layer in model.layers],
        "weights": [w.copy() for w in model.get_weights()],
    }
    x = np.array([[-1.0, 0.5]], np.float32)
    vanilla = input_gradient(model, x)
    guided = backprop_modifiers.guided(model)
    input_gradient(guided, x)
    assert model.get_config() == before["config"]
    assert list(model.layers) == before["layers"]
    assert [getattr(layer, "activation", None) for layer in model.layers] == before["activations"]
    assert [layer.call for layer in model.layers] == before["calls"]
    for w, w0 in zip(model.get_weights(), before["weights"]):
        np.testing.assert_array_equal(w, w0)
    np.testing.assert_array_equal(input_gradient(model, x), vanilla)
    # the modified model reads the user's variables: training the model is seen at once
    set_weights(model.layers[-1], [[2.0], [3.0]])
    np.testing.assert_allclose(guided(x), model(x))
    assert [layer.name for layer in guided.layers] == [layer.name for layer in model.layers]


def test_modified_models_are_cached_per_model_and_rule():
    model = keras_vis_pair("relu")
    assert backprop_modifiers.guided(model) is backprop_modifiers.get("guided")(model)
    assert backprop_modifiers.rectified(model) is backprop_modifiers.get("deconv")(model)
    assert backprop_modifiers.guided(model) is not backprop_modifiers.rectified(model)
    report = backprop_modifiers.report(backprop_modifiers.guided(model))
    assert report.replaced == ["relu_layer"] and not report.unreached and not report.non_relu


def test_sequential_keeps_its_layer_indices():
    model = keras.Sequential(
        [
            keras.Input((2,)),
            keras.layers.Dense(2, activation="relu", use_bias=False),
            keras.layers.Activation("relu"),
            keras.layers.Dense(1, use_bias=False),
        ]
    )
    guided = backprop_modifiers.guided(model)
    assert isinstance(guided, keras.Sequential)
    assert [layer.name for layer in guided.layers] == [layer.name for layer in model.layers]
    assert isinstance(guided.layers[0], backprop_modifiers.ModifiedLayer)
    assert guided.layers[2].inner is model.layers[2]  # a new layer object, the same weights
    assert guided.layers[2].output is not model.layers[2].output
    assert guided.layers[2].weights[0] is model.layers[2].weights[0]


def test_an_unreachable_relu_is_reported_by_name():
    inp = keras.Input((3,))
    h = keras.layers.Lambda(lambda t: tf.nn.relu(t) * 2.0, name="hidden_relu")(inp)
    h = keras.layers.Dense(3, activation="elu", name="elu_dense")(h)
    model = keras.Model(inp, keras.layers.Dense(1, name="out")(h))
    with pytest.warns(UserWarning) as record:
        guided = backprop_modifiers.guided(model)
    text = " ".join(str(w.message) for w in record)
    assert "'hidden_relu' (Lambda with 1 ReLU op(s) inside)" in text
    assert "'elu_dense' (elu)" in text
    report = backprop_modifiers.report(guided)
    assert [p for p, _ in report.unreached] == ["hidden_relu"]
    assert [p for p, _ in report.non_relu] == ["elu_dense"]


def test_a_fully_reached_model_does_not_warn():
    model = keras_vis_pair("nested")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        guided = backprop_modifiers.guided(model)
    assert backprop_modifiers.report(guided).replaced == ["inner/inner_relu"]


def test_mixed_precision_gates_keep_the_gradient_dtype():
    inp = keras.Input((2,))
    dense = keras.layers.Dense(2, activation="relu", use_bias=False, dtype="mixed_float16")
    out = keras.layers.Dense(1, use_bias=False, dtype="mixed_float16")
    model = keras.Model(inp, out(dense(inp)))
    set_weights(dense, [[-1.0, 1.0], [-1.0, 1.0]])
    set_weights(out, [[-1.0], [1.0]])
    guided = backprop_modifiers.guided(model)
    for x, _, expected in KERAS_VIS_CASES:
        np.testing.assert_array_equal(input_gradient(guided, [x])[0], expected)


def test_get_checks_its_identifier():
    assert backprop_modifiers.get(None) is None

    def identity(model):
        return model

    assert backprop_modifiers.get(identity) is identity
    with pytest.raises(ValueError, match=r"Expected one of deconv, guided, rectified, relu"):
        backprop_modifiers.get("guidedd")
    with pytest.raises(TypeError, match="backprop_modifier=3"):
        backprop_modifiers.get(3)
    with pytest.raises(TypeError, match="`model` must be a Keras model"):
        backprop_modifiers.guided("model")
