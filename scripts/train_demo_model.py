"""Trains the offline demo model: a small, adversarially trained CNN on scikit-learn's digits.

Writes `vis_widgets/data/digits_cnn.keras` (the classifier only, not
compiled, no augmentation) and `digits_cnn.json` (its metadata).

The model takes 16x16x1 images with pixel values 0..255 (the 8x8 digits
upsampled bilinearly, `vis_widgets.demo.preprocess_digits`) and rescales them
to [0, 1] in its first layer. The recipe is chosen for what the package
shows, activation maximization, and was measured against alternatives
(clean training, smaller and larger epsilons, L2 PGD, an input-gradient
penalty, a [0, 1] input, swish and average pooling, other widths):

- **Adversarial training** (PGD, L-inf): on a normally trained classifier,
  maximizing the score of "3" from grey noise gives abstract stroke patterns
  the network counts as evidence; on a robust classifier the input gradient
  points towards images of the class ("perceptually aligned gradients",
  Tsipras et al. 2019, https://arxiv.org/abs/1805.12152; Santurkar et al.
  2019, https://arxiv.org/abs/1906.09453), and the same optimization draws
  recognizable handwritten digits. Each batch is attacked with 7 PGD steps of
  size 2.5 * eps / 7 from a random start inside the L-inf ball of radius
  `EPSILON` (0.2 of the pixel range, 51 of 255), the radius ramped up over the
  first 30% of the epochs. The loss is the mean of the clean and the
  adversarial cross-entropy: adversarial examples alone at this radius cost
  accuracy and, above all, confidence on faint images, which the
  de-processed dreams are (below). Smaller radii (0.05-0.15) gave vaguer
  digits; L2 PGD (radius 1-2) and a gradient-norm penalty, vaguer digits or
  lower accuracy.
- **Pixel values 0..255** with `Rescaling(1 / 255)` inside the model:
  keras-vis's optimizer (`vis_widgets.core`) has no step size and moves each
  pixel by about one input unit per iteration. That suits 0..255 inputs, as
  keras-vis was designed for: a step is 1/255 of the range and a run of a
  few hundred iterations is a fine gradient ascent that stays near the range.
  On a [0, 1] input every step is as large as the whole range, the raw image
  drifts to values of tens, and the dreams of the same robust model are
  blurrier and less confident.
- **Random contrast and brightness** (`a * x + b`, contrast `a` in [0.05, 1]),
  applied after the attack so its budget is relative to the image's
  contrast: the optimizer's result is shown de-processed (centred, standard
  deviation 0.1 of the range), a grey-on-grey digit, and the model must read
  it; plus small shifts and rotations.
- Capacity: 24-48-32 convolutions and a 128-unit dense layer. Robust training
  needs more capacity than clean training (the 16-32-32-64 network of the
  clean recipe lost confidence); this is the largest that keeps the file
  under ~400 KB.

Reproducible: seeded (`keras.utils.set_random_seed`, a seeded
`tf.random.Generator`), deterministic TF ops, a fixed stratified split
(`vis_widgets.demo.load_split`). About 3 minutes on 2 CPU cores.

Usage:
    python scripts/train_demo_model.py            # seed 1, 90 epochs
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
EPOCHS = 90
BATCH_SIZE = 32
LEARNING_RATE = 1e-3

# Robust training, in fractions of the pixel range (x 255 for input units).
EPSILON = 0.2
PGD_STEPS = 7
PGD_STEP_SIZE = 2.5 / PGD_STEPS  # times epsilon
ADVERSARIAL_WEIGHT = 0.5  # loss = (1 - w) * clean + w * adversarial
EPSILON_WARMUP = 0.3  # the fraction of the epochs over which epsilon grows to EPSILON
MIN_CONTRAST = 0.05

_PIXEL_MAX = float(DEMO_INPUT_RANGE[1])


def build_model(widths=(24, 48, 24), dense=128, dropout=0.1):
    """The classifier that is saved: 16x16x1 in 0..255 -> 10 softmax "predictions"."""
    layers = keras.layers
    inputs = keras.Input(DEMO_INPUT_SHAPE, name="image")
    h = layers.Rescaling(1.0 / _PIXEL_MAX, name="rescale")(inputs)
    h = layers.Conv2D(widths[0], 3, padding="same", activation="relu", name="conv1")(h)
    h = layers.Conv2D(widths[1], 3, padding="same", activation="relu", name="conv2")(h)
    h = layers.MaxPooling2D(name="pool1")(h)
    h = layers.Conv2D(widths[2], 3, padding="same", activation="relu", name="conv3")(h)
    h = layers.MaxPooling2D(name="pool2")(h)
    h = layers.Flatten(name="flatten")(h)
    h = layers.Dropout(dropout, name="dropout1")(h)
    h = layers.Dense(dense, activation="relu", name="dense")(h)
    h = layers.Dropout(dropout, name="dropout2")(h)
    outputs = layers.Dense(10, activation="softmax", name="predictions")(h)
    return keras.Model(inputs, outputs, name="digits_cnn")


def build_augmenter(seed, shift=1 / 8, rotation=0.03):
    """Training-only geometric augmentation: small shifts and rotations."""
    layers = keras.layers
    return keras.Sequential(
        [
            layers.RandomTranslation(shift, shift, fill_mode="constant", seed=seed),
            layers.RandomRotation(rotation, fill_mode="constant", seed=seed + 1),
        ],
        name="augment",
    )


def logits_model(model):
    """`x -> logits`: the classifier with its softmax left out (its last Dense, linear)."""
    features = keras.Model(model.inputs, model.get_layer("predictions").input)
    head = model.get_layer("predictions")

    def logits(x, training=False):
        return tf.matmul(features(x, training=training), head.kernel) + head.bias

    return logits


class RobustTrainer:
    """Adversarial training of `model` (PGD L-inf, mixed with the clean loss).

    Each step: a geometric augmentation; a random contrast `a` in
    `[min_contrast, 1]` and offset `b` in `[0, (1 - a) * 255]` per image; a PGD
    attack on the image before the contrast (so the model sees
    `a * (x + delta) + b`: the budget is relative to the image's contrast);
    then one Adam step on `(1 - w) * CE(clean) + w * CE(adversarial)`.
    """

    def __init__(
        self,
        model,
        seed,
        epsilon,
        steps,
        step_size,
        adversarial_weight,
        min_contrast,
        learning_rate,
        **augment,
    ):
        self.model = model
        self.logits = logits_model(model)
        self.augment = build_augmenter(seed, **augment)
        self.generator = tf.random.Generator.from_seed(seed + 2)
        self.optimizer = keras.optimizers.Adam(learning_rate)
        self.optimizer.build(model.trainable_variables)
        self.max_epsilon = epsilon * _PIXEL_MAX
        self.epsilon = tf.Variable(0.0, trainable=False)
        self.steps, self.step_size = steps, step_size
        self.adversarial_weight = adversarial_weight
        self.min_contrast = min_contrast
        self.train_step = tf.function(self._train_step)

    def loss(self, x, y, training):
        logits = self.logits(x, training)
        return tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(y, logits))

    def attack(self, x, y, a, b):
        """PGD L-inf on `x` (0..255) for the model seeing `a * x + b`, from a random start."""
        eps = self.epsilon
        delta = self.generator.uniform(tf.shape(x), -1.0, 1.0) * eps
        delta = tf.clip_by_value(x + delta, 0.0, _PIXEL_MAX) - x
        for _ in range(self.steps):
            with tf.GradientTape() as tape:
                tape.watch(delta)
                loss = self.loss(a * (x + delta) + b, y, training=False)
            grad = tape.gradient(loss, delta)
            delta = tf.clip_by_value(delta + self.step_size * eps * tf.sign(grad), -eps, eps)
            delta = tf.clip_by_value(x + delta, 0.0, _PIXEL_MAX) - x
        return tf.stop_gradient(x + delta)

    def _train_step(self, x, y):
        x = self.augment(x, training=True)
        shape = (tf.shape(x)[0], 1, 1, 1)
        a = self.generator.uniform(shape, self.min_contrast, 1.0)
        b = self.generator.uniform(shape, 0.0, 1.0) * (1.0 - a) * _PIXEL_MAX
        x_adv = self.attack(x, y, a, b)
        w = self.adversarial_weight
        variables = self.model.trainable_variables
        with tf.GradientTape() as tape:
            loss = (1.0 - w) * self.loss(a * x + b, y, training=True)
            loss += w * self.loss(a * x_adv + b, y, training=True)
        self.optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
        return loss

    def fit(self, x, y, epochs, batch_size, warmup, seed, verbose=0):
        rng = np.random.default_rng(seed)
        batches = int(np.ceil(len(x) / batch_size))
        for epoch in range(epochs):
            ramp = min(1.0, (epoch + 1) / max(1.0, warmup * epochs))
            self.epsilon.assign(ramp * self.max_epsilon)
            order = rng.permutation(len(x))
            total = 0.0
            for i in range(batches):
                index = order[i * batch_size : (i + 1) * batch_size]
                total += float(self.train_step(tf.constant(x[index]), tf.constant(y[index])))
            if verbose:
                print(
                    f"epoch {epoch + 1}/{epochs}: loss {total / batches:.4f}, "
                    f"epsilon {float(self.epsilon):.1f}",
                    flush=True,
                )


def robust_accuracy(model, x, y, epsilon, steps=20, seed=0):
    """Accuracy under a PGD L-inf attack of `steps` steps (epsilon in input units)."""
    logits = logits_model(model)
    x, y = tf.constant(x), tf.constant(y)
    delta = tf.random.stateless_uniform(x.shape, (seed, 0), -epsilon, epsilon)
    for _ in range(steps):
        with tf.GradientTape() as tape:
            tape.watch(delta)
            attacked = logits(tf.clip_by_value(x + delta, 0.0, _PIXEL_MAX))
            loss = tf.reduce_sum(tf.nn.sparse_softmax_cross_entropy_with_logits(y, attacked))
        delta = tf.clip_by_value(
            delta + epsilon / 8 * tf.sign(tape.gradient(loss, delta)), -epsilon, epsilon
        )
    return evaluate(model, np.clip(x + delta, 0.0, _PIXEL_MAX), y.numpy())


def train(seed=SEED, epochs=EPOCHS, test_size=TEST_SIZE, verbose=0, **recipe):
    """Trains a fresh model; returns `(model, info)` with `info` the JSON metadata.

    `recipe` goes to `build_model` (`widths`, `dense`, `dropout`), to the
    attack (`epsilon`, `steps`, `step_size`, `adversarial_weight`, as the
    module's constants) and to the augmentation (`min_contrast`, `shift`,
    `rotation`).
    """
    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()
    (x_train, y_train), (x_test, y_test) = load_split(seed=SPLIT_SEED, test_size=test_size)
    model_args = {k: recipe.pop(k) for k in ["widths", "dense", "dropout"] if k in recipe}
    model = build_model(**model_args)
    robust = {
        "epsilon": recipe.pop("epsilon", EPSILON),
        "steps": recipe.pop("steps", PGD_STEPS),
        "step_size": recipe.pop("step_size", PGD_STEP_SIZE),
        "adversarial_weight": recipe.pop("adversarial_weight", ADVERSARIAL_WEIGHT),
        "min_contrast": recipe.pop("min_contrast", MIN_CONTRAST),
    }
    trainer = RobustTrainer(model, seed, learning_rate=LEARNING_RATE, **robust, **recipe)
    start = time.perf_counter()
    trainer.fit(x_train, y_train, epochs, BATCH_SIZE, EPSILON_WARMUP, seed, verbose=verbose)
    seconds = time.perf_counter() - start
    accuracy = evaluate(model, x_test, y_test)
    robust_accuracies = {
        f"{eps:g}": robust_accuracy(model, x_test, y_test, eps * _PIXEL_MAX) for eps in (0.1, 0.2)
    }
    info = {
        "name": model.name,
        "input_shape": list(DEMO_INPUT_SHAPE),
        "input_range": list(DEMO_INPUT_RANGE),
        "preprocessing": (
            "sklearn digits (8x8, values 0..16) * 255 / 16, then bilinear upsampling to 16x16 "
            "(vis_widgets.demo.preprocess_digits); the model rescales to [0, 1] itself"
        ),
        "output_layer": "predictions",
        "class_names": list(DEMO_CLASS_NAMES),
        "test_accuracy": accuracy,
        "num_params": model.count_params(),
        "num_train": len(y_train),
        "num_test": len(y_test),
        "split_seed": SPLIT_SEED,
        "test_size": test_size,
        "seed": seed,
        "epochs": epochs,
        "robust_training": {
            "attack": "PGD, L-inf, random start",
            "epsilon": robust["epsilon"],
            "epsilon_input_units": robust["epsilon"] * _PIXEL_MAX,
            "steps": robust["steps"],
            "step_size": f"{robust['step_size'] * PGD_STEPS:g} * epsilon / {PGD_STEPS}",
            "adversarial_loss_weight": robust["adversarial_weight"],
            "epsilon_warmup_epochs": round(EPSILON_WARMUP * epochs),
            "min_contrast": robust["min_contrast"],
            "test_accuracy_under_pgd20": robust_accuracies,
        },
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
    model, info = train(seed=args.seed, epochs=args.epochs, verbose=1)
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
