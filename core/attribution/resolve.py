"""The layers an Attributor settles on: its target (with the softmax rule), a call's CAM and wrt.

`target` resolves the explained layer when the engine is created (the
model's output or a given layer; read before its activation when it ends in
a softmax; whether its values are logits; its channel count). `cam_layer`
and `wrt_layer` resolve the layers a call names, as `LayerChoice`s in the
model's unmodified rebuild (`probes.rebuild`); the engine caches the CAM
layers (`_cam_layers`). How a tensor is named and the Grad-CAM layer rule
are `layers`'; this module applies them to one engine.
"""

import keras

from . import compiled, probes
from . import graph as graph_lib
from . import layers as layers_lib

__all__ = []  # implementation of the Attributor

_LINEAR = (None, keras.activations.linear)


def target(engine, model, output_layer, pre_activation):
    """Resolves the explained layer and sets the engine's attributes that describe it.

    Sets `pre_activation`, `target`, `logits`, `num_classes` and the target's
    name path (`_target_path`, which every rebuild reads).

    Raises:
        ValueError: for `pre_activation=True` on a layer without an activation,
            or a target of unknown channel count.
    """
    if output_layer is None:
        path, role, how = output_path(model), "output", "the model's output"
    else:
        path, role, how = layers_lib.resolve(model, output_layer, "output_layer")
    layer = graph_lib.layer_at(model, path)
    if pre_activation == "auto":
        pre_activation = role == "output" and graph_lib.has_softmax(layer)
    engine.pre_activation = bool(pre_activation)
    engine._target_path = path
    if engine.pre_activation and not graph_lib.has_pre_activation(layer):
        raise ValueError(
            f"`pre_activation=True` needs a target layer with an activation. Received: "
            f"layer '{layer.name}' ({type(layer).__name__}), which has none."
        )
    engine.target = layers_lib.choice_in(probes.rebuild(engine, None), path, role, how)
    engine.logits = (
        len(engine.target.shape) == 2
        and (engine.pre_activation or getattr(layer, "activation", None) in _LINEAR)
        and not isinstance(layer, keras.layers.Softmax)
    )
    engine.num_classes = channels(engine.target)
    if engine.num_classes is None:
        raise ValueError(f"The target layer '{engine.target.name}' has an unknown channel count.")


def cam_layer(engine, key, layer):
    """The `LayerChoice` of a CAM's feature map (see `Attributor.cam_layer`), cached by `key`."""
    if key not in engine._cam_layers:
        rebuilt = probes.rebuild(engine, None)
        target = rebuilt.tensor(engine.target.path, engine.target.role)
        if layer is None:
            choice = layers_lib.find_cam_layer(rebuilt, target)
        else:
            choice = layers_lib.choice_in(rebuilt, *layers_lib.resolve(engine.model, layer))
            layers_lib.check_spatial(choice)
            if not graph_lib.depends_on(target, rebuilt.tensor(choice.path, choice.role)):
                raise ValueError(
                    f"`layer` must come before the target layer '{engine.target.name}' (the "
                    f"target must depend on it). Received: layer='{choice.name}'"
                )
        engine._cam_layers[key] = choice
    return engine._cam_layers[key]


def wrt_layer(engine, layer):
    """The `LayerChoice` the gradient is taken against: None (the input) or `wrt_layer`'s."""
    if layer is None:
        return None
    spec = layers_lib.resolve(engine.model, layer, "wrt_layer")
    return layers_lib.choice_in(probes.rebuild(engine, None), *spec)


def channels(choice):
    """The channel count of a chosen tensor."""
    return choice.shape[compiled.axis(choice.data_format, len(choice.shape))]


def output_path(model):
    """The name path of the layer producing the model's output (nested models entered)."""
    tensor, path = model.outputs[0], []
    while True:
        op = graph_lib.producer(tensor)
        path.append(op.name)
        if not graph_lib.is_model(op):
            return tuple(path)
        tensor = op.outputs[tensor._keras_history[2]]
