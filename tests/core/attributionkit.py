"""Helpers for the attribution tests: tiny models with known weights, reference maps in numpy."""

import keras
import numpy as np
import tensorflow as tf


def set_weights(layer, *arrays):
    layer.set_weights([np.asarray(a, np.float32) for a in arrays])


def keras_vis_pair(relu_form="dense"):
    """keras-vis's backend test model: W1 = [[-1, 1], [-1, 1]], ReLU, W2 = [-1, 1].

    `relu_form`: "dense" (activation='relu'), "activation" (Activation('relu')),
    "relu" (a ReLU layer), "tf" (activation=tf.nn.relu), "ops" (keras.ops.relu
    in the functional graph), "nested" (the ReLU inside a nested model).
    """
    inp = keras.Input((2,))
    first = keras.layers.Dense(
        2, use_bias=False, activation={"dense": "relu", "tf": tf.nn.relu}.get(relu_form)
    )
    h = first(inp)
    if relu_form == "activation":
        h = keras.layers.Activation("relu")(h)
    elif relu_form == "relu":
        h = keras.layers.ReLU(name="relu_layer")(h)
    elif relu_form == "ops":
        h = keras.ops.relu(h)
    if relu_form == "nested":
        inner_in = keras.Input((2,))
        inner = keras.Model(inner_in, keras.layers.ReLU(name="inner_relu")(inner_in), name="inner")
        h = inner(h)
    last = keras.layers.Dense(1, use_bias=False)
    model = keras.Model(inp, last(h))
    set_weights(first, [[-1.0, 1.0], [-1.0, 1.0]])
    set_weights(last, [[-1.0], [1.0]])
    return model


def input_gradient(model, x, upstream=1.0):
    """d(upstream * sum(model(x))) / dx for a batch."""
    x = tf.constant(np.asarray(x, np.float32))
    with tf.GradientTape() as tape:
        tape.watch(x)
        out = upstream * tf.reduce_sum(model(x))
    return tape.gradient(out, x).numpy()


def linear_model(shape=(4, 4, 2), classes=3, seed=0, softmax=False):
    """Flatten -> Dense(classes) with random weights; returns (model, kernel)."""
    inp = keras.Input(shape)
    dense = keras.layers.Dense(classes, activation="softmax" if softmax else None, name="preds")
    model = keras.Model(inp, dense(keras.layers.Flatten()(inp)))
    kernel = np.random.default_rng(seed).normal(size=(int(np.prod(shape)), classes))
    set_weights(dense, kernel, np.zeros(classes))
    return model, kernel.astype(np.float32)


def gap_cnn(shape=(8, 8, 3), classes=4, filters=5, softmax=False, name="gap_cnn"):
    """Conv(relu, stride 2) -> Conv(relu, "features") -> GAP ("gap") -> Dense(classes, "preds")."""
    inp = keras.Input(shape)
    h = keras.layers.Conv2D(6, 3, 2, padding="same", activation="relu", name="conv1")(inp)
    h = keras.layers.Conv2D(filters, 3, padding="same", activation="relu", name="features")(h)
    h = keras.layers.GlobalAveragePooling2D(name="gap")(h)
    out = keras.layers.Dense(classes, activation="softmax" if softmax else None, name="preds")(h)
    return keras.Model(inp, out, name=name)


def images(n, shape=(8, 8, 3), seed=0, scale=1.0):
    return (np.random.default_rng(seed).uniform(0, 1, size=(n, *shape)) * scale).astype(np.float32)


def normalize(a, axes=None):
    """Per-sample min-max normalization, as the engine (keras-vis's epsilon)."""
    a = np.asarray(a, np.float64)
    axes = tuple(range(1, a.ndim)) if axes is None else axes
    lo, hi = a.min(axis=axes, keepdims=True), a.max(axis=axes, keepdims=True)
    return (a - lo) / (hi - lo + 1e-7)


def feature_maps_and_grads(model, x, classes, feature="features"):
    """(A, dScore/dA) in numpy for a gap_cnn, the score being the class logit."""
    probe = keras.Model(model.inputs[0], [model.get_layer(feature).output, model.output])
    x = tf.constant(x)
    with tf.GradientTape() as tape:
        a, y = probe(x)
        s = tf.reduce_sum(tf.gather(y, classes, axis=1, batch_dims=1))
    return a.numpy(), tape.gradient(s, a).numpy()


def bilinear(maps, size):
    """tf.image.resize bilinear of (N, h, w) maps, in numpy."""
    return tf.image.resize(np.asarray(maps, np.float32)[..., None], size)[..., 0].numpy()


def softmax(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def score_cam_reference(model, x, classes, feature="features", max_n=None):
    """Score-CAM by loops: softmax score of x masked by each normalized upsampled channel."""
    a = keras.Model(model.inputs[0], model.get_layer(feature).output)(x).numpy()
    n, k = x.shape[0], a.shape[-1]
    weights = np.zeros((n, k))
    for i in range(n):
        channels = range(k)
        if max_n is not None:
            channels = np.argsort(-a[i].std(axis=(0, 1)), kind="stable")[:max_n]
        for c in channels:
            if not np.any(a[i, ..., c]):
                continue
            mask = normalize(bilinear(a[i : i + 1, ..., c], x.shape[1:3]))[0]
            p = softmax(model(x[i : i + 1] * mask[..., None].astype(np.float32)).numpy())
            weights[i, c] = p[0, classes[i]]
    cam = np.maximum((a * weights[:, None, None, :]).sum(-1), 0)
    return normalize(bilinear(cam, x.shape[1:3]))
