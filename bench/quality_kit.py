"""The judges and measures of bench_quality: digits CNNs trained here, and picture statistics.

The "clean" CNNs are trained by the bench itself (seeded, no augmentation);
the metrics take pictures in [0, 1] units, `(N, H, W, 1)`:

- `high_frequency`: the fraction of spectral energy above 0.25 cycles/pixel,
  mean removed (`f = sqrt(fx^2 + fy^2)` from `fftfreq`; natural digits score
  about 0.02, noise about 0.6);
- `total_variation`: `(mean |dy| + mean |dx|) / 2`;
- `contrast`: the standard deviation.
"""

import time

import keras
import numpy as np

from vis_widgets.demo import DEMO_INPUT_RANGE, DEMO_INPUT_SHAPE

CLASSES = 10
EPOCHS = 15
CLEAN_MODELS = {  # name: (training seed, architecture)
    "clean CNN 1": (1, {"convs": (16, 32), "dense": 64, "pool": "max"}),
    "clean CNN 2": (2, {"convs": (24, 48), "dense": 128, "pool": "average"}),
}


# ----------------------------------------------------------------- models
def clean_cnn(name, convs, dense, pool, size=16):
    """A digits CNN: `size` x `size` x 1 in 0..255 -> 10 softmax "predictions".

    Above 16 px, one conv (16 filters) and pool block per doubling comes first.
    """
    layers = keras.layers
    pooling = layers.MaxPooling2D if pool == "max" else layers.AveragePooling2D
    inputs = keras.Input((size, size, DEMO_INPUT_SHAPE[-1]), name="image")
    h = layers.Rescaling(1.0 / DEMO_INPUT_RANGE[1])(inputs)
    extra = max(0, (size // DEMO_INPUT_SHAPE[0]).bit_length() - 1)  # doublings above 16 px
    for width in (16,) * extra + tuple(convs):
        h = layers.Conv2D(width, 3, padding="same", activation="relu")(h)
        h = pooling(2)(h)
    h = layers.Flatten()(h)
    h = layers.Dense(dense, activation="relu")(h)
    outputs = layers.Dense(CLASSES, activation="softmax", name="predictions")(h)
    return keras.Model(inputs, outputs, name=name.replace(" ", "_"))


def train_clean(name, split, epochs=EPOCHS):
    """Trains one clean CNN, seeded, at the split's image size; returns (model, accuracy, s)."""
    (x_train, y_train), (x_test, y_test) = split
    seed, arch = CLEAN_MODELS[name]
    keras.utils.set_random_seed(seed)
    model = clean_cnn(name, **arch, size=x_train.shape[1])
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy")
    start = time.perf_counter()
    model.fit(x_train, y_train, batch_size=32, epochs=epochs, verbose=0, shuffle=True)
    seconds = time.perf_counter() - start
    return model, accuracy(model, x_test, y_test), seconds


def resize(images, size):
    """Images `(N, H, W, 1)` resized to `size` px: bilinear up, area down (values kept)."""
    if images.shape[1] == size:
        return images
    method = "bilinear" if size > images.shape[1] else "area"
    return keras.ops.convert_to_numpy(keras.ops.image.resize(images, (size, size), method))


def predict(model, images):
    """The model's probabilities, the images resized to its input size first."""
    return model.predict(resize(images, model.inputs[0].shape[1]), verbose=0)


def accuracy(model, x, y):
    return float((predict(model, x).argmax(1) == y).mean())


# ----------------------------------------------------------------- metrics
def high_frequency(images01):
    """Per image: the fraction of spectral energy above 0.25 cycles/pixel, mean removed."""
    x = images01[..., 0].astype(np.float64)
    x = x - x.mean(axis=(1, 2), keepdims=True)
    power = np.abs(np.fft.fft2(x)) ** 2
    fy = np.fft.fftfreq(x.shape[1])[:, None]
    fx = np.fft.fftfreq(x.shape[2])[None, :]
    high = np.sqrt(fx * fx + fy * fy) > 0.25
    total = power.sum(axis=(1, 2))
    return power[:, high].sum(axis=1) / np.maximum(total, 1e-30)


def total_variation(images01):
    """Per image: `(mean |dy| + mean |dx|) / 2` in [0, 1] units."""
    x = images01[..., 0].astype(np.float64)
    dy = np.abs(np.diff(x, axis=1)).mean(axis=(1, 2))
    dx = np.abs(np.diff(x, axis=2)).mean(axis=(1, 2))
    return 0.5 * (dy + dx)


def contrast(images01):
    """Per image: the standard deviation in [0, 1] units."""
    return images01.reshape(len(images01), -1).std(axis=1)


def picture_stats(images):
    """HF, TV/px and contrast of images in input units (means over the images)."""
    lo, hi = DEMO_INPUT_RANGE
    images01 = (np.asarray(images, np.float64) - lo) / (hi - lo)
    return {
        "hf": float(high_frequency(images01).mean()),
        "tv": float(total_variation(images01).mean()),
        "contrast": float(contrast(images01).mean()),
    }


def judge(images, judge_a, judge_b):
    """Transfer (top-1 right, of 10) for both judges and judge A's probability of each class."""
    classes = np.arange(CLASSES)
    probs_a = predict(judge_a, images)
    probs_b = predict(judge_b, images)
    return {
        "top1_a": int((probs_a.argmax(1) == classes).sum()),
        "top1_b": int((probs_b.argmax(1) == classes).sum()),
        "p": float(probs_a[classes, classes].mean()),
        "p_each": probs_a[classes, classes],
    }
