"""Losses and regularizers on known arrays."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from enginekit import Recorder

from vis_widgets.core import ActivationMaximization, Loss, LPNorm, Optimizer, TotalVariation


def _grad(loss, value):
    value = tf.constant(value, tf.float32)
    with tf.GradientTape() as tape:
        tape.watch(value)
        out = tf.reduce_sum(loss.call(value))
    return tape.gradient(out, value).numpy()


def _identity_layer(shape, name="ident"):
    inp = keras.Input(shape)
    layer = keras.layers.Activation("linear", name=name)
    model = keras.Model(inp, layer(inp))
    return model, layer


# ----------------------------------------------------------------- ActivationMaximization
def test_activation_maximization_channels_last(rng):
    _, layer = _identity_layer((3, 4, 5))
    value = rng.normal(size=(2, 3, 4, 5)).astype(np.float32)
    loss = ActivationMaximization(layer, [1, 4])
    expected = -(value[..., 1].mean(axis=(1, 2)) + value[..., 4].mean(axis=(1, 2)))
    np.testing.assert_allclose(loss.call(tf.constant(value)).numpy(), expected, rtol=1e-5)
    assert loss.name == "ActivationMax Loss"


def test_activation_maximization_channels_first_reads_axis_one(rng):
    keras.config.set_image_data_format("channels_first")
    inp = keras.Input((5, 3, 4))
    conv = keras.layers.Conv2D(6, 1, name="conv")
    keras.Model(inp, conv(inp))
    assert conv.data_format == "channels_first"
    loss = ActivationMaximization(conv, 2)
    value = rng.normal(size=(2, 6, 3, 4)).astype(np.float32)
    np.testing.assert_allclose(
        loss.call(tf.constant(value)).numpy(), -value[:, 2].mean(axis=(1, 2)), rtol=1e-5
    )


def test_activation_maximization_dense_indexes_last_axis_and_none_means_all(rng):
    _, layer = _identity_layer((7,))
    value = rng.normal(size=(3, 7)).astype(np.float32)
    np.testing.assert_allclose(
        ActivationMaximization(layer, 3).call(tf.constant(value)).numpy(), -value[:, 3]
    )
    np.testing.assert_allclose(
        ActivationMaximization(layer, -1).call(tf.constant(value)).numpy(), -value[:, 6]
    )
    np.testing.assert_allclose(
        ActivationMaximization(layer, None).call(tf.constant(value)).numpy(),
        -value.mean(axis=1),
        rtol=1e-6,
    )


def test_activation_maximization_through_the_optimizer_matches_the_layer(small_cnn, rng):
    x = small_cnn.inputs[0]
    conv2 = small_cnn.get_layer("conv2")
    opt = Optimizer(x, [(ActivationMaximization(conv2, [0, 5]), 2.0)])
    rec = Recorder()
    opt.minimize(max_iter=1, callbacks=[rec], verbose=False)
    out = keras.Model(x, conv2.output)(rec.calls[0]["wrt"]).numpy()
    expected = -2.0 * (out[..., 0].mean() + out[..., 5].mean())
    assert rec.calls[0]["named"][0][1] == pytest.approx(expected, rel=1e-4)


@pytest.mark.parametrize("indices", [5, [0, 9], -6])
def test_activation_maximization_rejects_indices_out_of_range(indices):
    _, layer = _identity_layer((5,))
    with pytest.raises(ValueError, match=r"\[0, 5\).*ident"):
        ActivationMaximization(layer, indices)


@pytest.mark.parametrize("indices", ["3", 1.5, [1, None], True])
def test_activation_maximization_rejects_non_int_indices(indices):
    _, layer = _identity_layer((5,))
    with pytest.raises(TypeError, match="filter_indices"):
        ActivationMaximization(layer, indices)


def test_activation_maximization_needs_a_called_layer():
    with pytest.raises(ValueError, match="never called"):
        ActivationMaximization(keras.layers.Dense(3), 0)
    with pytest.raises(TypeError, match="Keras layer"):
        ActivationMaximization("dense", 0)


def test_pre_activation_maximizes_logits_and_leaves_the_model_alone(small_cnn, rng):
    head = small_cnn.get_layer("predictions")
    seed = rng.uniform(0, 1, size=(2, 16, 16, 3)).astype(np.float32)
    before = small_cnn(seed).numpy()
    n_layers = len(small_cnn.layers)
    loss = ActivationMaximization(head, 3, pre_activation=True)
    x = small_cnn.inputs[0]
    opt = Optimizer(x, [(loss, 1.0)])
    opt.minimize(seed, max_iter=3, verbose=False)
    # the user's model is unchanged
    assert head.activation is keras.activations.softmax
    assert len(small_cnn.layers) == n_layers
    np.testing.assert_allclose(small_cnn(seed).numpy(), before, rtol=1e-6)
    # the loss reads the logits: softmax of them gives the model's output
    features = keras.Model(x, head.input)(seed)
    logits = features.numpy() @ head.kernel.numpy() + head.bias.numpy()
    np.testing.assert_allclose(tf.nn.softmax(logits).numpy(), before, rtol=1e-5, atol=1e-6)
    probe = keras.Model(x, loss.tensor)
    np.testing.assert_allclose(probe(seed).numpy(), logits, rtol=1e-4, atol=1e-5)


def test_pre_activation_of_an_activation_layer_reads_its_input(rng):
    inp = keras.Input((4,))
    dense = keras.layers.Dense(3, name="logits")
    soft = keras.layers.Softmax(name="soft")
    model = keras.Model(inp, soft(dense(inp)))
    loss = ActivationMaximization(soft, 1, pre_activation=True)
    assert loss.tensor is dense.output
    value = rng.normal(size=(2, 4)).astype(np.float32)
    np.testing.assert_allclose(
        keras.Model(model.inputs[0], loss.tensor)(value), dense(value), rtol=1e-6
    )


def test_pre_activation_on_a_layer_without_activation_fails():
    inp = keras.Input((4, 4, 2))
    pool = keras.layers.MaxPooling2D(name="pool")
    keras.Model(inp, pool(inp))
    with pytest.raises(ValueError, match=r"pre_activation.*pool"):
        ActivationMaximization(pool, 0, pre_activation=True)


def test_activation_maximization_rises_on_a_small_cnn(small_cnn):
    x = small_cnn.inputs[0]
    loss = ActivationMaximization(small_cnn.get_layer("predictions"), 2, pre_activation=True)
    opt = Optimizer(x, [(loss, 1.0)])
    rec = Recorder()
    opt.minimize(max_iter=10, callbacks=[rec], verbose=False)
    assert rec.calls[-1]["overall"] < rec.calls[0]["overall"]


# ----------------------------------------------------------------- LPNorm
def test_lpnorm_value_and_names():
    value = np.arange(-6, 6, dtype=np.float32).reshape(1, 2, 3, 2)
    expected = (np.abs(value) ** 6).sum() ** (1 / 6) / 12
    inp = keras.Input((2, 3, 2))
    loss = LPNorm(inp)
    assert loss.name == "L-6.0 Norm Loss"
    np.testing.assert_allclose(loss.call(tf.constant(value)).numpy(), [expected], rtol=1e-5)
    assert LPNorm(inp, p=2).name == "L-2 Norm Loss"
    l2 = LPNorm(inp, p=2).call(tf.constant(value)).numpy()
    np.testing.assert_allclose(l2, [np.sqrt((value**2).sum()) / 12], rtol=1e-6)


def test_lpnorm_infinity_is_max_abs():
    value = np.array([[[[1.0], [-9.0]], [[3.0], [2.0]]]], np.float32)
    loss = LPNorm(keras.Input((2, 2, 1)), p=float("inf"))
    assert loss.name == "L-inf Norm Loss"
    np.testing.assert_allclose(loss.call(tf.constant(value)).numpy(), [9.0 / 4])


def test_lpnorm_is_per_sample_and_gradient_is_exact_and_finite(rng):
    loss = LPNorm(keras.Input((3, 3, 2)), p=6)
    value = rng.normal(size=(2, 3, 3, 2)).astype(np.float32) * 100
    out = loss.call(tf.constant(value)).numpy()
    for k in range(2):
        np.testing.assert_allclose(
            out[k], (np.abs(value[k]) ** 6).sum() ** (1 / 6) / 18, rtol=1e-5
        )
    norm = (np.abs(value[0].astype(np.float64)) ** 6).sum() ** (1 / 6)
    expected = norm ** (1 - 6) * np.abs(value[0]) ** 5 * np.sign(value[0]) / 18
    np.testing.assert_allclose(_grad(loss, value)[0], expected, rtol=1e-4)
    zero_grad = _grad(loss, np.zeros((1, 3, 3, 2)))
    assert np.all(zero_grad == 0)


def test_lpnorm_large_p_does_not_overflow():
    loss = LPNorm(keras.Input((4,)), p=40)
    value = np.full((1, 4), 255.0, np.float32)
    np.testing.assert_allclose(loss.call(tf.constant(value)).numpy(), [255 * 4 ** (1 / 40) / 4])
    assert np.all(np.isfinite(_grad(loss, value)))


@pytest.mark.parametrize("p, error", [(0.5, ValueError), (-1, ValueError), ("6", TypeError)])
def test_lpnorm_rejects_bad_p(p, error):
    with pytest.raises(error, match="p"):
        LPNorm(keras.Input((2, 2, 1)), p=p)


# ----------------------------------------------------------------- TotalVariation
def _tv_reference(img, beta):
    """keras-vis's loop, channels_last, one sample (H, W, C)."""
    h, w, _ = img.shape
    a = (img[1:, : w - 1] - img[: h - 1, : w - 1]) ** 2
    b = (img[: h - 1, 1:] - img[: h - 1, : w - 1]) ** 2
    return ((a + b) ** (beta / 2)).sum() / img.size


