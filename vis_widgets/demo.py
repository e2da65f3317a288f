"""The offline demo model: a small, robust CNN trained on scikit-learn's 8x8 digits.

The model ships inside the package (`vis_widgets/data/digits_cnn.keras`), so
the notebooks and tests run with no download. It takes 16x16x1 images with
pixel values 0..255 (the 8x8 digits upsampled bilinearly, see `load_split`),
rescales them to [0, 1] in its first layer (`"rescale"`) and ends in
`Dense(10, activation="softmax", name="predictions")`.

It was trained adversarially (PGD), which makes its input gradients point
towards images of a class: activation maximization on it draws handwritten
digits rather than abstract patterns. Its 0..255 input suits keras-vis's
optimizer, whose steps move a pixel by about one unit. It was also trained
with random brightness and contrast, so it recognises digits drawn in grey on
grey, which is how a de-processed activation-maximization image looks.
`scripts/train_demo_model.py` trains it again, reproducibly, and explains the
recipe.

Loading the model needs Keras only; scikit-learn is imported by
`load_split` alone, lazily.

Example:
    ```python
    from vis_widgets.core import ActivationMaximization, Jitter, LPNorm, Optimizer
    from vis_widgets.demo import DEMO_INPUT_RANGE, load_demo_model

    model = load_demo_model()
    x = model.inputs[0]
    three = ActivationMaximization(model.get_layer("predictions"), 3, pre_activation=True)
    losses = [(three, 1.0), (LPNorm(x), 10.0)]
    opt = Optimizer(x, losses, input_range=DEMO_INPUT_RANGE)
    img, _, _ = opt.minimize(max_iter=200, input_modifiers=[Jitter(1)], verbose=False)
    # img: (16, 16, 1) in [0, 255], what the network thinks a 3 looks like
    ```
"""

import json
from pathlib import Path

import keras

DATA_DIR = Path(__file__).resolve().parent / "data"
MODEL_PATH = DATA_DIR / "digits_cnn.keras"
INFO_PATH = DATA_DIR / "digits_cnn.json"

DEMO_INPUT_RANGE = (0.0, 255.0)
DEMO_INPUT_SHAPE = (16, 16, 1)
DEMO_CLASS_NAMES = tuple(str(digit) for digit in range(10))

# The raw digits are 8x8 with integer values 0..16.
_RAW_SIZE = 8
_RAW_MAX = 16.0
_PIXEL_MAX = DEMO_INPUT_RANGE[1]


def load_demo_model():
    """Loads the demo digits CNN shipped with the package (not compiled).

    Returns:
        A `keras.Model` from `(None, 16, 16, 1)` images with values 0..255 to
        the 10 class probabilities of its last layer, `"predictions"`.

    Example:
        ```python
        model = load_demo_model()
        probabilities = model.predict(images, verbose=0)  # images: (N, 16, 16, 1)
        ```
    """
    return keras.saving.load_model(MODEL_PATH, compile=False)


def demo_model_info():
    """Returns the demo model's metadata (input shape and range, accuracy, seed...).

    Returns:
        A new dict read from `digits_cnn.json`: `input_shape`, `input_range`,
        `class_names`, `test_accuracy`, `num_params`, `num_train`,
        `num_test`, the training `seed`, the split's `split_seed` and
        `test_size`, the `robust_training` parameters (with the accuracy
        under attack), the TensorFlow and Keras versions, the training date
        and the model file's size.

    Example:
        ```python
        info = demo_model_info()
        print(f"held-out accuracy: {info['test_accuracy']:.3f}")
        ```
    """
    return json.loads(INFO_PATH.read_text(encoding="utf-8"))


def preprocess_digits(images):
    """Turns raw 8x8 digits (values 0..16) into the demo model's input.

    The values are scaled to 0..255 and the images upsampled bilinearly to
    16x16 with `keras.ops.image.resize` (upsampling never leaves the range).

    Args:
        images: an array of shape `(N, 8, 8)` or `(N, 8, 8, 1)`, as
            `sklearn.datasets.load_digits().images`.

    Returns:
        A float32 numpy array of shape `(N, 16, 16, 1)` with values in [0, 255].

    Raises:
        ValueError: if the images are not 8x8.
    """
    x = keras.ops.convert_to_numpy(images).astype("float32")
    if x.ndim == 3:
        x = x[..., None]
    if x.ndim != 4 or x.shape[1:] != (_RAW_SIZE, _RAW_SIZE, 1):
        raise ValueError(
            "`images` must have shape (N, 8, 8) or (N, 8, 8, 1). "
            f"Received: images with shape {tuple(x.shape)}"
        )
    x = x * (_PIXEL_MAX / _RAW_MAX)
    x = keras.ops.image.resize(
        x, DEMO_INPUT_SHAPE[:2], interpolation="bilinear", data_format="channels_last"
    )
    return keras.ops.convert_to_numpy(x).astype("float32")


def load_split(seed=0, test_size=0.25):
    """Returns the demo model's train/test split of scikit-learn's digits.

    A stratified split with `sklearn.model_selection.train_test_split`,
    preprocessed by `preprocess_digits`. With the `seed` and `test_size`
    recorded in `demo_model_info()` it is the split the model was trained
    and evaluated on. Imports scikit-learn (only here).

    Args:
        seed: the split's `random_state`.
        test_size: the held-out fraction.

    Returns:
        `((x_train, y_train), (x_test, y_test))`: images `(N, 16, 16, 1)`
        float32 in [0, 255] and int labels `(N,)`.

    Example:
        ```python
        info = demo_model_info()
        _, (x_test, y_test) = load_split(info["split_seed"], info["test_size"])
        ```
    """
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    x_train, x_test, y_train, y_test = train_test_split(
        digits.images,
        digits.target,
        test_size=test_size,
        stratify=digits.target,
        random_state=seed,
    )
    return (preprocess_digits(x_train), y_train), (preprocess_digits(x_test), y_test)
