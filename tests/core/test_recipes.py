"""keras_vis_losses (the three-loss recipe in one place) and the dashboard's recipes."""

import dataclasses

import keras
import numpy as np
import pytest
from enginekit import assert_descends

from vis_widgets.core import (
    RECIPES,
    TUNED_TRANSFORMS,
    ActivationMaximization,
    FourierImage,
    Jitter,
    LPNorm,
    Optimizer,
    Pad,
    PixelImage,
    RandomJitter,
    Recipe,
    TotalVariation,
    build_recipe,
    get_recipe,
    keras_vis_losses,
    visualize_activation,
)


def _types(losses):
    return [(type(loss).__name__, weight) for loss, weight in losses]


def test_keras_vis_losses_by_layer_name_and_index(small_cnn):
    head = small_cnn.get_layer("predictions")
    for layer in (head, "predictions", -1, len(small_cnn.layers) - 1):
        losses = keras_vis_losses(small_cnn, layer, 3)
        assert _types(losses) == [
            ("ActivationMaximization", 1),
            ("LPNorm", 10),
            ("TotalVariation", 10),
        ]
        am, lp, tv = (loss for loss, _ in losses)
        assert am.layer is head and am.filter_indices == [3]
        assert lp.p == 6.0 and tv.beta == 2.0
        assert lp.tensor is small_cnn.inputs[0] and tv.tensor is small_cnn.inputs[0]


def test_pre_activation_none_means_true_for_softmax_layers(small_cnn):
    assert keras_vis_losses(small_cnn, "predictions")[0][0].pre_activation is True
    assert keras_vis_losses(small_cnn, "conv2")[0][0].pre_activation is False
    assert (
        keras_vis_losses(small_cnn, "predictions", pre_activation=False)[0][0].pre_activation
        is False
    )
    inp = keras.Input((4, 4, 1))
    soft = keras.layers.Softmax(name="soft")
    model = keras.Model(inp, soft(keras.layers.Dense(3)(keras.layers.Flatten()(inp))))
    assert keras_vis_losses(model, "soft")[0][0].pre_activation is True


def test_keras_vis_losses_weights_and_bad_layers(small_cnn):
    losses = keras_vis_losses(small_cnn, "conv1", None, 2.0, 0.0, [1.0, 3.0])
    assert [w for _, w in losses] == [2.0, 0.0, [1.0, 3.0]]
    n = len(small_cnn.layers)
    with pytest.raises(ValueError, match=rf"layer.*{n} layers.*Received: layer={n}"):
        keras_vis_losses(small_cnn, n)
    with pytest.raises(ValueError, match="nope"):
        keras_vis_losses(small_cnn, "nope")
    with pytest.raises(TypeError, match="layer"):
        keras_vis_losses(small_cnn, 2.5)
    with pytest.raises(TypeError, match="pre_activation"):
        keras_vis_losses(small_cnn, "conv1", pre_activation="yes")


def test_visualize_activation_is_built_on_keras_vis_losses(small_cnn):
    # the same losses by hand (keras-vis: the softmax output as it is) give the same image
    x = small_cnn.inputs[0]
    head = small_cnn.get_layer("predictions")
    by_hand = [
        (ActivationMaximization(head, 1, pre_activation=False), 1),
        (LPNorm(x), 10),
        (TotalVariation(x), 10),
    ]
    seed = np.random.default_rng(0).uniform(0, 255, (16, 16, 3)).astype(np.float32)
    expected = Optimizer(x, by_hand).minimize(seed, max_iter=5, verbose=False)[0]
    img = visualize_activation(small_cnn, -1, 1, seed_input=seed, max_iter=5)
    np.testing.assert_array_equal(img, np.clip(expected, 0, 255).astype("uint8"))


def test_the_three_recipes_are_data_with_their_defaults():
    assert list(RECIPES) == ["keras-vis", "robust pixel", "fourier"]
    keras_vis = RECIPES["keras-vis"]
    assert (keras_vis.parameterization, keras_vis.learning_rate, keras_vis.jitter) == (
        None,
        None,
        0.05,
    )
    assert (keras_vis.lp_norm_weight, keras_vis.tv_weight, keras_vis.max_iter) == (10.0, 10.0, 200)
    for name in ("robust pixel", "fourier"):
        recipe = RECIPES[name]
        assert recipe.transforms and recipe.learning_rate == 0.05
        assert recipe.lp_norm_weight == 0.0 and recipe.tv_weight == 0.0
        # the tuned transforms: Lucid's set with pad 16 and a first jitter of 32 (for 128 px)
        assert dict(recipe.transform_amounts) == dict(TUNED_TRANSFORMS)
        assert (TUNED_TRANSFORMS["pad"], TUNED_TRANSFORMS["jitter"]) == (16.0, 32.0)
    assert RECIPES["robust pixel"].small_image_learning_rate is None
    assert RECIPES["fourier"].small_image_learning_rate == 0.001
    assert RECIPES["fourier"].small_image_decay_power == 2.0
    assert get_recipe("fourier") is RECIPES["fourier"]
    with pytest.raises(ValueError, match="'keras-vis', 'robust pixel', 'fourier'"):
        get_recipe("lucid")
    with pytest.raises(TypeError, match="recipe"):
        get_recipe(3)
    with pytest.raises(TypeError):
        RECIPES["new"] = keras_vis  # read-only