def test_total_variation_2d_matches_keras_vis(rng):
    value = rng.normal(size=(2, 5, 4, 3)).astype(np.float32)
    loss = TotalVariation(keras.Input((5, 4, 3)))
    assert loss.name == "TV(2.0) Loss"
    expected = [_tv_reference(v.astype(np.float64), 2.0) for v in value]
    np.testing.assert_allclose(loss.call(tf.constant(value)).numpy(), expected, rtol=1e-5)
    loss1 = TotalVariation(keras.Input((5, 4, 3)), beta=1.0)
    assert loss1.name == "TV(1.0) Loss"
    expected1 = [_tv_reference(v.astype(np.float64), 1.0) for v in value]
    np.testing.assert_allclose(loss1.call(tf.constant(value)).numpy(), expected1, rtol=1e-5)


def test_total_variation_known_small_image():
    # one channel, 2x2: diffs down (3-1)=2 and right (2-1)=1 at the single corner
    value = np.array([[[[1.0], [2.0]], [[3.0], [9.0]]]], np.float32)
    loss = TotalVariation(keras.Input((2, 2, 1)))
    np.testing.assert_allclose(loss.call(tf.constant(value)).numpy(), [(4.0 + 1.0) / 4])


def test_total_variation_channels_first_equals_channels_last(rng):
    value = rng.normal(size=(1, 5, 4, 3)).astype(np.float32)
    last = TotalVariation(keras.Input((5, 4, 3)), data_format="channels_last")
    first = TotalVariation(keras.Input((3, 5, 4)), data_format="channels_first")
    np.testing.assert_allclose(
        first.call(tf.constant(np.moveaxis(value, -1, 1))).numpy(),
        last.call(tf.constant(value)).numpy(),
        rtol=1e-6,
    )


