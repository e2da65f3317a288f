"""The numpy utilities and visualize_activation."""

import keras
import numpy as np
import pytest

from vis_widgets.core import (
    deprocess_input,
    get_num_filters,
    normalize,
    stitch_images,
    visualize_activation,
)
from vis_widgets.core.utils import to_display_image


def test_deprocess_input_matches_keras_vis(rng):
    x = rng.normal(5, 3, size=(6, 6, 3)).astype(np.float32)
    before = x.copy()
    out = deprocess_input(x, (0, 255))
    ref = np.clip((x - x.mean()) / (x.std() + 1e-7) * 0.1 + 0.5, 0, 1) * 255
    np.testing.assert_allclose(out, ref, rtol=1e-5, atol=1e-4)
    np.testing.assert_array_equal(x, before)
    out2 = deprocess_input(x, (-1, 1))
    assert out2.min() >= -1 and out2.max() <= 1
    assert float(np.mean(out2)) == pytest.approx(0.0, abs=0.05)


def test_normalize():
    np.testing.assert_allclose(normalize(np.array([2.0, 3.0, 4.0]), -1, 1), [-1, 0, 1], atol=1e-6)


def test_stitch_images_layout():
    imgs = [np.full((2, 3, 1), k + 1, np.uint8) for k in range(4)]
    grid = stitch_images(imgs, margin=1, cols=3)
    assert grid.shape == (2 * 2 + 1, 3 * 3 + 2, 1)
    assert grid[0, 0, 0] == 1 and grid[0, 4, 0] == 2 and grid[0, 8, 0] == 3
    assert grid[3, 0, 0] == 4 and grid[2, 0, 0] == 0 and grid[3, 4, 0] == 0
    assert stitch_images([]) is None
    with pytest.raises(ValueError, match="one shape"):
        stitch_images([np.zeros((2, 2, 1)), np.zeros((3, 2, 1))])


def test_get_num_filters():
    keras.config.set_image_data_format("channels_last")
    inp = keras.Input((8, 8, 3))
    conv, dense = keras.layers.Conv2D(6, 3), keras.layers.Dense(4)
    dense(keras.layers.Flatten()(conv(inp)))
    assert get_num_filters(conv) == 6 and get_num_filters(dense) == 4
    keras.config.set_image_data_format("channels_first")
    inp = keras.Input((3, 8, 8))
    conv = keras.layers.Conv2D(5, 3)
    conv(inp)
    assert get_num_filters(conv) == 5
    with pytest.raises(TypeError, match=r"`layer` must be a Keras layer\. Received: 'conv'"):
        get_num_filters("conv")


def test_to_display_image_shows_an_image_as_it_is_without_deprocessing():
    x = np.array([[[0.25], [0.5]], [[1.0], [1.5]]], np.float32)  # in (0, 1); 1.5 is clipped
    shown = to_display_image(x, (0, 1), deprocess=False)
    np.testing.assert_array_equal(shown[..., 0], [[64, 128], [255, 255]])
    assert to_display_image(x, (0, 1))[..., 0].std() < shown[..., 0].std()  # de-processed: dimmer


def test_to_display_image_handles_layouts(rng):
    assert to_display_image(rng.normal(size=(4, 5, 1))).shape == (4, 5, 1)
    assert to_display_image(rng.normal(size=(4, 5, 3))).dtype == np.uint8
    first = to_display_image(rng.normal(size=(3, 4, 5)), data_format="channels_first")
    assert first.shape == (4, 5, 3)
    assert to_display_image(rng.normal(size=(7, 2))).shape == (1, 7, 1)  # 1-D: a strip
    assert to_display_image(rng.normal(size=(3, 4, 5, 1))).shape == (4, 5, 1)  # 3-D: a slice
    assert to_display_image(rng.normal(size=(4, 4, 8))).shape == (4, 4, 1)  # many channels


def test_visualize_activation_defaults_give_uint8_hwc(small_cnn):
    img = visualize_activation(small_cnn, -1, filter_indices=1, max_iter=5)
    assert img.shape == (16, 16, 3) and img.dtype == np.uint8
    img = visualize_activation(small_cnn, -1, 1, max_iter=2, input_range=(0.0, 1.0))
    assert img.dtype != np.uint8 and img.max() <= 1.0


def test_visualize_activation_rejects_a_bad_layer_idx(small_cnn):
    n = len(small_cnn.layers)
    with pytest.raises(ValueError, match=f"layer_idx.*{n} layers.*Received: {n}"):
        visualize_activation(small_cnn, n)
    with pytest.raises(TypeError, match="layer_idx"):
        visualize_activation(small_cnn, "conv")


def test_visualize_activation_channels_first_returns_hwc():
    keras.config.set_image_data_format("channels_first")
    inp = keras.Input((3, 8, 8))
    h = keras.layers.Conv2D(4, 3, activation="relu")(inp)
    out = keras.layers.Dense(2)(keras.layers.Flatten()(h))
    model = keras.Model(inp, out)
    assert visualize_activation(model, -1, 0, max_iter=3).shape == (8, 8, 3)
