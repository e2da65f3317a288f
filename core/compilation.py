"""How the engine compiles its functions: `tf.function`, with XLA only where TensorFlow needs it.

TensorFlow's CPU kernels compute a channels_first (NCHW) convolution's
forward pass, but the gradient with respect to its input
(`Conv2DBackpropInput`) supports only NHWC unless oneDNN is enabled, and
TensorFlow enables oneDNN by default on some x86 CPUs only (Intel's, not
AMD's). There, a channels_first model's input gradient fails with
"Conv2DCustomBackpropInputOp only supports NHWC". XLA compiles the same
graph with kernels of its own that support both layouts, so the engine
compiles a function with `jit_compile=True` exactly when it differentiates
through a channels_first layer on a machine where that gradient fails
(checked once, with a 3x3 convolution). Everywhere else it is a plain
`tf.function`: XLA's compile time would only cost.

Under XLA, the in-tape transforms resample with gathers instead of
`ImageProjectiveTransformV3`, which XLA cannot compile (see
`transforms.py`).
"""

import functools

import tensorflow as tf

__all__ = ["compile_function", "needs_xla"]


def _layers(model):
    """Every layer of `model`, nested models included."""
    stack = list(getattr(model, "layers", []))
    while stack:
        layer = stack.pop()
        yield layer
        stack.extend(getattr(layer, "layers", []))


@functools.lru_cache(maxsize=1)
def nchw_input_gradients_work():
    """Whether this machine computes an NCHW convolution's input gradient (cached)."""
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
    """True when `model` has a channels_first layer whose input gradient needs XLA here.

    Args:
        model: a Keras model, or None for functions that call no model.

    Returns:
        Whether functions that differentiate through `model` must be
        XLA-compiled on this machine.

    Example:
        ```python
        needs_xla(model)  # False for channels_last models, and where NCHW gradients work
        ```
    """
    if model is None:
        return False
    formats = {getattr(layer, "data_format", None) for layer in _layers(model)}
    return "channels_first" in formats and not nchw_input_gradients_work()


def compile_function(function, jit_compile=False):
    """Returns `tf.function(function)` with autograph off, XLA-compiled when asked.

    Args:
        function: the Python function to trace (TensorFlow ops only).
        jit_compile: compile with XLA (see `needs_xla`).

    Returns:
        The `tf.function`.
    """
    return tf.function(function, autograph=False, jit_compile=True if jit_compile else None)
