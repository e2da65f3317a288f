"""Which tensor a map reads: the target layer and the class-activation-map layer.

The Grad-CAM layer rule (`find_cam_layer`): the input tensor of the last
layer, in `model.layers` order and searching nested models, whose input
still has a spatial extent > 1 while its output has none. That layer is the
head's global pooling or flatten, and its input is the last feature map the
classifier sees (also when no layer outputs it, e.g. ConvNeXt's residual
sum). Without such a layer (a fully convolutional model) the rule takes the
last spatial output. A 1x1 map is never chosen.

keras-vis's rule (the last `Conv` or local pooling layer, skipping the
layer just before the target) and tf-keras-vis's (the last `Conv` layer)
pick a pre-activation convolution, a single branch, or a 1x1 logits layer
on most `keras.applications` models (ResNet50, InceptionV3, DenseNet121,
Xception, MobileNetV3, ConvNeXt...); this rule picks the block output.
"""

import dataclasses
import numbers

import keras

from . import graph as graph_lib


@dataclasses.dataclass(frozen=True)
class LayerChoice:
    """A tensor of the model, named by the layer that reads or writes it.

    Attributes:
        path: the layer's name path (nested model names, then its name).
        role: `"output"` (the layer's output) or `"input"` (its input).
        name: the name of the operation that produces the tensor (for an
            `"input"`, the layer feeding it, e.g. `"out_relu"`).
        shape: the tensor's static shape, batch axis included.
        data_format: `"channels_last"` or `"channels_first"`.
        how: how it was chosen (`"rule: input of 'avg_pool'"`, `"given"`...).
    """

    path: tuple
    role: str
    name: str
    shape: tuple
    data_format: str
    how: str

    def __str__(self):
        return f"'{self.name}' {self.shape[1:]} ({self.how})"


def spatial_dims(shape, data_format):
    """The spatial dimensions of a batched shape (empty below rank 3)."""
    shape = tuple(shape)
    if len(shape) < 3:
        return ()
    return shape[2:] if data_format == "channels_first" else shape[1:-1]


def has_extent(shape, data_format):
    """True if some spatial dimension is > 1 (or unknown)."""
    return any(d is None or d > 1 for d in spatial_dims(shape, data_format))


def data_format_of(layer):
    """A layer's `data_format`, else Keras's global image data format."""
    return getattr(layer, "data_format", None) or keras.config.image_data_format()


def _tensor_of(layer, role):
    try:
        return graph_lib.single_tensor(layer.input if role == "input" else layer.output)
    except (AttributeError, ValueError):
        return None


def _choice(path, layer, role, how, data_format=None):
    tensor = _tensor_of(layer, role)
    op = graph_lib.producer(tensor) if role == "input" else layer
    name = getattr(op, "name", None) or layer.name
    return LayerChoice(
        tuple(path),
        role,
        name,
        tuple(tensor.shape),
        data_format or data_format_of(layer),
        how,
    )


def find_cam_layer(model, target=None):
    """Returns the `LayerChoice` of the Grad-CAM rule (see the module docstring).

    Args:
        model: a Functional or Sequential model.
        target: None, or the target tensor (of the model's graph): only
            tensors it depends on are considered.

    Raises:
        ValueError: if no tensor of the model has a spatial extent > 1.
    """
    layers = list(graph_lib.iter_layers(model))

    def feeds_target(tensor):
        return target is None or graph_lib.depends_on(target, tensor)

    for path, layer in reversed(layers):
        if graph_lib.is_model(layer):
            continue  # its own layers are visited
        x, y = _tensor_of(layer, "input"), _tensor_of(layer, "output")
        if x is None or y is None or len(x.shape) < 3:
            continue
        df = data_format_of(layer)
        if has_extent(x.shape, df) and not has_extent(y.shape, df) and feeds_target(x):
            return _choice(path, layer, "input", f"rule: input of '{layer.name}'", df)
    for path, layer in reversed(layers):
        if graph_lib.is_model(layer):
            continue
        y = _tensor_of(layer, "output")
        if y is not None and has_extent(y.shape, data_format_of(layer)) and feeds_target(y):
            return _choice(path, layer, "output", "rule: last spatial output")
    raise ValueError(
        f"No layer of model '{model.name}' has an output with a spatial extent > 1: Grad-CAM "
        "and the other class activation maps need a feature map (height/width > 1)."
    )


def resolve(model, spec, name="layer"):
    """Returns the `LayerChoice` of a user's layer spec.

    Args:
        model: the model.
        spec: an index into `model.layers`, a layer name (nested models are
            searched), a layer, or a KerasTensor of the model (a layer's
            output, or the input of a layer, e.g. an ops-level sum).
        name: the argument's name, for errors.

    Raises:
        ValueError: for an index out of range or a name or tensor not in the model.
        TypeError: for any other type.
    """
    if isinstance(spec, numbers.Integral) and not isinstance(spec, bool):
        n = len(model.layers)
        if not -n <= spec < n:
            raise ValueError(
                f"`{name}` must index `model.layers` ({n} layers: -{n} to {n - 1}). "
                f"Received: {name}={spec}"
            )
        layer = model.layers[spec]
        return _choice((layer.name,), layer, "output", f"given: model.layers[{spec}]")
    if isinstance(spec, str):
        for path, layer in graph_lib.iter_layers(model):
            if layer.name == spec:
                return _choice(path, layer, "output", "given")
        raise ValueError(
            f"No layer with name '{spec}' within the model. Received: {name}={spec!r}"
        )
    if isinstance(spec, keras.layers.Layer):
        return _choice(graph_lib.find_path(model, spec), spec, "output", "given")
    if isinstance(spec, keras.KerasTensor):
        for role in ("output", "input"):
            for path, layer in graph_lib.iter_layers(model):
                if _tensor_of(layer, role) is spec:
                    how = "given" if role == "output" else f"given: input of '{layer.name}'"
                    return _choice(path, layer, role, how)
        raise ValueError(
            f"`{name}` is a tensor that no layer of the model reads or writes. "
            f"Received: {name}={spec!r}"
        )
    raise TypeError(
        f"`{name}` must be a layer index, a layer name, a layer or a KerasTensor. "
        f"Received: {name}={spec!r}"
    )


def check_spatial(choice, name="layer"):
    """Raises ValueError unless the chosen tensor has a spatial extent > 1."""
    if not has_extent(choice.shape, choice.data_format):
        raise ValueError(
            f"`{name}` must have spatial axes with height/width > 1 for a class activation map. "
            f"Received: {name}='{choice.name}' with output shape {choice.shape}"
        )


def tensor_in_model(model, choice):
    """The KerasTensor of a `LayerChoice` in the model's own graph."""
    return _tensor_of(graph_lib.layer_at(model, choice.path), choice.role)