def test_build_the_keras_vis_recipe_is_todays_path(small_cnn):
    prepared = build_recipe(small_cnn, "predictions", 2, "keras-vis", input_range=(0, 255))
    opt = prepared.optimizer
    assert opt.parameterization is None and opt.learning_rate is None
    assert [opt.get_weight(k) for k in range(3)] == [1.0, 10.0, 10.0]
    assert [type(m) for m in prepared.input_modifiers] == [Jitter]
    assert prepared.input_modifiers[0].jitter == pytest.approx(0.05)
    assert prepared.max_iter == 200


@pytest.mark.parametrize("name, param", [("robust pixel", PixelImage), ("fourier", FourierImage)])
def test_build_the_new_recipes(small_cnn, name, param):
    prepared = build_recipe(small_cnn, "predictions", 2, name, input_range=(0, 1), max_iter=12)
    opt = prepared.optimizer
    small_rate = {"robust pixel": 0.05, "fourier": 0.001}[name]  # a 16 px input is small
    assert isinstance(opt.parameterization, param)
    assert opt.learning_rate == pytest.approx(small_rate)
    assert [opt.get_weight(k) for k in range(3)] == [1.0, 0.0, 0.0]
    pad, jitter = prepared.input_modifiers[:2]
    assert isinstance(pad, Pad) and isinstance(jitter, RandomJitter)
    assert pad.amount == pytest.approx(16 * 16 / 128)  # scaled to the 16 px input
    assert jitter.amount == pytest.approx(32 * 16 / 128)
    assert prepared.max_iter == 12 and prepared.recipe.max_iter == 12
    assert_descends(opt, max_iter=prepared.max_iter, input_modifiers=prepared.input_modifiers)
    img, _, _ = prepared.minimize(verbose=False)
    assert img.shape == (16, 16, 3) and opt.trace_count == 1


def test_the_fourier_decay_and_step_size_follow_the_image_size(small_cnn):
    fourier = RECIPES["fourier"]
    small = build_recipe(small_cnn, "conv1", 0, "fourier")
    assert small.optimizer.parameterization.decay_power == fourier.small_image_decay_power
    assert small.optimizer.learning_rate == pytest.approx(fourier.small_image_learning_rate)
    big = build_recipe(small_cnn, "conv1", 0, "fourier", small_image_size=8)
    assert big.optimizer.parameterization.decay_power == fourier.decay_power
    assert big.optimizer.learning_rate == pytest.approx(fourier.learning_rate)
    # None: the one step size at every size
    same = build_recipe(small_cnn, "conv1", 0, "fourier", small_image_learning_rate=None)
    assert same.optimizer.learning_rate == pytest.approx(fourier.learning_rate)


def test_overrides_and_custom_recipes(small_cnn):
    custom = dataclasses.replace(RECIPES["robust pixel"], name="mine", tv_weight=2.0)
    prepared = build_recipe(
        small_cnn,
        "conv1",
        0,
        custom,
        learning_rate=0.2,
        transform_amounts={"pad": 4.0, "degrees": 0.0},
    )
    assert prepared.optimizer.learning_rate == pytest.approx(0.2)
    assert prepared.optimizer.get_weight("TV(2.0) Loss") == 2.0
    assert prepared.input_modifiers[0].amount == pytest.approx(4 * 16 / 128)
    assert prepared.input_modifiers[3].amount == 0.0
    assert isinstance(custom, Recipe)
    with pytest.raises(TypeError, match=r"Unknown recipe setting\(s\) \['speed'\]"):
        build_recipe(small_cnn, "conv1", 0, "fourier", speed=3)


def test_a_transform_recipe_on_a_one_dimensional_input_fails_clearly():
    inp = keras.Input((20, 2))
    model = keras.Model(inp, keras.layers.Conv1D(4, 3, name="conv")(inp))
    with pytest.raises(ValueError, match=r"2-D images"):
        build_recipe(model, "conv", 0, "robust pixel")
    assert build_recipe(model, "conv", 0, "keras-vis").optimizer.parameterization is None
