"""keras-vis's custom-loss protocol: a `Loss` that implements `build_loss()`.

keras-vis users write losses like this (keras-vis's docs and tests)::

    class MyLoss(Loss):
        def __init__(self, layer):
            super().__init__()
            self.name = "My Loss"
            self.layer = layer

        def build_loss(self):
            return -K.mean(self.layer.output[:, 3])

`build_loss()` returns a symbolic value built from layer outputs. On Keras 3
it works when it is written with `keras.ops` (`keras.ops.mean`): the
`Optimizer` calls it once, on the symbolic tensors, and reads its value at
every step. Keras 3's `keras.backend` has no math functions (`K.mean`,
`K.sum`...) and TensorFlow functions do not accept symbolic Keras tensors,
so such a `build_loss()` fails: the error then shows the same loss written
in this project's `call(value)` style.

keras-vis losses return the batch mean: each sample of a batch then
reports that mean as its loss, and its gradient is its own (the mean's
gradient times the batch size).
"""

import keras

from .losses import Loss

__all__ = ["adapt", "follows_protocol"]


def follows_protocol(loss):
    """True for a `Loss` that implements keras-vis's `build_loss()` and not `call`."""
    return (
        isinstance(loss, Loss)
        and type(loss).call is Loss.call
        and callable(getattr(loss, "build_loss", None))
    )


class BuiltLoss(Loss):
    """A keras-vis loss after `build_loss()`: it reads its own symbolic value, one per sample.

    Args:
        source: the keras-vis style loss.
        tensor: its per-sample symbolic value.
    """

    def __init__(self, source, tensor):
        self.name = source.name
        self.source = source
        super().__init__(tensor)

    def call(self, value):
        """Returns the built value (already one number per sample)."""
        return value

    def __repr__(self):
        return f"BuiltLoss({self.source!r})"


def _how_to(loss, error):
    cls = type(loss).__name__
    return (
        f"Loss '{loss.name}' ({cls}) follows keras-vis's build_loss() protocol, and calling "
        f"build_loss() on Keras 3 failed: {type(error).__name__}: {error}\n"
        "Keras 3's `keras.backend` has no math functions (K.mean, K.sum, ...) and TensorFlow "
        "functions do not take symbolic Keras tensors: write build_loss() with `keras.ops` "
        "(e.g. keras.ops.mean), or write the loss in this project's call(value) style:\n\n"
        f"    class {cls}(Loss):\n"
        f'        name = "{loss.name}"\n\n'
        "        def __init__(self, layer):\n"
        "            super().__init__(layer.output)  # the tensor the loss reads\n\n"
        "        def call(self, value):  # that tensor's value for a batch (a tf.Tensor)\n"
        "            axes = list(range(1, value.shape.rank))\n"
        "            return -tf.reduce_mean(value, axis=axes)  # one number per sample\n"
    )


def build(loss, input_tensor):
    """Calls `loss.build_loss()` and returns a `BuiltLoss` with one value per sample.

    Args:
        loss: a loss for which `follows_protocol` is True.
        input_tensor: the optimizer's symbolic input (it gives the batch size).

    Raises:
        TypeError: when `build_loss()` fails or does not return a symbolic tensor.
    """
    try:
        value = loss.build_loss()
    except Exception as error:
        raise TypeError(_how_to(loss, error)) from error
    if not isinstance(value, keras.KerasTensor):
        raise TypeError(
            _how_to(
                loss,
                TypeError(f"build_loss() returned {type(value).__name__}, not a symbolic tensor"),
            )
        )
    axes = list(range(1, len(value.shape)))
    if len(value.shape) == 0:  # a batch mean: broadcast it to one value per sample
        batch = keras.ops.sum(input_tensor, axis=list(range(1, len(input_tensor.shape))))
        value = value + keras.ops.zeros_like(batch)
    elif axes:
        value = keras.ops.mean(value, axis=axes)
    return BuiltLoss(loss, value)


def adapt(losses, input_tensor):
    """Returns `losses` with each keras-vis style loss replaced by its `BuiltLoss`.

    Anything that is not a list of `(Loss, weight)` pairs is returned as it
    is (the optimizer's own checks then name what is wrong).
    """
    if not isinstance(losses, (list, tuple)):
        return losses
    adapted = []
    for item in losses:
        if isinstance(item, (list, tuple)) and len(item) == 2 and follows_protocol(item[0]):
            item = (build(item[0], input_tensor), item[1])
        adapted.append(item)
    return adapted
