"""keras-vis code runs with only the package renamed: `vis` -> `vis_widgets.core`.

Each test is written in the idioms of one of keras-vis's example notebooks
(examples/mnist/attention.ipynb, examples/mnist/activation_maximization.ipynb,
examples/vggnet/attention.ipynb, examples/resnet/attention.ipynb), on offline
models and data: the demo digits, and keras.applications with weights=None.
Only the import lines differ from keras-vis code (plus Keras 3's layer names).
"""

import matplotlib.cm as cm
import numpy as np
import pytest
from keras import activations
from PIL import Image

# keras-vis: from vis.utils import utils / from vis.visualization import ... / from vis.losses ...
from vis_widgets.core.attribution import Attributor
from vis_widgets.core.input_modifiers import Jitter
from vis_widgets.core.losses import Loss
from vis_widgets.core.optimizer import Optimizer
from vis_widgets.core.utils import utils
from vis_widgets.core.visualization import (
    overlay,
    visualize_activation,
    visualize_cam,
    visualize_saliency,
)
from vis_widgets.demo import load_demo_model, load_split


@pytest.fixture(scope="module")
def digits():
    return load_split()[1]


def _in_unit_range(a):
    return a.dtype == np.float32 and a.min() >= 0 and a.max() <= 1 and a.max() > 0.99


def test_mnist_attention_idioms(digits):
    x_test, y_test = digits
    model = load_demo_model()
    class_idx = 0
    indices = np.where(y_test == class_idx)[0]
    idx = indices[0]

    # Swap softmax with linear
    layer_idx = utils.find_layer_idx(model, "predictions")
    model.layers[layer_idx].activation = activations.linear
    model = utils.apply_modifications(model)

    grads = visualize_saliency(model, layer_idx, filter_indices=class_idx, seed_input=x_test[idx])
    assert grads.shape == (16, 16) and _in_unit_range(grads)
    # the swap is what the engine does by itself on the untouched model
    logits = Attributor(load_demo_model()).attribute(x_test[idx], class_idx)
    np.testing.assert_allclose(grads, logits, atol=1e-5)

    maps = {None: grads}
    for modifier in ["guided", "relu"]:
        maps[modifier] = visualize_saliency(
            model,
            layer_idx,
            filter_indices=class_idx,
            seed_input=x_test[idx],
            backprop_modifier=modifier,
        )
        assert maps[modifier].shape == (16, 16) and _in_unit_range(maps[modifier])
    assert not np.allclose(maps["guided"], maps[None]) and not np.allclose(
        maps["relu"], maps[None]
    )

    # what would make the class *decrease*
    negate = visualize_saliency(
        model, layer_idx, filter_indices=class_idx, seed_input=x_test[idx], grad_modifier="negate"
    )
    assert negate.shape == (16, 16) and not np.allclose(negate, grads)

    for modifier in [None, "guided", "relu"]:
        grads = visualize_cam(
            model,
            layer_idx,
            filter_indices=class_idx,
            seed_input=x_test[idx],
            backprop_modifier=modifier,
        )
        assert grads.shape == (16, 16) and _in_unit_range(grads)
        jet_heatmap = np.uint8(cm.jet(grads)[..., :3] * 255)
        img = np.repeat(x_test[idx].astype(np.uint8), 3, axis=-1)
        blended = overlay(jet_heatmap, img)
        assert blended.shape == (16, 16, 3) and blended.dtype == np.uint8

    penultimate_layer = utils.find_layer_idx(model, "conv3")
    conv3 = visualize_cam(
        model,
        layer_idx,
        filter_indices=class_idx,
        seed_input=x_test[idx],
        penultimate_layer_idx=penultimate_layer,
    )
    assert conv3.shape == (16, 16) and _in_unit_range(conv3)

    # one map per seed for a batch (keras-vis returned the first only)
    batch = visualize_cam(
        model, layer_idx, filter_indices=class_idx, seed_input=x_test[indices[:3]]
    )
    assert batch.shape == (3, 16, 16)


def test_mnist_activation_maximization_idioms(capsys):
    model = load_demo_model()
    layer_idx = utils.find_layer_idx(model, "predictions")
    model.layers[layer_idx].activation = activations.linear
    model = utils.apply_modifications(model)

    filter_idx = 0
    img = visualize_activation(model, layer_idx, filter_indices=filter_idx, max_iter=20)
    assert img.shape == (16, 16, 1) and img.dtype == np.uint8
    img = visualize_activation(
        model, layer_idx, filter_indices=filter_idx, input_range=(0.0, 1.0), max_iter=20
    )
    assert img.dtype == np.float32 and img.min() >= 0 and img.max() <= 1
    img = visualize_activation(
        model, layer_idx, filter_indices=filter_idx, max_iter=3, verbose=True
    )
    assert "ActivationMax Loss" in capsys.readouterr().out
    img = visualize_activation(
        model,
        layer_idx,
        filter_indices=[1, 7],
        max_iter=20,
        tv_weight=0.0,
        lp_norm_weight=0.0,
        input_modifiers=[Jitter(1)],
    )
    assert img.shape == (16, 16, 1)
    img = visualize_activation(
        model, layer_idx, filter_indices=[1, 7], max_iter=5, backprop_modifier="guided"
    )
    assert img.shape == (16, 16, 1)


