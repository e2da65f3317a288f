"""Losses: what the optimizer minimizes (keras-vis's `vis/losses.py`).

A `Loss` reads one symbolic tensor of the model graph (a layer's output, or
the model's input) and turns its value into one number per sample. The
`Optimizer` builds a probe model from the input to every tensor its losses
read, so losses never touch the model themselves.
"""

import weakref

import keras
import tensorflow as tf

from .validation import check_keras_tensor, is_int

__all__ = ["ActivationMaximization", "Diversity", "Loss", "check_keras_tensor"]

# Layers whose whole job is an activation: their pre-activation value is their input.
_ACTIVATION_LAYERS = (
    keras.layers.Activation,
    keras.layers.Softmax,
    keras.layers.ReLU,
    keras.layers.LeakyReLU,
    keras.layers.ELU,
    keras.layers.PReLU,
)


# layer -> its linear copy, so losses on one layer share one pre-activation tensor
_LINEAR_COPIES = weakref.WeakKeyDictionary()


def _layer_output(layer, attr="output"):
    """Returns `layer.output` (or `.input`) with an actionable error when it is undefined."""
    if not isinstance(layer, keras.layers.Layer):
        raise TypeError(f"`layer` must be a Keras layer. Received: layer={layer!r}")
    try:
        return getattr(layer, attr)
    except (AttributeError, ValueError) as err:
        raise ValueError(
            f"Layer '{layer.name}' has no single symbolic {attr}: it was never called, or it "
            f"is used more than once in the model ({err}). Build the model first, or pass a "
            "layer that appears once."
        ) from None


class Loss:
    """Base class of every loss: a `name` and one value per sample.

    A subclass passes the symbolic tensor it reads to `super().__init__` and
    implements `call(value)`, which receives that tensor's value for a batch
    (a `tf.Tensor` with the batch axis) and returns a `(batch,)` tensor. The
    optimizer minimizes `weight * loss`, so return what should go *down*.
    `call` is traced into the optimizer's compiled step: use TensorFlow ops.

    Args:
        tensor: the symbolic tensor the loss reads (`layer.output`,
            `model.inputs[0]`, ...).

    Example:
        ```python
        class MeanActivation(Loss):
            name = "Mean Activation"

            def __init__(self, layer):
                super().__init__(layer.output)

            def call(self, value):
                return -tf.reduce_mean(value, axis=list(range(1, value.shape.rank)))
        ```
    """

    name = "Unnamed Loss"

    def __init__(self, tensor=None):
        if tensor is None and callable(getattr(self, "build_loss", None)):
            return  # keras-vis's build_loss() protocol: see core/loss_protocol.py
        check_keras_tensor(tensor, "tensor")
        self.tensor = tensor

    def call(self, value):
        """Returns the loss of each sample, a `(batch,)` float tensor.

        Args:
            value: the value of `self.tensor` for the current batch.
        """
        raise NotImplementedError(f"{type(self).__name__} must implement call(value).")

    def get_config(self):
        """Returns the loss's constructor arguments other than tensors and layers."""
        return {}

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


def _check_filter_indices(filter_indices, num_filters, layer_name):
    """Returns the indices as a list of ints in [0, num_filters), or None."""
    if filter_indices is None:
        return None
    items = list(filter_indices) if isinstance(filter_indices, (list, tuple)) else [filter_indices]
    if not items:
        raise ValueError(
            "`filter_indices` must be an int, a non-empty list of ints or None. "
            "Received: filter_indices=[]"
        )
    result = []
    for idx in items:
        if not is_int(idx):
            raise TypeError(
                "`filter_indices` must be an int, a list of ints or None. "
                f"Received: filter_indices={filter_indices!r}"
            )
        idx = int(idx)
        if num_filters is not None and not -num_filters <= idx < num_filters:
            raise ValueError(
                f"`filter_indices` must be in [0, {num_filters}) for layer '{layer_name}', "
                f"which has {num_filters} filters. Received: filter_indices={filter_indices!r}"
            )
        result.append(idx % num_filters if num_filters is not None else idx)
    return result


