"""The gradient rules of guided and rectified backprop, and the rewrite that applies them.

`rewrite(model, mode)` rebuilds a model (`graph.Rebuild`) with `Rule(mode)`:
every ReLU site is replaced by a wrapper that runs the same forward pass
with the rule's gradient, and what cannot be reached is recorded in a
`Report`. The public entry points are in `vis_widgets.core.backprop_modifiers`.
"""

import dataclasses

import keras
import tensorflow as tf

from . import graph as graph_lib

__all__ = ["Report"]

RELU_FUNCTIONS = (
    keras.activations.relu,
    keras.activations.relu6,
    keras.ops.relu,
    keras.ops.relu6,
    tf.nn.relu,
    tf.nn.relu6,
)
# ops-level operations (no layer) that compute a ReLU
_RELU_OPS = ("Relu", "Relu6", "ReLU")
# activations that are not ReLUs but are rectifier-like: guided backprop is undefined there
_NON_RELU = {
    "elu",
    "selu",
    "gelu",
    "silu",
    "swish",
    "hard_silu",
    "hard_swish",
    "leaky_relu",
    "mish",
    "celu",
    "glu",
    "softplus",
    "sparse_plus",
    "squareplus",
    "relu_6",
}
_NON_RELU_LAYERS = (keras.layers.LeakyReLU, keras.layers.ELU, keras.layers.PReLU)
# relu-family TensorFlow op types, to find ReLUs inside layers the rewrite cannot open
_TF_RELU_TYPES = {"Relu", "Relu6", "LeakyRelu", "Elu", "Selu"}

MODES = ("guided", "rectified")


@dataclasses.dataclass
class Report:
    """What a backprop modifier rewrote and what it could not reach.

    Attributes:
        mode: `"guided"` or `"rectified"`.
        replaced: name paths (`"outer/inner/layer"`) of the rewritten ReLUs.
        unreached: `(path, reason)` for ReLUs the rewrite cannot open
            (inside a `Lambda` or a custom layer): their gradient stays vanilla.
        non_relu: `(path, activation)` for non-ReLU activations, left vanilla.

    Example:
        ```python
        from vis_widgets.core import backprop_modifiers

        report = backprop_modifiers.report(backprop_modifiers.guided(model))
        print(report.replaced, report.message())
        ```
    """

    mode: str
    replaced: list = dataclasses.field(default_factory=list)
    unreached: list = dataclasses.field(default_factory=list)
    non_relu: list = dataclasses.field(default_factory=list)

    def message(self):
        """Returns the warning text, or None when every ReLU was reached."""
        parts = []
        if self.unreached:
            names = ", ".join(f"'{p}' ({why})" for p, why in self.unreached)
            parts.append(
                f"{len(self.unreached)} layer(s) contain ReLUs the {self.mode} rewrite cannot "
                f"reach; their gradients stay vanilla: {names}. Write them as ReLU / "
                "Activation layers or `activation='relu'` to have them rewritten"
            )
        if self.non_relu:
            names = ", ".join(f"'{p}' ({act})" for p, act in self.non_relu)
            parts.append(
                f"{len(self.non_relu)} non-ReLU activation(s) keep their vanilla gradient "
                f"({self.mode} backprop is defined for ReLUs only): {names}"
            )
        return ". ".join(parts) + "." if parts else None


# ------------------------------------------------------------------------- gradient rules
@tf.custom_gradient
def _rectify_gradient(y):
    """Identity forward; passes `relu(dy)` backward."""

    def grad(dy):
        return tf.nn.relu(dy)

    return tf.identity(y), grad


def _bypass(function, z):
    """`function(z)` forward; passes `relu(dy)` backward, ignoring `function`'s derivative."""

    @tf.custom_gradient
    def apply(t):
        def grad(dy):
            return tf.nn.relu(dy)

        return function(t), grad

    return apply(z)


def _apply_rule(mode, op, args, kwargs, pre_value):
    """Runs `op` on `args` with the `mode` gradient rule through its ReLU."""
    if mode == "guided":
        # vanilla backward of the ReLU (f'(x), its own gates) applied to relu(dy)
        return _rectify_gradient(op(*args, **kwargs))
    z, activation = pre_value(args, kwargs)
    return _bypass(activation, z)


