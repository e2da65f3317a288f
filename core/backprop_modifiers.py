"""Backprop modifiers: guided and rectified (deconvnet) backprop (`vis.backprop_modifiers`).

A backprop modifier maps a model to a new model with the same forward pass
and other gradients through its ReLUs. With `y = relu(x)` and `dy` the
gradient arriving from above:

| rule | gradient passed down |
|---|---|
| vanilla | `f'(x) dy` |
| `'guided'` (Springenberg et al.) | `f'(x) relu(dy)`: for a ReLU `(x > 0)(dy > 0) dy` |
| `'rectified'`, alias `'relu'`, `'deconv'` (Zeiler and Fergus) | `relu(dy)`: no forward gate |

`f'` is the ReLU's own derivative, so a `ReLU(max_value=6)` (MobileNetV2)
gates on `0 < x < 6`, a `threshold` or `negative_slope` is respected, and
the gates keep the gradient's dtype (mixed precision works).

The rewrite reaches every ReLU of a Functional or Sequential model, nested
models included: `activation='relu'` (also `tf.nn.relu`, `relu6`,
`keras.ops.relu`) on any layer, `Activation('relu')`, `ReLU` layers and
ops-level `keras.ops.relu` / `relu6` / `keras.activations.relu` written
straight into a functional graph. What it cannot reach is reported with a
`UserWarning` that names it: ReLUs inside a `Lambda` or a custom layer's
`call`, and non-ReLU activations (`silu`, `gelu`, `elu`, `leaky_relu`...),
for which guided backprop is not defined and which keep their vanilla
gradient. `report(modified_model)` returns the same facts as a record.

The user's model is never changed: the modified model calls the user's own
layers (so it shares their weights and never goes stale when the model is
trained further) and puts a wrapper of the same name in place of each
rewritten layer, so `modified.layers[i]` is the rewritten `model.layers[i]`.
Modified models are cached per model and rule.

Example:
    ```python
    from vis_widgets.core import backprop_modifiers

    guided = backprop_modifiers.get("guided")(model)
    with tf.GradientTape() as tape:
        x = tf.constant(images)
        tape.watch(x)
        score = guided(x)[:, 3]
    grads = tape.gradient(score, x)  # guided-backprop gradients of class 3
    ```
"""

import dataclasses
import warnings
import weakref

import keras
import tensorflow as tf

from .attribution import graph as graph_lib

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


_CACHE = weakref.WeakKeyDictionary()  # model -> {mode: modified model}
_REPORTS = weakref.WeakKeyDictionary()  # modified model -> Report


def warn_report(report, stacklevel=3):
    """Warns with the report's message when something was left vanilla."""
    message = report.message()
    if message:
        warnings.warn(message, UserWarning, stacklevel=stacklevel + 1)


def _modify(model, mode):
    if not isinstance(model, keras.Model):
        raise TypeError(f"`model` must be a Keras model. Received: model={model!r}")
    per_model = _CACHE.setdefault(model, {})
    if mode not in per_model:
        rebuilt, report = rewrite(model, mode, flatten=False)
        if isinstance(model, keras.Sequential):
            modified = keras.Sequential(
                [rebuilt.input, *[_replacement(rebuilt, layer) for layer in model.layers]],
                name=model.name,
            )
        else:
            modified = rebuilt.model(model.name)
        per_model[mode] = modified
        _REPORTS[modified] = report
    modified = per_model[mode]
    warn_report(_REPORTS[modified], stacklevel=3)
    return modified


def _replacement(rebuilt, layer):
    """The layer the rebuild used in place of a Sequential's layer."""
    _, _, outputs = rebuilt.calls[(layer.name,)]
    op = graph_lib.producer(graph_lib.single_tensor(outputs))
    return op if op is not None else layer


def guided(model):
    """Returns a model whose ReLUs pass `f'(x) relu(dy)` backward (guided backprop).

    Args:
        model: a Functional or Sequential Keras model (not modified).

    Returns:
        A new model with the same forward pass, sharing the model's weights.

    Example:
        ```python
        guided_model = guided(model)
        ```
    """
    return _modify(model, "guided")


def rectified(model):
    """Returns a model whose ReLUs pass `relu(dy)` backward (deconvnet, Zeiler and Fergus).

    Args:
        model: a Functional or Sequential Keras model (not modified).

    Returns:
        A new model with the same forward pass, sharing the model's weights.

    Example:
        ```python
        deconv_model = rectified(model)
        ```
    """
    return _modify(model, "rectified")


relu = deconv = rectified

_BY_NAME = {"guided": guided, "rectified": rectified, "relu": rectified, "deconv": rectified}
NAMES = tuple(sorted(_BY_NAME))


def canonical(identifier):
    """Returns `None`, `"guided"`, `"rectified"` or the callable, checking the identifier."""
    if identifier is None or callable(identifier):
        return identifier
    if isinstance(identifier, str):
        if identifier not in _BY_NAME:
            raise ValueError(
                f"Unknown `backprop_modifier`. Expected one of {', '.join(NAMES)}, None or a "
                f"callable model -> model. Received: backprop_modifier={identifier!r}"
            )
        return "guided" if identifier == "guided" else "rectified"
    raise TypeError(
        "`backprop_modifier` must be None, a name or a callable model -> model. "
        f"Received: backprop_modifier={identifier!r}"
    )


def get(identifier):
    """Returns the backprop modifier for `identifier` (keras-vis).

    Args:
        identifier: `'guided'`, `'rectified'` (aliases `'relu'`, `'deconv'`),
            None (no modifier: returns None), or a callable `model -> model`
            (returned as is).

    Returns:
        A callable `model -> modified model`, or None.

    Raises:
        ValueError: for an unknown name (the message lists the valid ones).
        TypeError: for anything else.

    Example:
        >>> get("deconv") is rectified
        True
    """
    name = canonical(identifier)
    if name is None or callable(name):
        return name
    return _BY_NAME[name]


def report(modified_model):
    """Returns the `Report` of a model made by `guided` or `rectified` (None otherwise).

    Example:
        ```python
        print(report(guided(model)).replaced)
        ```
    """
    return _REPORTS.get(modified_model)
