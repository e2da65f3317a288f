"""Numpy helpers, as in keras-vis's `vis/utils/utils.py` (import path `vis_widgets.core.utils`).

Everything here works on numpy arrays on the host: it de-processes optimized
inputs into displayable images and lays images out in grids. Nothing here is
traced into the compiled step.
"""

import math

import keras
import numpy as np

EPSILON = 1e-7

__all__ = [
    "apply_modifications",
    "check_range",
    "deprocess_input",
    "find_layer_idx",
    "get_num_filters",
    "image_grid",
    "listify",
    "load_img",
    "normalize",
    "stitch_images",
    "to_channels_last",
    "to_display_image",
    "upscale",
]


def check_range(input_range, name="input_range"):
    """Validates a `(min, max)` pair and returns it as a tuple.

    Args:
        input_range: a sequence of two finite real numbers with min < max.
        name: the argument's name, used in the error message.

    Returns:
        The pair as a tuple, with the caller's number types kept (so an int
        range stays an int range).

    Raises:
        ValueError: if it is not two finite numbers with min < max.
    """
    try:
        lo, hi = input_range
        lo_f, hi_f = float(lo), float(hi)
    except (TypeError, ValueError):
        raise ValueError(
            f"`{name}` must be a (min, max) pair of numbers. Received: {name}={input_range!r}"
        ) from None
    if not (math.isfinite(lo_f) and math.isfinite(hi_f)) or lo_f >= hi_f:
        raise ValueError(
            f"`{name}` must be a (min, max) pair of finite numbers with min < max. "
            f"Received: {name}={input_range!r}"
        )
    return (lo, hi)


def deprocess_input(input_array, input_range=(0, 255)):
    """Maps an optimized input into `input_range` for display (keras-vis).

    The array is centred on 0, scaled to a standard deviation of 0.1, shifted
    to 0.5, clipped to [0, 1] and finally scaled into `input_range`. The
    caller's array is not modified.

    Args:
        input_array: a numpy array (any shape).
        input_range: the `(min, max)` range of the result.

    Returns:
        A new float array of the same shape, with values in `input_range`.

    Example:
        >>> img = deprocess_input(np.random.randn(8, 8, 3), (0, 255))
        >>> bool(img.min() >= 0 and img.max() <= 255)
        True
    """
    lo, hi = check_range(input_range)
    x = np.array(input_array, dtype=np.float32, copy=True)
    x -= x.mean()
    x /= x.std() + EPSILON
    x *= 0.1
    x += 0.5
    x = np.clip(x, 0, 1)
    return (hi - lo) * x + lo


def normalize(array, min_value=0.0, max_value=1.0):
    """Linearly rescales `array` so its min and max become `min_value` and `max_value`.

    Args:
        array: a numpy array.
        min_value: the value the array's minimum maps to.
        max_value: the value the array's maximum maps to.

    Returns:
        A new array of the same shape.

    Example:
        >>> normalize(np.array([2.0, 4.0])).tolist()
        [0.0, 1.0]
    """
    array = np.asarray(array, dtype=np.float32)
    arr_min = np.min(array)
    arr_max = np.max(array)
    normalized = (array - arr_min) / (arr_max - arr_min + EPSILON)
    return (max_value - min_value) * normalized + min_value


def stitch_images(images, margin=5, cols=5):
    """Lays equally shaped `(H, W, C)` images out in a grid (keras-vis).

    Args:
        images: a sequence of arrays of identical shape `(H, W, C)`.
        margin: the gap in pixels between images (filled with zeros).
        cols: the number of columns.

    Returns:
        One `(rows*H + (rows-1)*margin, cols*W + (cols-1)*margin, C)` array of
        the images' dtype, or None when `images` is empty.

    Raises:
        ValueError: if the images are not all 3-D arrays of one shape, or
            `margin` < 0 or `cols` < 1.

    Example:
        >>> grid = stitch_images([np.ones((4, 4, 1))] * 3, margin=1, cols=2)
        >>> grid.shape
        (9, 9, 1)
    """
    if len(images) == 0:
        return None
    if int(cols) < 1 or int(margin) < 0:
        raise ValueError(
            f"`cols` must be >= 1 and `margin` >= 0. Received: cols={cols}, margin={margin}"
        )
    images = [np.asarray(img) for img in images]
    shape = images[0].shape
    if len(shape) != 3 or any(img.shape != shape for img in images):
        raise ValueError(
            "`images` must all be (H, W, C) arrays of one shape. "
            f"Received shapes: {[img.shape for img in images]}"
        )
    h, w, c = shape
    n_rows = math.ceil(len(images) / cols)
    n_cols = min(len(images), cols)
    out = np.zeros(
        (n_rows * h + (n_rows - 1) * margin, n_cols * w + (n_cols - 1) * margin, c),
        dtype=images[0].dtype,
    )
    for idx, img in enumerate(images):
        row, col = divmod(idx, cols)
        top, left = (h + margin) * row, (w + margin) * col
        out[top : top + h, left : left + w, :] = img
    return out


