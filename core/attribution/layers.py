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

__all__ = ["LayerChoice", "find_cam_layer"]


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

    Example:
        ```python
        choice = Attributor(model).cam_layer()
        print(choice)  # the feature map Grad-CAM reads, its shape, and why
        ```
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


def choice_in(rebuilt, path, role, how):
    """The `LayerChoice` of a layer's input or output in a rebuilt graph."""
    path = tuple(path)
    if path not in rebuilt.calls:
        raise ValueError(f"Layer '{'/'.join(path)}' is not called by the model.")
    op = rebuilt.calls[path][0]
    tensor = rebuilt.tensor(path, role)
    if tensor is None:
        raise ValueError(
            f"Layer '{op.name}' has several {role} tensors: pick a layer with a single {role}."
        )
    source = graph_lib.producer(tensor) if role == "input" else op
    return LayerChoice(
        path,
        role,
        getattr(source, "name", None) or op.name,
        tuple(tensor.shape),
        data_format_of(op),
        how,
    )


def find_cam_layer(rebuilt, target=None):
    """Returns the `LayerChoice` of the Grad-CAM rule (see the module docstring).

    Args:
        rebuilt: a flattened `graph.Rebuild` of the model (or the model
            itself, which is then rebuilt).
        target: None (the model's output), or the target tensor of the
            rebuilt graph: only tensors it depends on are considered.

    Raises:
        ValueError: if no tensor the target depends on has a spatial extent > 1.
    """
    if isinstance(rebuilt, keras.Model):
        rebuilt = graph_lib.Rebuild(rebuilt)
    if target is None:
        target = graph_lib.single_tensor(rebuilt.output)
    calls = [
        (path, op, graph_lib.single_tensor(args), graph_lib.single_tensor(outputs))
        for path, (op, args, outputs) in rebuilt.calls.items()
        if not graph_lib.is_model(op)
    ][::-1]

    def usable(tensor):
        return tensor is not None and graph_lib.depends_on(target, tensor)

    for path, op, x, y in calls:
        df = data_format_of(op)
        if x is None or y is None or len(x.shape) < 3:
            continue
        if has_extent(x.shape, df) and not has_extent(y.shape, df) and usable(x):
            return choice_in(rebuilt, path, "input", f"rule: input of '{op.name}'")
    for path, op, _, y in calls:
        if y is not None and has_extent(y.shape, data_format_of(op)) and usable(y):
            return choice_in(rebuilt, path, "output", "rule: last spatial output")
    raise ValueError(
        "No layer before the target has an output with a spatial extent > 1: Grad-CAM and "
        "the other class activation maps need a feature map (height/width > 1)."
    )


def resolve(model, spec, name="layer"):
    """Returns `(path, role, how)` for a user's layer spec.

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
        return (model.layers[spec].name,), "output", f"given: model.layers[{spec}]"
    if isinstance(spec, str):
        for path, layer in graph_lib.iter_layers(model):
            if layer.name == spec:
                return path, "output", "given"
        raise ValueError(
            f"No layer with name '{spec}' within the model. Received: {name}={spec!r}"
        )
    if isinstance(spec, keras.layers.Layer):
        return graph_lib.find_path(model, spec), "output", "given"
    if isinstance(spec, keras.KerasTensor):
        for role in ("output", "input"):
            for path, layer in graph_lib.iter_layers(model):
                for node in getattr(layer, "_inbound_nodes", []):
                    tensors = node.output_tensors if role == "output" else node.input_tensors
                    if len(tensors) == 1 and tensors[0] is spec:
                        how = "given" if role == "output" else f"given: input of '{layer.name}'"
                        return path, role, how
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
