"""The display setting: the returned image, stretched or as returned, and its range text."""

import keras
import numpy as np
import pytest

from vis_widgets.core import LPNorm, Optimizer, TotalVariation
from vis_widgets.core.utils import to_display_image
from vis_widgets.display import (
    AS_RETURNED,
    STRETCHED,
    Returned,
    returned_images,
    shown,
    stretch_limits,
)


def _opt(shape, input_range=(0.0, 255.0)):
    inp = keras.Input(shape)
    out = keras.layers.Activation("linear", name="ident")(inp)
    x = keras.Model(inp, out).inputs[0]
    return Optimizer(x, [(LPNorm(x), 1.0), (TotalVariation(x), 1.0)], input_range=input_range)


def test_as_returned_is_what_minimize_returns(tiny_opt):
    img, _, _ = tiny_opt.minimize(np.full((2, 12, 12, 3), 0.5), max_iter=3, verbose=False)
    returned = returned_images(tiny_opt, tiny_opt.best_input)
    np.testing.assert_allclose(returned.images, img, rtol=0, atol=1e-6)
    assert returned.value_range == (0.0, 1.0)
    # the uint8 pictures the exports save are the ones the engine's display helper makes
    expected = np.stack([to_display_image(x, (0.0, 1.0)) for x in tiny_opt.best_input])
    np.testing.assert_array_equal(returned.as_returned(), expected)
    np.testing.assert_array_equal(shown(returned, AS_RETURNED).images, expected)


def test_the_stretch_maps_each_images_percentiles_to_black_and_white():
    rng = np.random.default_rng(0)
    dim = rng.uniform(100, 140, (2, 16, 16, 1)).astype(np.float32)  # a grey smear, 40 units
    dim[1] += 50.0
    dim[0, 0, 0, 0] = 255.0  # one hot pixel: a percentile stretch ignores it
    picture = shown(Returned(dim, (0.0, 255.0)), STRETCHED)
    for k in range(2):
        lo, hi = np.percentile(dim[k], [0.5, 99.5])
        np.testing.assert_allclose(picture.limits[k], (lo, hi), rtol=1e-6)
        assert hi - lo < 45  # the hot pixel did not widen the range to 255
        assert picture.images[k].min() == 0 and picture.images[k].max() == 255
    assert picture.images.dtype == np.uint8
    # as returned, the same smear keeps its dim grey
    plain = shown(Returned(dim, (0.0, 255.0)), AS_RETURNED).images
    assert plain[0].std() < picture.images[0].std() / 3


def test_a_flat_image_is_shown_as_returned_and_a_colour_image_keeps_its_hues():
    flat = np.full((1, 4, 4, 1), 100.0, np.float32)
    picture = shown(Returned(flat, (0.0, 255.0)), STRETCHED)
    np.testing.assert_array_equal(picture.limits, [[0.0, 255.0]])
    assert np.all(picture.images == 100)
    rgb = np.zeros((1, 4, 4, 3), np.float32)
    rgb[..., 0] = np.linspace(10, 20, 16).reshape(4, 4)  # red varies, green and blue stay 0
    limits = stretch_limits(rgb, (0.0, 255.0))
    assert limits.shape == (1, 2)  # one stretch for all channels
    out = shown(Returned(rgb, (0.0, 255.0)), STRETCHED).images
    assert out[..., 0].max() == 255 and out[..., 1].max() == 0 == out[..., 2].max()


def test_the_range_text_says_what_is_shown_black_to_white():
    images = np.stack([np.linspace(12, 201, 256).reshape(16, 16, 1)] * 2).astype(np.float32)
    lo, hi = np.percentile(images[0], [0.5, 99.5])  # 12.95, 200.05
    single = shown(Returned(images[:1], (0.0, 255.0)), STRETCHED)
    assert single.range_text() == f"stretched from [{lo:.4g}, {hi:.4g}]" != ""
    assert 12.9 < lo < 13.0 and 200.0 < hi < 200.1
    both = shown(Returned(images, (0.0, 255.0)), STRETCHED)
    assert both.range_text() == f"each image stretched on its own, within [{lo:.4g}, {hi:.4g}]"
    plain = shown(Returned(images, (0.0, 255.0)), AS_RETURNED)
    assert plain.range_text() == "as returned: [0, 255] shown black to white"
    with pytest.raises(ValueError, match=r"`display` must be one of \['stretched'"):
        shown(plain, "brighter")


@pytest.mark.parametrize(
    ("data_format", "shape", "channels"),
    [
        ("channels_last", (8, 8, 1), 1),
        ("channels_last", (8, 8, 3), 3),
        ("channels_first", (3, 8, 8), 3),
        ("channels_last", (8, 8, 5), 1),  # other channel counts: their mean
        ("channels_last", (12, 2), 1),  # a 1-D input: a one-row strip of 2 channels' mean
    ],
)
def test_every_input_layout_becomes_a_picture(data_format, shape, channels):
    keras.config.set_image_data_format(data_format)
    opt = _opt(shape)
    batch = np.random.default_rng(0).uniform(0, 255, (2, *shape)).astype(np.float32)
    returned = returned_images(opt, batch)
    assert returned.images.shape[0] == 2 and returned.images.shape[-1] == channels
    expected = np.stack([to_display_image(x, (0.0, 255.0), data_format) for x in batch])
    np.testing.assert_array_equal(returned.as_returned(), expected)
