"""The engine at its edges: no retrace when numbers change, clear errors for bad input."""

import keras
import numpy as np
import pytest
from attributionkit import gap_cnn, images

from vis_widgets.core.attribution import Attributor

CHANGES = {
    "saliency": [{}],
    "smoothgrad": [{"noise": 0.1, "samples": 4}, {"noise": 0.3, "samples": 9}],
    "integrated_gradients": [
        {"steps": 4},
        {"steps": 16, "baseline": 0.5},
        {"steps": 3, "baseline": np.ones((8, 8, 3))},
    ],
    "gradcam": [{}],
    "scorecam": [{}],
    "faster_scorecam": [{"max_n": 2}, {"max_n": 4}],
    "guided_gradcam": [{}],
}


@pytest.mark.parametrize("method", list(CHANGES))
def test_classes_images_batch_sizes_and_numbers_never_retrace(method):
    attributor = Attributor(gap_cnn(softmax=True))
    attributor.attribute(images(2), 0, method=method, **CHANGES[method][0])
    count = attributor.trace_count
    for params in CHANGES[method]:
        for n, targets in ((1, 3), (2, [1, 2]), (5, None), (3, [0, 0, 3])):
            attributor.attribute(images(n, seed=n), targets, method=method, **params)
    attributor.attribute(images(1)[0], 2, method=method, **CHANGES[method][-1])
    assert attributor.trace_count == count
    attributor.top_k(images(3))
    attributor.top_k(images(1))
    assert attributor.trace_count == count + 1


def test_output_options_trace_once_each():
    attributor = Attributor(gap_cnn())
    x = images(2)
    attributor.attribute(x, 0)
    for options in ({"keepdims": True}, {"grad_modifier": "negate"}, {"raw": True}):
        count = attributor.trace_count
        attributor.attribute(x, 1, **options)
        attributor.attribute(images(4), [0, 1, 2, 3], **options)
        assert attributor.trace_count == count + 1


@pytest.fixture(scope="module")
def engine():
    return Attributor(gap_cnn(softmax=True))


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"method": "saliencyy"}, ValueError, r"Unknown `method`.*Received: method='saliencyy'"),
        ({"backprop_modifier": "guide"}, ValueError, r"Received: backprop_modifier='guide'"),
        ({"backprop_modifier": 7}, TypeError, r"backprop_modifier=7"),
        ({"targets": 4}, ValueError, r"class indices in \[0, 4\) for layer 'preds'.*targets=4"),
        ({"targets": -1}, ValueError, r"in \[0, 4\).*Received: targets=-1"),
        ({"targets": [0, 1, 2]}, ValueError, r"one per sample \(2\). Received: 3 indices"),
        ({"targets": True}, TypeError, r"`targets` must be None, a class index"),
        ({"targets": np.ones((2, 3))}, ValueError, r"shape \(2, 4\). Received.*\(2, 3\)"),
        ({"grad_modifier": "abs"}, ValueError, r"Unknown `grad_modifier`"),
        ({"sample": 3, "method": "smoothgrad"}, TypeError, r"unknown parameter\(s\) sample"),
        ({"noise": -0.1, "method": "smoothgrad"}, ValueError, r"`noise` must be.*noise=-0.1"),
        ({"samples": 0, "method": "vargrad"}, ValueError, r"`samples` must be an int >= 1"),
        ({"steps": 2.5, "method": "integrated_gradients"}, ValueError, r"steps=2.5"),
        (
            {"baseline": np.ones((4, 4, 3)), "method": "integrated_gradients"},
            ValueError,
            r"`baseline` must be a number, one input sample or a batch",
        ),
        ({"max_n": 0, "method": "faster_scorecam"}, ValueError, r"`max_n` must be an int >= 1"),
        ({"method": "scorecam", "backprop_modifier": "guided"}, ValueError, r"gradient-free"),
        ({"method": "guided_gradcam", "backprop_modifier": "relu"}, ValueError, r"vanilla"),
        ({"layer": "features"}, ValueError, r"`layer` applies to class activation maps only"),
        (
            {"method": "gradcam", "layer": "preds"},
            ValueError,
            r"spatial axes.*'preds'.*\(None, 4\)",
        ),
        ({"method": "gradcam", "layer": "gapp"}, ValueError, r"No layer with name 'gapp'"),
        ({"method": "gradcam", "layer": 99}, ValueError, r"`layer` must index `model.layers`"),
        ({"method": "gradcam", "layer": 2.0}, TypeError, r"`layer` must be a layer index"),
        ({"wrt_layer": "conv1", "method": "gradcam"}, ValueError, r"'saliency' only"),
    ],
)
def test_bad_arguments_name_what_was_expected_and_received(engine, kwargs, error, message):
    kwargs = {"targets": 0, **kwargs}
    with pytest.raises(error, match=message):
        engine.attribute(images(2), **kwargs)


@pytest.mark.parametrize(
    ("value", "error", "message"),
    [
        (
            np.zeros((8, 8)),
            ValueError,
            r"input shape \(8, 8, 3\).*Received: images with shape \(8, 8\)",
        ),
        (np.zeros((2, 8, 8, 1)), ValueError, r"Received: images with shape \(2, 8, 8, 1\)"),
        (np.zeros((0, 8, 8, 3)), ValueError, r"Received: images with shape \(0, 8, 8, 3\)"),
        (np.full((1, 8, 8, 3), np.nan), ValueError, r"`images` must be finite"),
        ("an image", TypeError, r"`images` must be a numeric array. Received: str"),
    ],
)
def test_bad_images(engine, value, error, message):
    with pytest.raises(error, match=message):
        engine.attribute(value, 0)
    with pytest.raises(error, match=message):
        engine.top_k(value)


def test_a_cam_layer_after_the_target_is_refused():
    attributor = Attributor(gap_cnn(), output_layer="conv1")
    with pytest.raises(ValueError, match=r"before the target layer 'conv1'.*layer='features'"):
        attributor.attribute(images(1), 0, method="gradcam", layer="features")


def test_bad_engine_arguments():
    model = gap_cnn()
    with pytest.raises(TypeError, match=r"`model` must be a Keras model"):
        Attributor("model")
    with pytest.raises(ValueError, match=r"`pre_activation=True` needs.*'gap'"):
        Attributor(model, output_layer="gap", pre_activation=True)
    with pytest.raises(ValueError, match=r"`batch_size` must be an int >= 1. Received: 0"):
        Attributor(model, batch_size=0)
    with pytest.raises(ValueError, match=r"`k` must be an int >= 1. Received: k=0"):
        Attributor(model).top_k(images(1), k=0)
    assert Attributor(model).top_k(images(1)[0], k=9)[0].shape == (4,)

    class Subclassed(keras.Model):
        def call(self, x):
            return x

    with pytest.raises(ValueError, match=r"Subclassed models are not supported"):
        Attributor(Subclassed())
