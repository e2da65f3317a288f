"""Tiny models shared by the engine tests."""

import keras
import numpy as np
import pytest


@pytest.fixture
def identity_model():
    """An 4x4x2 input passed through a linear Activation layer named "ident"."""
    inp = keras.Input((4, 4, 2))
    out = keras.layers.Activation("linear", name="ident")(inp)
    return keras.Model(inp, out)


@pytest.fixture
def small_cnn():
    """A 3-conv CNN on 16x16x3 with a 5-way softmax named "predictions"."""
    inp = keras.Input((16, 16, 3))
    h = keras.layers.Conv2D(8, 3, activation="relu", name="conv1")(inp)
    h = keras.layers.Conv2D(8, 3, activation="relu", name="conv2")(h)
    h = keras.layers.Conv2D(8, 3, activation="relu", name="conv3")(h)
    h = keras.layers.GlobalAveragePooling2D()(h)
    out = keras.layers.Dense(5, activation="softmax", name="predictions")(h)
    return keras.Model(inp, out)


@pytest.fixture
def rng():
    return np.random.default_rng(0)
