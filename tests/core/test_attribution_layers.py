"""The Grad-CAM layer rule: tiny models by construction, and the keras.applications table."""

import gc

import keras
import numpy as np
import pytest
from attributionkit import gap_cnn, images

from vis_widgets.core import backprop_modifiers
from vis_widgets.core.attribution import Attributor, find_cam_layer


def test_the_rule_takes_the_input_of_the_heads_pooling():
    choice = find_cam_layer(gap_cnn())
    assert (choice.name, choice.role, choice.path) == ("features", "input", ("gap",))
    assert choice.shape == (None, 4, 4, 5)
    assert "input of 'gap'" in str(choice)


def test_the_rule_never_picks_a_one_by_one_map():
    inp = keras.Input((8, 8, 3))
    h = keras.layers.Conv2D(4, 3, padding="same", activation="relu", name="spatial")(inp)
    h = keras.layers.Conv2D(6, 8, strides=8, name="to_1x1")(h)  # (1, 1, 6)
    model = keras.Model(inp, keras.layers.Dense(2)(keras.layers.Flatten(name="flat")(h)))
    choice = find_cam_layer(model)
    assert (choice.name, choice.path) == ("spatial", ("to_1x1",))


def test_a_fully_convolutional_model_falls_back_to_the_last_spatial_output():
    inp = keras.Input((8, 8, 3))
    h = keras.layers.Conv2D(4, 3, padding="same", activation="relu", name="c1")(inp)
    model = keras.Model(inp, keras.layers.Conv2D(2, 1, name="segment")(h))
    choice = find_cam_layer(model)
    assert (choice.name, choice.role) == ("segment", "output")
    assert choice.how == "rule: last spatial output"


def test_an_ops_level_sum_before_the_head_is_reachable():
    # ConvNeXt's last feature map is `x + block(x)`: an ops-level add that no layer outputs
    inp = keras.Input((8, 8, 3))
    h = keras.layers.Conv2D(4, 3, padding="same", name="c1")(inp)
    h = keras.ops.add(h, keras.layers.Conv2D(4, 1, name="c2")(h))
    out = keras.layers.Dense(3)(keras.layers.GlobalAveragePooling2D(name="head_gap")(h))
    model = keras.Model(inp, out)
    choice = find_cam_layer(model)
    assert choice.path == ("head_gap",) and choice.role == "input"
    assert choice.name.startswith("add")
    maps = Attributor(model).attribute(images(2), 1, method="gradcam")
    assert maps.shape == (2, 8, 8)


def test_the_rule_only_considers_tensors_the_target_depends_on():
    model = gap_cnn()
    # explaining a conv filter: no pooling before it, so its own feature map (the filter's
    # Grad-CAM is then its activation map); the head's pooling is after it and never picked
    attributor = Attributor(model, output_layer="features")
    assert attributor.cam_layer().name == "features"
    x = images(1)
    cam = attributor.attribute(x, 2, method="gradcam", upsample=False)
    a = keras.Model(model.inputs[0], model.get_layer("features").output)(x).numpy()[..., 2]
    assert a.max() > 0
    np.testing.assert_allclose(cam, a / a.max(), atol=1e-4)  # the epsilon of the normalization


# ------------------------------------------------------------------------- keras.applications
A = keras.applications
# (model, input size, the tensor Grad-CAM should read); see docs/attribution.md
APPLICATIONS = [
    ("VGG16", A.VGG16, 64, "block5_pool"),
    ("ResNet50", A.ResNet50, 64, "conv5_block3_out"),
    ("ResNet50V2", A.ResNet50V2, 64, "post_relu"),
    ("MobileNetV2", A.MobileNetV2, 64, "out_relu"),
    ("EfficientNetB0", A.EfficientNetB0, 64, "top_activation"),
    ("InceptionV3", A.InceptionV3, 107, "mixed10"),
    ("DenseNet121", A.DenseNet121, 64, "relu"),
    ("Xception", A.Xception, 71, "block14_sepconv2_act"),
]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "build", "size", "expected"),
    APPLICATIONS,
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_the_rule_on_keras_applications(name, build, size, expected):
    model = build(weights=None, input_shape=(size, size, 3))
    choice = find_cam_layer(model)
    assert choice.name == expected, (name, str(choice))
    assert choice.role == "input" and choice.shape[1] > 1
    del model
    keras.backend.clear_session()
    gc.collect()


@pytest.mark.slow
def test_the_rule_on_mobilenetv3_and_convnext():
    # Their head layers have generated names: check what they are instead.
    for build, channels in ((A.MobileNetV3Small, 576), (A.ConvNeXtTiny, 768)):
        model = build(weights=None, input_shape=(64, 64, 3))
        choice = find_cam_layer(model)
        head = model.get_layer(choice.path[-1])
        assert isinstance(head, keras.layers.GlobalAveragePooling2D), str(choice)
        assert (
            head
            is [
                layer
                for layer in model.layers
                if isinstance(layer, keras.layers.GlobalAveragePooling2D)
            ][-1]
        )
        assert choice.shape == (None, 2, 2, channels)
        if build is A.ConvNeXtTiny:  # the residual sum, an ops-level add
            assert choice.name.startswith("add") and choice.path == ("convnext_tiny_head_gap",)
        del model
        keras.backend.clear_session()
        gc.collect()


@pytest.mark.slow
def test_guided_gradcam_on_mobilenetv2_reaches_every_relu6():
    model = A.MobileNetV2(weights=None, input_shape=(64, 64, 3), classifier_activation=None)
    guided = backprop_modifiers.guided(model)
    report = backprop_modifiers.report(guided)
    assert len(report.replaced) == 35 and not report.unreached and not report.non_relu
    attributor = Attributor(model)
    x = np.random.default_rng(0).uniform(0, 255, (2, 64, 64, 3)).astype(np.float32)
    maps = attributor.attribute(x, [1, 2], method="guided_gradcam")
    assert maps.shape == (2, 64, 64) and attributor.cam_layer().name == "out_relu"
