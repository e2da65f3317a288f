"""Where TensorFlow needs XLA: a channels_first model's input gradient on some CPUs.

TensorFlow's CPU kernels compute a channels_first (NCHW) convolution inside
a compiled graph (its layout optimizer rewrites the forward pass to NHWC),
but the gradient with respect to the convolution's input
(`Conv2DBackpropInput`) supports only NHWC unless oneDNN is enabled, and
TensorFlow enables oneDNN by default on some x86 CPUs only (Intel's, not
AMD's). There, differentiating a channels_first model fails with
"Conv2DCustomBackpropInputOp only supports NHWC". XLA has kernels of its own
for both layouts, so the engine calls such a model through `model_call`:
the model's forward pass as an XLA-compiled function (its gradient is
compiled by XLA too), everything around it (loops, transforms, dynamic
shapes, random draws) in the engine's plain `tf.function`s. It does so
exactly when the model has a channels_first convolution (Conv1D/2D/3D or a
transposed one; pooling, depthwise and separable convolutions have their
NCHW gradients) and this machine fails an NCHW input gradient (checked
once, on a 3x3 convolution); everywhere else the model is called as it is.

One thing XLA cannot give: the gradient with respect to a tensor INSIDE the
model (an intermediate layer's output: Grad-CAM's feature map, an
`Optimizer`'s intermediate `wrt_tensor`), because the compiled call returns
that tensor as an output, not as a step on the way to the others. On such a
machine those uses raise `intermediate_gradient_error`, which says how to
enable TensorFlow's own NCHW kernels instead.
"""

import functools

import keras
import tensorflow as tf

# The layers whose channels_first input gradient needs the missing kernel (checked on
# TF 2.21: pooling, depthwise and separable convolutions have NCHW gradients on a CPU).
_CONVOLUTIONS = (
    keras.layers.Conv1D,
    keras.layers.Conv2D,
    keras.layers.Conv3D,
    keras.layers.Conv1DTranspose,
    keras.layers.Conv2DTranspose,
    keras.layers.Conv3DTranspose,
)

__all__ = ["model_call", "nchw_input_gradients_work", "needs_xla"]


def _layers(model):
    """Every layer of `model`, nested models included."""
    stack = list(getattr(model, "layers", []))
    while stack:
        layer = stack.pop()
        yield layer
        stack.extend(getattr(layer, "layers", []))


@functools.lru_cache(maxsize=1)
def nchw_input_gradients_work():
    """Whether this machine computes an NCHW convolution's input gradient (checked once)."""
    x = tf.zeros([1, 1, 3, 3])
    kernel = tf.ones([1, 1, 1, 1])
    try:
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = tf.nn.conv2d(x, kernel, 1, "VALID", data_format="NCHW")
        tape.gradient(y, x).numpy()
    except (tf.errors.InvalidArgumentError, tf.errors.UnimplementedError):
        return False
    return True


def needs_xla(model):
    """True when `model` has a channels_first convolution and this machine lacks its gradient.

    Args:
        model: a Keras model, or None.

    Returns:
        Whether the engine must call `model` through XLA to differentiate it.
    """
    if model is None:
        return False
    convolutions = [layer for layer in _layers(model) if isinstance(layer, _CONVOLUTIONS)]
    first = any(layer.data_format == "channels_first" for layer in convolutions)
    return first and not nchw_input_gradients_work()


class XlaModelCall:
    """Calls a Keras model in inference mode as an XLA-compiled function.

    Differentiable from an enclosing `tf.GradientTape` (TensorFlow compiles
    the gradient with XLA too); XLA compiles once per input shape.

    Args:
        model: the Keras model.

    Example:
        ```python
        call = XlaModelCall(model)
        outputs = call(tf.zeros((2, 16, 16, 1)))  # model(x, training=False), through XLA
        ```
    """

    def __init__(self, model):
        self.model = model
        self._function = tf.function(self._call, autograph=False, jit_compile=True)

    def _call(self, x):
        return self.model(x, training=False)

    def __call__(self, x, training=False):
        """Returns `model(x, training=False)` (only inference mode is supported)."""
        if training:
            raise ValueError("XlaModelCall runs the model in inference mode only.")
        return self._function(x)


def model_call(model):
    """Returns `model`, or an `XlaModelCall` of it where `needs_xla(model)`.

    Either way the result is called as `f(x, training=False)`.

    Args:
        model: a Keras model, or None.

    Returns:
        The model itself, an `XlaModelCall`, or None for None.
    """
    return XlaModelCall(model) if needs_xla(model) else model


def intermediate_gradient_error(what):
    """The error for a gradient at an intermediate tensor of a model called through XLA.

    Args:
        what: what needs the gradient, e.g. "`wrt_tensor`" or "Grad-CAM".

    Returns:
        A `ValueError` to raise.
    """
    return ValueError(
        f"{what} needs the gradient at a layer inside a channels_first model, which this "
        "CPU cannot compute: TensorFlow has no NCHW convolution-gradient kernel here "
        "without oneDNN (the engine differentiates such models through XLA, which gives "
        "input gradients only). Set the environment variable TF_ENABLE_ONEDNN_OPTS=1 "
        "before TensorFlow is imported, run on a GPU, or use a channels_last model."
    )