def get_num_filters(layer):
    """Returns the number of filters (channels, or units) of a layer's output.

    A 2-D output `(batch, units)` has `units` filters; otherwise the channel
    axis is read from the layer's `data_format` (or Keras's global image data
    format when the layer has none).

    Args:
        layer: a built Keras layer with a single output.

    Returns:
        The number of filters, an int.

    Example:
        >>> inp = keras.Input((8, 8, 3))
        >>> conv = keras.layers.Conv2D(4, 3)
        >>> _ = conv(inp)
        >>> get_num_filters(conv)
        4
    """
    if not isinstance(layer, keras.layers.Layer):
        raise TypeError(f"`layer` must be a Keras layer. Received: {layer!r}")
    shape = layer.output.shape
    if len(shape) == 2:
        return int(shape[-1])
    data_format = getattr(layer, "data_format", None) or keras.config.image_data_format()
    return int(shape[1] if data_format == "channels_first" else shape[-1])


def to_channels_last(x, data_format):
    """Returns `x` (with a batch axis) in channels_last order.

    Args:
        x: a numpy array `(N, ...)`.
        data_format: `"channels_first"` or `"channels_last"`.

    Returns:
        `x` unchanged for channels_last, else with axis 1 moved to the end.
    """
    if data_format == "channels_first" and x.ndim >= 3:
        return np.moveaxis(x, 1, -1)
    return x