class ActivationMaximization(Loss):
    """Maximizes the mean activation of some filters of a layer (keras-vis).

    The loss of a sample is `-sum over indices of mean(output[..., idx])`
    (channels_last) or `mean(output[:, idx, ...])` (channels_first, read from
    the layer's `data_format`); a 2-D output `(batch, units)` is indexed on its
    last axis. With `filter_indices=None` it is minus the mean of the whole
    output.

    Softmax outputs are a known trap: raising one class's probability is
    easiest by lowering all others, which gives poor images. keras-vis told
    users to swap the last activation to linear by hand. Here
    `pre_activation=True` maximizes the values *before* the layer's
    activation (the logits) without touching the user's model: for an
    activation layer (`Activation`, `Softmax`, `ReLU`, ...) the loss reads the
    layer's input; for a layer with an `activation` argument (`Dense`,
    `Conv2D`, ...) it reads a linear copy of the layer applied to the layer's
    input. The copy holds the layer's weights as they are when the loss is
    built: build the loss again after training the model further. Losses on
    the same layer share one copy (and so one tensor in the probe model).

    Args:
        layer: the Keras layer whose output is maximized (it must be used
            once in the model).
        filter_indices: an int, a list of ints, or None for the whole output.
        pre_activation: maximize the values before the layer's activation.

    Raises:
        ValueError: for an index out of range, a layer with no single output,
            or `pre_activation=True` on a layer that has no activation.
        TypeError: for indices that are not ints.

    Example:
        ```python
        model = keras.applications.MobileNetV2(weights=None, input_shape=(32, 32, 3))
        loss = ActivationMaximization(model.layers[-1], 20, pre_activation=True)
        opt = Optimizer(model.inputs[0], [(loss, 1.0)])
        ```
    """

    name = "ActivationMax Loss"

    def __init__(self, layer, filter_indices=None, pre_activation=False):
        output = _layer_output(layer)
        self.layer = layer
        self.pre_activation = bool(pre_activation)
        self.data_format = getattr(layer, "data_format", None) or keras.config.image_data_format()
        if self.pre_activation:
            output = self._pre_activation_output(layer)
        rank = len(output.shape)
        if rank < 2:
            raise ValueError(
                f"Layer '{layer.name}' must have a batched output of rank >= 2. "
                f"Received output shape: {output.shape}"
            )
        self._channel_axis = -1 if rank == 2 or self.data_format != "channels_first" else 1
        num_filters = output.shape[self._channel_axis]
        self.filter_indices = _check_filter_indices(filter_indices, num_filters, layer.name)
        super().__init__(output)

    @staticmethod
    def _pre_activation_output(layer):
        if isinstance(layer, _ACTIVATION_LAYERS):
            return _layer_output(layer, "input")
        activation = getattr(layer, "activation", None)
        if activation is None:
            raise ValueError(
                f"`pre_activation=True` needs an activation layer or a layer with an "
                f"`activation` argument. Received: layer '{layer.name}' "
                f"({type(layer).__name__}), which has none."
            )
        if layer not in _LINEAR_COPIES:
            config = layer.get_config()
            config["activation"] = "linear"
            config["name"] = f"{layer.name}_pre_activation"
            linear = type(layer).from_config(config)
            _LINEAR_COPIES[layer] = (linear, linear(_layer_output(layer, "input")))
        linear, output = _LINEAR_COPIES[layer]
        linear.set_weights(layer.get_weights())  # refreshed for every new loss
        return output

    def call(self, value):
        """Returns `-sum_idx mean(value[..., idx])` per sample."""
        value = tf.cast(value, tf.float32)
        if self.filter_indices is not None:
            value = tf.gather(value, self.filter_indices, axis=self._channel_axis)
            if self._channel_axis != -1:
                value = tf.experimental.numpy.moveaxis(value, self._channel_axis, -1)
            spatial = list(range(1, value.shape.rank - 1))
            per_filter = tf.reduce_mean(value, axis=spatial) if spatial else value
            return -tf.reduce_sum(per_filter, axis=-1)
        return -tf.reduce_mean(value, axis=list(range(1, value.shape.rank)))

    def get_config(self):
        """Returns `layer` (by name), `filter_indices` and `pre_activation`."""
        return {
            "layer": self.layer.name,
            "filter_indices": self.filter_indices,
            "pre_activation": self.pre_activation,
        }


class Diversity(Loss):
    """Pushes the samples of a batch apart in style (Lucid's `diversity`), minimized.

    For each sample `b`, `G_b` is the Gram matrix `A_b^T A_b` of the layer's
    activations `A_b` (positions x channels), divided by its Frobenius norm.
    The loss of sample `b` is its mean cosine similarity to the others,
    `mean over b' != b of <G_b, G_b'>` (0 for a batch of one). So the value
    `named_losses` reports (the mean over samples) is the batch's mean
    pairwise similarity, in [0, 1] for non-negative activations, and a
    positive weight makes the pictures differ; Lucid maximizes minus the same
    quantity (`objective - 1e2 * diversity(layer)`, batch of about 4).

    This loss couples the samples on purpose: a sample's loss and gradient
    depend on the other samples of the batch, unlike every other loss here,
    so a batch with it is not N independent optimizations and a per-sample
    weight of 0 on one sample still lets the others push away from it.

    Args:
        layer: the layer whose activations are compared (a conv layer, or a
            2-D output, whose Gram matrix is then one outer product).

    Example:
        ```python
        losses = [(ActivationMaximization(layer, 3), 1.0), (Diversity(layer), 10.0)]
        opt = Optimizer(model.inputs[0], losses, parameterization=FourierImage())
        imgs, _, _ = opt.minimize(seed_input=opt.make_seed(samples=4), max_iter=256)
        ```
    """

    name = "Diversity Loss"

    def __init__(self, layer):
        output = _layer_output(layer)
        if len(output.shape) < 2:
            raise ValueError(
                f"Layer '{layer.name}' must have a batched output of rank >= 2. "
                f"Received output shape: {output.shape}"
            )
        self.layer = layer
        self.data_format = getattr(layer, "data_format", None) or keras.config.image_data_format()
        super().__init__(output)

    def call(self, value):
        """Returns each sample's mean cosine similarity to the other samples' Gram matrices."""
        value = tf.cast(value, tf.float32)
        if value.shape.rank > 2 and self.data_format == "channels_first":
            value = tf.experimental.numpy.moveaxis(value, 1, -1)
        batch = tf.shape(value)[0]
        flat = tf.reshape(value, [batch, -1, tf.shape(value)[-1]])
        grams = tf.matmul(flat, flat, transpose_a=True)
        grams = tf.reshape(tf.nn.l2_normalize(grams, axis=[1, 2], epsilon=1e-10), [batch, -1])
        similarity = tf.matmul(grams, grams, transpose_b=True)  # (batch, batch)
        others = tf.reduce_sum(similarity, axis=1) - tf.linalg.diag_part(similarity)
        return others / tf.cast(tf.maximum(batch - 1, 1), tf.float32)

    def get_config(self):
        """Returns `{"layer": layer name}`."""
        return {"layer": self.layer.name}