def test_total_variation_1d_and_3d(rng):
    signal = rng.normal(size=(1, 6, 2)).astype(np.float32)
    tv1 = TotalVariation(keras.Input((6, 2))).call(tf.constant(signal)).numpy()
    np.testing.assert_allclose(tv1, [(np.diff(signal[0], axis=0) ** 2).sum() / 12], rtol=1e-5)
    vol = rng.normal(size=(1, 3, 4, 5, 1)).astype(np.float64)
    tv3 = TotalVariation(keras.Input((3, 4, 5, 1))).call(tf.constant(vol, tf.float32)).numpy()
    body = vol[:, :-1, :-1, :-1]
    sq = (
        (vol[:, 1:, :-1, :-1] - body) ** 2
        + (vol[:, :-1, 1:, :-1] - body) ** 2
        + (vol[:, :-1, :-1, 1:] - body) ** 2
    )
    np.testing.assert_allclose(tv3, [sq.sum() / 60], rtol=1e-5)


@pytest.mark.parametrize("beta", [0.5, 1.0, 2.0])
def test_total_variation_flat_image_has_finite_zero_gradient(beta):
    loss = TotalVariation(keras.Input((4, 4, 1)), beta=beta)
    grad = _grad(loss, np.full((1, 4, 4, 1), 7.0))
    assert np.all(np.isfinite(grad)) and np.all(grad == 0)