def to_display_image(x, input_range=(0, 255), data_format="channels_last", deprocess=True):
    """De-processes one sample into an `(H, W, C)` uint8 image, C in {1, 3}.

    Each sample is de-processed with `deprocess_input` into `input_range`
    (unless `deprocess=False`: the sample is shown as it is, clipped to
    `input_range`), then scaled to 0-255 whatever the range. 1-D inputs
    `(T, C)` become a one-row strip, 3-D inputs `(D, H, W, C)` show their
    middle slice; channels other than 1 or 3 are reduced to their mean
    (grayscale).

    Args:
        x: one sample, without the batch axis, in `data_format`.
        input_range: the range the sample is de-processed into (or, with
            `deprocess=False`, the range it is in).
        data_format: the sample's data format.
        deprocess: de-process first (keras-vis's display); False for an
            image already in `input_range`, such as what the parameterized
            path returns.

    Returns:
        A uint8 array `(H, W, 1)` or `(H, W, 3)`.

    Raises:
        ValueError: if the sample has fewer than 2 axes.
    """
    x = np.asarray(x, dtype=np.float32)
    if x.ndim < 2:
        raise ValueError(
            "An image needs at least (length, channels) axes. "
            f"Received an array of shape {x.shape}"
        )
    x = to_channels_last(x[None], data_format)[0]
    lo, hi = check_range(input_range)
    img = ((deprocess_input(x, input_range) if deprocess else x) - lo) / (hi - lo)
    if img.ndim == 2:  # (T, C): a one-row strip
        img = img[None]
    while img.ndim > 3:  # (D, H, W, C): the middle slice
        img = img[img.shape[0] // 2]
    if img.shape[-1] not in (1, 3):
        img = img.mean(axis=-1, keepdims=True)
    return np.clip(np.round(img * 255), 0, 255).astype(np.uint8)


def image_grid(images, cols=None, margin=2):
    """Stitches `(H, W, C)` uint8 images into a near-square grid.

    Args:
        images: a sequence of equally shaped images.
        cols: the number of columns (default: ceil(sqrt(n))).
        margin: the gap between images.

    Returns:
        The stitched image; a single image is returned as is.
    """
    if len(images) == 1:
        return images[0]
    cols = cols or math.ceil(math.sqrt(len(images)))
    return stitch_images(images, margin=margin, cols=cols)


def upscale(img, min_size=128):
    """Nearest-neighbour upscales an `(H, W, C)` image so its long side is >= `min_size`.

    Args:
        img: an `(H, W, C)` array.
        min_size: the smallest wanted long side, in pixels.

    Returns:
        The image repeated an integer number of times along H and W (or the
        image itself when it is already large enough).
    """
    factor = max(1, math.ceil(min_size / max(1, img.shape[0], img.shape[1])))
    if factor == 1:
        return img
    return np.repeat(np.repeat(img, factor, axis=0), factor, axis=1)


def listify(value):
    """Wraps a non-list value into a list (keras-vis)."""
    if isinstance(value, (list, tuple)):
        return list(value)
    return [value]


def find_layer_idx(model, layer_name):
    """Returns the index in `model.layers` of the layer named `layer_name` (keras-vis).

    As keras-vis, only the model's own layers are searched (not the layers
    of a nested model: pass the nested model and use its index there).

    Args:
        model: a Keras model.
        layer_name: the layer's name.

    Returns:
        The index of the first layer with that name.

    Raises:
        ValueError: if no layer has that name.

    Example:
        >>> inp = keras.Input((4,))
        >>> model = keras.Model(inp, keras.layers.Dense(2, name="preds")(inp))
        >>> find_layer_idx(model, "preds")
        1
    """
    for idx, layer in enumerate(model.layers):
        if layer.name == layer_name:
            return idx
    names = [layer.name for layer in model.layers]
    raise ValueError(
        f"No layer with name '{layer_name}' within the model. Received: layer_name="
        f"{layer_name!r}; the model's layers are {names}"
    )


def apply_modifications(model, custom_objects=None):
    """Returns a new model with the same weights in which changed layer attributes take effect.

    keras-vis saved the model and loaded it again so that a changed
    `layer.activation` (the softmax swapped for linear) reached the TF1
    graph. Here the model is cloned from its layers' configs (which carry
    the changed attributes) and the weights are copied: the result is an
    independent model, as keras-vis's was. Keras 3 already runs a changed
    activation at the next eager call; the copy matters for compiled
    functions that were traced before the change (this project's engines
    are keyed on the model object, so the new model gets new ones).

    Args:
        model: a Functional or Sequential model.
        custom_objects: a dict of custom classes or functions the layers'
            configs refer to (as for `keras.saving.load_model`).

    Returns:
        The new model.

    Example:
        ```python
        from keras import activations

        layer_idx = find_layer_idx(model, "predictions")
        model.layers[layer_idx].activation = activations.linear
        model = apply_modifications(model)
        ```
    """
    if not isinstance(model, keras.Model):
        raise TypeError(f"`model` must be a Keras model. Received: model={model!r}")
    if custom_objects is not None and not isinstance(custom_objects, dict):
        raise TypeError(
            f"`custom_objects` must be a dict or None. Received: custom_objects={custom_objects!r}"
        )
    with keras.saving.custom_object_scope(custom_objects or {}):
        clone = keras.models.clone_model(model)
    clone.set_weights(model.get_weights())
    return clone


def load_img(path, grayscale=False, target_size=None):
    """Loads an image file as a uint8 array (keras-vis).

    Args:
        path: the image file's path.
        grayscale: load it as one channel, `(H, W)`.
        target_size: None, or the `(height, width)` to resize it to (bilinear).

    Returns:
        A uint8 array `(H, W, 3)` (RGB; an alpha channel is dropped) or
        `(H, W)` when `grayscale`.

    Raises:
        ValueError: for a bad `target_size`.

    Example:
        ```python
        img = load_img("ouzel.jpg", target_size=(224, 224))  # (224, 224, 3) uint8
        ```
    """
    from PIL import Image  # only here: the engine does not need it

    if target_size is not None:
        try:
            height, width = (int(v) for v in target_size)
        except (TypeError, ValueError):
            raise ValueError(
                f"`target_size` must be a (height, width) pair. Received: target_size="
                f"{target_size!r}"
            ) from None
        if height < 1 or width < 1:
            raise ValueError(f"`target_size` must be positive. Received: {target_size!r}")
    with Image.open(path) as img:
        img = img.convert("L" if grayscale else "RGB")
        if target_size is not None:
            img = img.resize((width, height), Image.BILINEAR)
        return np.asarray(img, dtype=np.uint8).copy()
