"""Rebuilding a model's graph on new inputs while sharing its layers.

Attribution needs tensors that a model does not output (the feature map of
Grad-CAM, the logits before a softmax, a layer inside a nested model) and,
for guided backprop, a graph in which some operations behave differently.
`Rebuild` calls the model's own layers again, node by node, on a fresh
`keras.Input`: every layer (and so every weight) is the user's, nothing is
copied, so the rebuilt graph never goes stale when the model is trained
further, and nothing of the user's model is changed (its layers only gain
inbound nodes, as when a layer is reused in a second model).

Each call is recorded under the operation's *name path* (the names of the
nested models that contain it, then its own name), so a layer chosen on the
user's model is found again in any rebuild of it, also after a backprop
modifier replaced some of its layers by wrappers of the same name.
"""

import inspect

import keras

from .. import losses as losses_lib

__all__ = []  # implementation of the Attributor


def is_model(op):
    """True for a Functional or Sequential model used as a layer."""
    return isinstance(op, keras.Model) and hasattr(op, "_nodes_by_depth")


def single_tensor(value):
    """Returns `value` if it is one KerasTensor (or a list of one), else None."""
    if isinstance(value, (list, tuple)):
        value = value[0] if len(value) == 1 else None
    return value if isinstance(value, keras.KerasTensor) else None


def model_input(model, name="model"):
    """Returns the one symbolic input of a single-input model, with a clear error."""
    try:
        inputs = model.inputs
    except (AttributeError, ValueError):
        inputs = None
    if not inputs:
        raise ValueError(
            f"`{name}` has no symbolic input: build it first (start a Sequential model with "
            "keras.Input(shape)). Subclassed models are not supported: attribution needs the "
            f"layer graph. Received: {name}={model!r}"
        )
    if len(inputs) != 1:
        raise ValueError(
            f"`{name}` must have a single input. Received a model with {len(inputs)} inputs."
        )
    return inputs[0]


def producer(tensor):
    """Returns the operation that produced a KerasTensor (None for an input)."""
    history = getattr(tensor, "_keras_history", None)
    return None if history is None else history[0]


def depends_on(tensor, source):
    """True if `tensor` is computed from `source` (nested models are walked into)."""
    seen, stack = set(), [tensor]
    while stack:
        t = stack.pop()
        if t is source:
            return True
        if id(t) in seen:
            continue
        seen.add(id(t))
        history = getattr(t, "_keras_history", None)
        if history is None:
            continue
        op, node_index, tensor_index = history
        if is_model(op):  # continue inside the nested model, then before it
            stack.append(op.outputs[tensor_index])
        nodes = getattr(op, "_inbound_nodes", [])
        if node_index < len(nodes):
            stack.extend(nodes[node_index].input_tensors)
    return False


def iter_layers(model, prefix=()):
    """Yields `(path, layer)` for every layer, nested models first-class and recursed into."""
    for layer in model.layers:
        if isinstance(layer, keras.layers.InputLayer):
            continue
        path = (*prefix, layer.name)
        yield path, layer
        if is_model(layer):
            yield from iter_layers(layer, path)


def find_path(model, layer):
    """Returns the name path of a layer object inside `model` (nested models searched)."""
    for path, candidate in iter_layers(model):
        if candidate is layer:
            return path
    raise ValueError(f"Layer '{layer.name}' is not a layer of model '{model.name}'.")


def layer_at(model, path):
    """Returns the layer at a name path."""
    current = model
    for name in path:
        current = current.get_layer(name)
    return current