class ModifiedLayer(keras.layers.Layer):
    """A layer whose ReLU follows a backprop rule; it calls (and shares) the user's layer."""

    def __init__(self, layer, mode):
        super().__init__(name=layer.name, dtype=layer.dtype_policy, trainable=layer.trainable)
        self.inner = layer
        self.mode = mode
        self.built = True

    def _pre(self, args, kwargs):
        layer = self.inner
        if isinstance(layer, keras.layers.ReLU):
            return args[0], layer.call
        view = graph_lib.LinearView(layer)
        return graph_lib.call_linear(layer, view, args, kwargs), layer.activation

    def call(self, *args, **kwargs):
        """Runs the inner layer with the modified ReLU gradient."""
        return _apply_rule(self.mode, self.inner, args, kwargs, self._pre)

    def compute_output_spec(self, *args, **kwargs):
        """The inner layer's output spec."""
        return self.inner.compute_output_spec(*args, **kwargs)


class ModifiedOperation(keras.Operation):
    """An ops-level ReLU (`keras.ops.relu` in a functional graph) following a backprop rule."""

    def __init__(self, op, mode):
        super().__init__(name=f"{op.name}_{mode}")
        self.inner = op
        self.mode = mode

    def call(self, x):
        """Runs the inner operation with the modified ReLU gradient."""
        return _apply_rule(self.mode, self.inner, (x,), {}, lambda a, k: (a[0], self.inner.call))

    def compute_output_spec(self, x):
        """The inner operation's output spec."""
        return self.inner.compute_output_spec(x)


# ------------------------------------------------------------------------- the rewrite
def _activation_name(fn):
    return getattr(fn, "__name__", type(fn).__name__)


def _is_keras_builtin(layer):
    return type(layer).__module__.startswith("keras.") and not isinstance(
        layer, keras.layers.Lambda
    )


def _count_tf_relus(layer, args):
    """Counts the relu-family TensorFlow ops in a layer's traced call (0 if untraceable)."""
    specs = [tf.TensorSpec(a.shape, a.dtype) for a in args if isinstance(a, keras.KerasTensor)]
    if len(specs) != len(args):
        return 0
    try:
        graph_def = (
            tf.function(lambda *xs: layer(*xs)).get_concrete_function(*specs).graph.as_graph_def()
        )
    except Exception:  # a layer that cannot be traced alone: nothing to report
        return 0
    nodes = list(graph_def.node)
    for function in graph_def.library.function:
        nodes.extend(function.node_def)
    return sum(node.op in _TF_RELU_TYPES for node in nodes)


class Rule:
    """The `(op, path) -> replacement` rule of a backprop mode, filling a `Report`."""

    def __init__(self, mode):
        self.mode = mode
        self.report = Report(mode)

    def __call__(self, op, path, args=()):
        """Returns the replacement of `op` (or None), recording what it saw."""
        name = "/".join(path)
        activation = getattr(op, "activation", None)
        if isinstance(op, keras.layers.ReLU) or (
            isinstance(op, keras.layers.Layer) and activation in RELU_FUNCTIONS
        ):
            self.report.replaced.append(name)
            return ModifiedLayer(op, self.mode)
        if not isinstance(op, keras.layers.Layer):
            if type(op).__name__ in _RELU_OPS:
                self.report.replaced.append(name)
                return ModifiedOperation(op, self.mode)
            if type(op).__name__.lower().replace("_", "") in {
                a.replace("_", "") for a in _NON_RELU
            }:
                self.report.non_relu.append((name, type(op).__name__))
            return None
        if isinstance(op, _NON_RELU_LAYERS):
            self.report.non_relu.append((name, type(op).__name__))
        elif activation is not None and _activation_name(activation) in _NON_RELU:
            self.report.non_relu.append((name, _activation_name(activation)))
        elif not _is_keras_builtin(op):
            count = _count_tf_relus(op, args)
            if count:
                self.report.unreached.append(
                    (name, f"{type(op).__name__} with {count} ReLU op(s) inside")
                )
        return None


def rewrite(model, mode, flatten=True, pre_activation=()):
    """Rebuilds `model` with the `mode` rule; returns `(Rebuild, Report)`.

    Args:
        model: a Functional or Sequential model.
        mode: `"guided"` or `"rectified"`.
        flatten: inline nested models (see `graph.Rebuild`).
        pre_activation: name paths whose pre-activation tensors are recorded.
    """
    rule = Rule(mode)
    rebuilt = graph_lib.Rebuild(model, rule=rule, flatten=flatten, pre_activation=pre_activation)
    return rebuilt, rule.report
