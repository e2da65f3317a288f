"""Trains the offline demo model: a small CNN on scikit-learn's 8x8 digits.

Writes `vis_widgets/data/digits_cnn.keras` (the classifier only, not
compiled, no augmentation layers) and `digits_cnn.json` (its metadata).

The model takes the digits upsampled bilinearly to 16x16, values in [0, 1]
(`vis_widgets.demo.preprocess_digits`): at 16x16, activation maximization
has room for smooth strokes and its images look like digits; at 8x8 they are
blocky patches. Training augments with small shifts and rotations and with
random brightness and contrast (`RandomIntensity`), so the model also reads
grey-on-grey digits: a de-processed activation-maximization image (mean 0.5,
std 0.1) is one.

Reproducible: seeded (`keras.utils.set_random_seed`), deterministic TF ops,
a fixed stratified split (`vis_widgets.demo.load_split`).

Usage:
    python scripts/train_demo_model.py            # seed 1, 60 epochs
    python scripts/train_demo_model.py --out /tmp/demo --seed 3
"""

import argparse
import datetime
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras
import numpy as np
import tensorflow as tf

from vis_widgets.demo import (
    DEMO_CLASS_NAMES,
    DEMO_INPUT_RANGE,
    DEMO_INPUT_SHAPE,
    INFO_PATH,
    MODEL_PATH,
    load_split,
)

SEED = 1
SPLIT_SEED = 0
TEST_SIZE = 0.25
EPOCHS = 60
BATCH_SIZE = 32
LEARNING_RATE = 1e-3


class RandomIntensity(keras.layers.Layer):
    """Training-only augmentation: `a * x + b`, one random contrast and offset per image.

    `a` is uniform in `[min_contrast, 1]` and `b` uniform in `[0, 1 - a]`, so
    an image in [0, 1] stays in [0, 1]: a digit drawn with less contrast on
    a background anywhere between black and light grey.
    """

    def __init__(self, min_contrast=0.05, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.min_contrast = min_contrast
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, x, training=False):
        if not training:
            return x
        shape = (keras.ops.shape(x)[0], 1, 1, 1)
        a = keras.random.uniform(shape, self.min_contrast, 1.0, seed=self.seed_generator)
        b = keras.random.uniform(shape, 0.0, 1.0, seed=self.seed_generator) * (1.0 - a)
        return a * x + b


def build_model(dropout=0.3):
    """The classifier that is saved: 16x16x1 in [0, 1] -> 10 softmax "predictions"."""
    layers = keras.layers
    inputs = keras.Input(DEMO_INPUT_SHAPE, name="image")
    h = layers.Conv2D(16, 3, padding="same", activation="relu", name="conv1")(inputs)
    h = layers.Conv2D(32, 3, padding="same", activation="relu", name="conv2")(h)
    h = layers.MaxPooling2D(name="pool1")(h)
    h = layers.Conv2D(32, 3, padding="same", activation="relu", name="conv3")(h)
    h = layers.MaxPooling2D(name="pool2")(h)
    h = layers.Flatten(name="flatten")(h)
    h = layers.Dropout(dropout, name="dropout1")(h)
    h = layers.Dense(64, activation="relu", name="dense")(h)
    h = layers.Dropout(dropout, name="dropout2")(h)
    outputs = layers.Dense(10, activation="softmax", name="predictions")(h)
    return keras.Model(inputs, outputs, name="digits_cnn")


def build_augmenter(seed, min_contrast=0.05, shift=1 / 8, rotation=0.03):
    """Training-only augmentation: brightness/contrast, then small shifts and rotations."""
    layers = keras.layers
    return keras.Sequential(
        [
            RandomIntensity(min_contrast, seed=seed + 2, name="intensity"),
            layers.RandomTranslation(shift, shift, fill_mode="constant", seed=seed),
            layers.RandomRotation(rotation, fill_mode="constant", seed=seed + 1),
        ],
        name="augment",
    )


def train(seed=SEED, epochs=EPOCHS, test_size=TEST_SIZE, verbose=0, **recipe):
    """Trains a fresh model; returns `(model, info)` with `info` the JSON metadata.

    `recipe` goes to `build_model` (`dropout`) and `build_augmenter`
    (`min_contrast`, `shift`, `rotation`).
    """
    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()
    (x_train, y_train), (x_test, y_test) = load_split(seed=SPLIT_SEED, test_size=test_size)
    model_args = {k: recipe.pop(k) for k in ["dropout"] if k in recipe}
    model = build_model(**model_args)
    augment = build_augmenter(seed, **recipe)
    inputs = keras.Input(DEMO_INPUT_SHAPE)
    trainer = keras.Model(inputs, model(augment(inputs)), name="trainer")
    trainer.compile(
        optimizer=keras.optimizers.Adam(LEARNING_RATE),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    start = time.perf_counter()
    trainer.fit(x_train, y_train, batch_size=BATCH_SIZE, epochs=epochs, verbose=verbose)
    seconds = time.perf_counter() - start
    accuracy = evaluate(model, x_test, y_test)
    info = {
        "name": model.name,
        "input_shape": list(DEMO_INPUT_SHAPE),
        "input_range": list(DEMO_INPUT_RANGE),
        "preprocessing": (
            "sklearn digits (8x8, values 0..16) / 16, then bilinear upsampling to 16x16 "
            "(vis_widgets.demo.preprocess_digits)"
        ),
        "output_layer": "predictions",
        "class_names": list(DEMO_CLASS_NAMES),
        "test_accuracy": accuracy,
        "num_train": len(y_train),
        "num_test": len(y_test),
        "split_seed": SPLIT_SEED,
        "test_size": test_size,
        "seed": seed,
        "epochs": epochs,
        "train_seconds": round(seconds, 1),
        "tensorflow_version": tf.__version__,
        "keras_version": keras.__version__,
        "numpy_version": np.__version__,
        "date": datetime.date.today().isoformat(),
    }
    return model, info


def evaluate(model, x, y):
    """The accuracy of `model` on `(x, y)`, as a float."""
    probabilities = model.predict(x, batch_size=256, verbose=0)
    return float(np.mean(np.argmax(probabilities, axis=1) == y))


def save(model, info, model_path=MODEL_PATH, info_path=INFO_PATH):
    """Writes the model (not compiled) and its metadata."""
    model_path, info_path = Path(model_path), Path(info_path)
    model_path.parent.mkdir(parents=True, exist_ok=True)
    model.save(model_path)
    info = {**info, "file_bytes": model_path.stat().st_size}
    info_path.write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
    return info


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--epochs", type=int, default=EPOCHS)
    parser.add_argument(
        "--out", type=Path, default=None, help="a directory (default: vis_widgets/data)"
    )
    args = parser.parse_args(argv)
    model, info = train(seed=args.seed, epochs=args.epochs, verbose=2)
    if args.out is None:
        info = save(model, info)
    else:
        info = save(model, info, args.out / MODEL_PATH.name, args.out / INFO_PATH.name)
    print(json.dumps(info, indent=2))
    if info["test_accuracy"] < 0.95:
        print(f"held-out accuracy {info['test_accuracy']:.4f} < 0.95", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