class Rebuild:
    """A model's graph called again on a new input, sharing the model's layers.

    Args:
        model: a Functional or Sequential single-input model.
        rule: None, or a callable `(op, path, args) -> replacement or None`
            that may replace an operation (a layer or an ops-level operation)
            by another one of the same call signature (backprop modifiers).
        flatten: inline nested models, so that their inner tensors are
            reachable from the new input (the engine's probes); False keeps
            them nested and puts a `SharedLayer` in place of every other
            layer (the modified models `backprop_modifiers` returns: each of
            their layers is a new object whose `.output` is in the new graph,
            while the weights stay the user's).
        pre_activation: name paths of layers whose pre-activation value is
            recorded too (see `pre_activation_of`).

    Attributes:
        input: the new `keras.Input`.
        output: the rebuilt model output (the model's output structure).
        calls: `{path: (op, args, outputs)}` for every operation called, in
            call order (`op` is the user's operation, before any rule).
        pre: `{path: tensor}`, the pre-activation tensors asked for.
    """

    def __init__(self, model, rule=None, flatten=True, pre_activation=()):
        self.rule = rule
        self.flatten = flatten
        self.pre_paths = set(pre_activation)
        self.calls = {}
        self.pre = {}
        self._nested = {}
        self._replacements = {}
        x = model_input(model)
        name = getattr(producer(x), "name", None)  # the input layer's: layer names line up
        self.input = keras.Input(batch_shape=x.shape, dtype=x.dtype, name=name)
        self.output = self._run(model, self.input, ())

    def model(self, name):
        """Returns a `keras.Model` from the new input to the rebuilt output."""
        return keras.Model(self.input, self.output, name=name)

    def tensor(self, path, role="output"):
        """Returns the rebuilt tensor recorded for `path` (`role`: input, output, pre)."""
        if role == "pre":
            return self.pre[tuple(path)]
        _, args, outputs = self.calls[tuple(path)]
        return single_tensor(args if role == "input" else outputs)

    # ----------------------------------------------------------------- walk
    def _run(self, model, x, prefix):
        if isinstance(model, keras.Sequential):
            for layer in model.layers:
                x = self._call(layer, (*prefix, layer.name), x)
            return x
        if not is_model(model):
            raise TypeError(
                "Only Functional and Sequential models can be rebuilt (the layer graph of a "
                f"subclassed model is unknown). Received: {type(model).__name__} '{model.name}'"
            )
        inputs = keras.tree.pack_sequence_as(model.input, [x])

        def call(op, *args, **kwargs):
            return self._call(op, (*prefix, op.name), *args, **kwargs)

        # What `keras.models.clone_model(model, input_tensors, clone_function=lambda op: op,
        # call_function=call)` does, without building a model on `inputs`, which fails
        # when they are intermediate tensors (a nested model inlined mid-graph).
        return model._run_through_graph(inputs, operation_fn=lambda op: op, call_fn=call)

    def _call(self, op, path, *args, **kwargs):
        if is_model(op):
            outputs = self._call_nested(op, path, *args, **kwargs)
        else:
            replacement = self.rule(op, path, args) if self.rule is not None else None
            if replacement is None and not self.flatten and isinstance(op, keras.layers.Layer):
                replacement = SharedLayer(op)
            if replacement is not None:  # one replacement per layer, also when it is reused
                replacement = self._replacements.setdefault(id(op), replacement)
            outputs = (replacement or op)(*args, **kwargs)
        if path in self.pre_paths:
            self.pre[path] = pre_activation_tensor(op, args, kwargs)
        self.calls.setdefault(path, (op, args, outputs))
        return outputs

    def _call_nested(self, op, path, *args, **kwargs):
        if self.flatten:
            return self._run(op, single_tensor(args), path)
        if id(op) not in self._nested:
            inner = model_input(op)
            new_input = keras.Input(batch_shape=inner.shape, dtype=inner.dtype)
            self._nested[id(op)] = keras.Model(
                new_input, self._run(op, new_input, path), name=op.name
            )
        return self._nested[id(op)](*args, **kwargs)


class SharedLayer(keras.layers.Layer):
    """A new layer object that calls (and so shares the weights of) a user's layer."""

    def __init__(self, layer):
        super().__init__(name=layer.name, dtype=layer.dtype_policy, trainable=layer.trainable)
        self.inner = layer
        self.built = True

    def call(self, *args, **kwargs):
        """Calls the user's layer."""
        return self.inner(*args, **kwargs)

    def compute_output_spec(self, *args, **kwargs):
        """The user's layer's output spec."""
        return self.inner.compute_output_spec(*args, **kwargs)


# ------------------------------------------------------------------------- pre-activation
class LinearView:
    """Reads every attribute of a layer except `activation`, which is linear.

    `type(layer).call(LinearView(layer), x)` runs the layer's own `call`
    with its own variables but no activation: the pre-activation value,
    without a copy of the weights and without touching the layer.
    """

    def __init__(self, layer):
        object.__setattr__(self, "_layer", layer)

    def __getattr__(self, name):
        if name == "activation":
            return keras.activations.linear
        return getattr(self._layer, name)


def call_linear(layer, view, args, kwargs):
    """Runs `type(layer).call` on `view` with the keyword arguments that call accepts."""
    call = type(layer).call
    params = inspect.signature(call).parameters
    if not any(p.kind == p.VAR_KEYWORD for p in params.values()):
        kwargs = {k: v for k, v in kwargs.items() if k in params}
    return call(view, *args, **kwargs)


class PreActivation(keras.layers.Layer):
    """The value of a layer before its `activation` (its variables are shared)."""

    def __init__(self, layer, **kwargs):
        super().__init__(name=f"{layer.name}_pre_activation", dtype=layer.dtype_policy, **kwargs)
        self.inner = layer
        self.built = True

    def call(self, *args, **kwargs):
        """Returns the inner layer's value before its activation."""
        return call_linear(self.inner, LinearView(self.inner), args, kwargs)

    def compute_output_spec(self, *args, **kwargs):
        """The inner layer's output spec (the activation keeps shapes)."""
        return self.inner.compute_output_spec(*args, **kwargs)


def has_pre_activation(layer):
    """True for an activation layer or a layer with an `activation` attribute."""
    return isinstance(layer, losses_lib._ACTIVATION_LAYERS) or (
        getattr(layer, "activation", None) is not None
    )


def pre_activation_tensor(op, args, kwargs):
    """Returns the tensor before `op`'s activation, built on the rebuilt graph."""
    if isinstance(op, losses_lib._ACTIVATION_LAYERS):
        return single_tensor(args)
    if getattr(op, "activation", None) is None:
        raise ValueError(
            f"Layer '{op.name}' ({type(op).__name__}) has no activation: it has no "
            "pre-activation value. Pass pre_activation=False."
        )
    return PreActivation(op)(*args, **kwargs)


def has_softmax(layer):
    """True when a layer ends in a softmax (an `activation` or a softmax layer)."""
    if isinstance(layer, keras.layers.Softmax):
        return True
    activation = getattr(layer, "activation", None)
    return activation in (keras.activations.softmax, keras.ops.softmax) or (
        getattr(activation, "__name__", "") == "softmax"
    )