def test_a_keras_vis_custom_loss_and_the_optimizer():
    model = load_demo_model()
    layer_idx = utils.find_layer_idx(model, "predictions")

    class ClassLogit(Loss):
        def __init__(self, layer, idx):
            super(ClassLogit, self).__init__()  # noqa: UP008 (keras-vis's own spelling)
            self.name = "Class Logit"
            self.layer = layer
            self.idx = idx

        def build_loss(self):
            # keras-vis wrote K.mean(...); Keras 3's backend module has no mean: keras.ops
            import keras

            return -keras.ops.mean(self.layer.output[:, self.idx])

    opt = Optimizer(model.input, [(ClassLogit(model.layers[layer_idx], 3), 1)])
    assert opt.wrt_tensor_is_input_tensor
    img, grads, wrt_value = opt.minimize(max_iter=30, verbose=False)
    assert img.shape == (16, 16, 1) and grads.shape == wrt_value.shape == (1, 16, 16, 1)
    assert opt.per_sample_raw_losses["Class Logit"].shape == (1,)


def _jpg(path, seed, size=(80, 96)):
    rgb = np.random.default_rng(seed).integers(0, 256, (*size, 3), dtype=np.uint8)
    Image.fromarray(rgb).save(path, quality=95)
    return str(path)


@pytest.mark.slow
def test_vggnet_attention_idioms(tmp_path):
    from keras.applications import VGG16

    model = VGG16(weights=None, include_top=True, input_shape=(64, 64, 3))
    layer_idx = utils.find_layer_idx(model, "predictions")
    model.layers[layer_idx].activation = activations.linear
    model = utils.apply_modifications(model)

    img1 = utils.load_img(_jpg(tmp_path / "ouzel1.jpg", 1), target_size=(64, 64))
    img2 = utils.load_img(_jpg(tmp_path / "ouzel2.jpg", 2), target_size=(64, 64))
    assert img1.shape == (64, 64, 3) and img1.dtype == np.uint8

    for img in [img1, img2]:
        # 20 is the imagenet index corresponding to `ouzel`
        grads = visualize_saliency(model, layer_idx, filter_indices=20, seed_input=img)
        assert grads.shape == (64, 64) and _in_unit_range(grads)
    for modifier in ["guided", "relu"]:
        for img in [img1, img2]:
            grads = visualize_saliency(
                model, layer_idx, filter_indices=20, seed_input=img, backprop_modifier=modifier
            )
            assert grads.shape == (64, 64)

    penultimate_layer = utils.find_layer_idx(model, "block5_conv3")
    for modifier in [None, "guided", "relu"]:
        for img in [img1, img2]:
            grads = visualize_cam(
                model,
                layer_idx,
                filter_indices=20,
                seed_input=img,
                penultimate_layer_idx=penultimate_layer,
                backprop_modifier=modifier,
            )
            jet_heatmap = np.uint8(cm.jet(grads)[..., :3] * 255)
            assert overlay(jet_heatmap, img).shape == (64, 64, 3)
    # without penultimate_layer_idx: the head's input, block5_pool
    auto = visualize_cam(model, layer_idx, filter_indices=20, seed_input=img1)
    assert auto.shape == (64, 64)


@pytest.mark.slow
def test_resnet_attention_idioms(tmp_path):
    from keras.applications import ResNet50

    model = ResNet50(weights=None, input_shape=(64, 64, 3))
    layer_idx = utils.find_layer_idx(model, "predictions")
    model.layers[layer_idx].activation = activations.linear
    model = utils.apply_modifications(model)
    img = utils.load_img(_jpg(tmp_path / "ouzel.jpg", 3), target_size=(64, 64))

    # keras-vis's example named 'res5c_branch2c' (Keras 2's name of this layer)
    penultimate_layer = utils.find_layer_idx(model, "conv5_block3_3_conv")
    for modifier in [None, "guided", "relu"]:
        grads = visualize_cam(
            model,
            layer_idx,
            filter_indices=20,
            seed_input=img,
            penultimate_layer_idx=penultimate_layer,
            backprop_modifier=modifier,
        )
        assert grads.shape == (64, 64)
        jet_heatmap = np.uint8(cm.jet(grads)[..., :3] * 255)
        assert overlay(jet_heatmap, img, alpha=0.3).dtype == np.uint8