def test_total_variation_rejects_bad_arguments():
    with pytest.raises(ValueError, match="beta"):
        TotalVariation(keras.Input((4, 4, 1)), beta=0)
    with pytest.raises(ValueError, match="image dimensions"):
        TotalVariation(keras.Input((4,)))
    with pytest.raises(TypeError, match="img_input"):
        TotalVariation(np.zeros((1, 4, 4, 1)))


# ----------------------------------------------------------------- custom losses
def test_a_custom_loss_is_a_small_subclass(small_cnn):
    class MeanActivation(Loss):
        name = "Mean Activation"

        def __init__(self, layer):
            super().__init__(layer.output)

        def call(self, value):
            return -tf.reduce_mean(value, axis=list(range(1, value.shape.rank)))

    x = small_cnn.inputs[0]
    opt = Optimizer(x, [(MeanActivation(small_cnn.get_layer("conv1")), 1.0)])
    rec = Recorder()
    opt.minimize(max_iter=5, callbacks=[rec], verbose=False)
    assert rec.calls[0]["named"][0][0] == "Mean Activation"
    assert rec.calls[-1]["overall"] < rec.calls[0]["overall"]


def test_a_loss_returning_a_scalar_is_rejected(identity_model):
    class Scalar(Loss):
        name = "Scalar"

        def call(self, value):
            return tf.reduce_sum(value)

    x = identity_model.inputs[0]
    opt = Optimizer(x, [(Scalar(x), 1.0)])
    with pytest.raises(ValueError, match=r"Scalar.*one value per sample"):
        opt.minimize(max_iter=1, verbose=False)


def test_loss_base_requires_call():
    loss = Loss(keras.Input((2,)))
    with pytest.raises(NotImplementedError):
        loss.call(tf.zeros((1, 2)))


def test_lpnorm_fractional_p_value(rng):
    value = rng.normal(size=(2, 3, 4)).astype(np.float32)
    loss = LPNorm(keras.Input((3, 4)), p=2.5)
    expected = [(np.abs(v) ** 2.5).sum() ** (1 / 2.5) / 12 for v in value]
    np.testing.assert_allclose(loss.call(tf.constant(value)).numpy(), expected, rtol=1e-5)


def test_several_pre_activation_losses_on_one_layer_share_one_copy(small_cnn, rng):
    head = small_cnn.get_layer("predictions")
    losses = [
        (ActivationMaximization(head, k, pre_activation=True), [float(k == j) for j in range(5)])
        for k in range(5)
    ]
    assert all(loss.tensor is losses[0][0].tensor for loss, _ in losses)
    opt = Optimizer(small_cnn.inputs[0], losses, input_range=(0, 1))
    seed = rng.uniform(0, 1, size=(5, 16, 16, 3)).astype(np.float32)
    opt.minimize(seed, max_iter=30, verbose=False)
    logits = keras.Model(small_cnn.inputs[0], losses[0][0].tensor)
    before, after = logits(seed).numpy(), logits(opt.best_input).numpy()
    rises = [after[k, k] - before[k, k] for k in range(5)]
    assert all(r > 0 for r in rises), rises  # each sample pushed its own class up
