"""Session-wide test settings: quiet TensorFlow, one import per session, tiny models."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("MPLBACKEND", "Agg")

import keras
import pytest


@pytest.fixture(autouse=True)
def _seeded_and_channels_last():
    """Every test starts seeded, in channels_last, with a fresh Keras name scope."""
    keras.utils.set_random_seed(1234)
    keras.config.set_image_data_format("channels_last")
    yield
    keras.config.set_image_data_format("channels_last")
