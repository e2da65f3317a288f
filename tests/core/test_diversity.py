"""The Diversity loss: Lucid's Gram-matrix similarity across the batch, by value."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from enginekit import Recorder

from vis_widgets.core import ActivationMaximization, Diversity, Optimizer, PixelImage


def _layer(shape=(3, 4, 5)):
    inp = keras.Input(shape)
    layer = keras.layers.Activation("linear", name="ident")
    return keras.Model(inp, layer(inp)), layer


def _reference(value):
    """Lucid's diversity per sample: mean cosine similarity of normalised Grams to the others."""
    n = value.shape[0]
    flat = value.reshape(n, -1, value.shape[-1]).astype(np.float64)
    grams = np.einsum("npc,npd->ncd", flat, flat).reshape(n, -1)
    grams /= np.linalg.norm(grams, axis=1, keepdims=True)
    sim = grams @ grams.T
    return (sim.sum(axis=1) - np.diag(sim)) / max(n - 1, 1)


def test_diversity_matches_lucids_formula(rng):
    _, layer = _layer()
    value = np.abs(rng.normal(size=(4, 3, 4, 5))).astype(np.float32)
    loss = Diversity(layer)
    out = loss.call(tf.constant(value)).numpy()
    np.testing.assert_allclose(out, _reference(value), rtol=1e-5)
    # the mean over samples is the mean pairwise similarity; its sum is B/(B-1) x Lucid's value
    lucid = sum(_reference(value) * 3) / 4
    assert out.sum() == pytest.approx(lucid * 4 / 3, rel=1e-5)
    assert loss.name == "Diversity Loss" and loss.get_config() == {"layer": "ident"}


def test_identical_samples_are_fully_similar_and_one_sample_is_zero(rng):
    _, layer = _layer()
    value = np.abs(rng.normal(size=(1, 3, 4, 5))).astype(np.float32)
    loss = Diversity(layer)
    np.testing.assert_allclose(
        loss.call(tf.constant(np.repeat(value, 3, 0))).numpy(), 1, rtol=1e-5
    )
    assert loss.call(tf.constant(value)).numpy().tolist() == [0.0]


def test_channels_first_reads_axis_one(rng):
    keras.config.set_image_data_format("channels_first")
    inp = keras.Input((5, 3, 4))
    conv = keras.layers.Conv2D(6, 1, name="conv")
    keras.Model(inp, conv(inp))
    value = np.abs(rng.normal(size=(3, 6, 3, 4))).astype(np.float32)
    out = Diversity(conv).call(tf.constant(value)).numpy()
    np.testing.assert_allclose(out, _reference(np.moveaxis(value, 1, -1)), rtol=1e-5)


def test_diversity_pushes_a_batch_apart(small_cnn, rng):
    conv = small_cnn.get_layer("conv2")
    x = small_cnn.inputs[0]
    losses = [
        (ActivationMaximization(small_cnn.get_layer("predictions"), 1, pre_activation=True), 0.0),
        (Diversity(conv), 1.0),
    ]
    opt = Optimizer(x, losses, parameterization=PixelImage(), learning_rate=0.1)
    seed = np.repeat(opt.make_seed(), 3, 0) + rng.normal(0, 1, (3, 16, 16, 3)).astype(np.float32)
    rec = Recorder()
    opt.minimize(seed, max_iter=20, callbacks=[rec], verbose=False)
    first, last = rec.calls[0]["named"][1][1], rec.calls[-1]["named"][1][1]
    assert last < first - 0.01, (first, last)


def test_diversity_needs_a_layer():
    with pytest.raises(TypeError, match="layer"):
        Diversity("conv2")
