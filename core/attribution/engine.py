"""The attribution engine: one object per model, one compiled function per kind of map.

`Attributor` holds the public calls, their caches and the lock. What it
reads of the model is resolved in `resolve` (the target, the CAM and wrt
layers), the model is rebuilt and probed in `probes`, each kind of map is
traced in `compiled` (from the pieces in `methods`), and the arguments are
checked in `checks`.
"""

import functools
import threading
import warnings
import weakref

import keras
import numpy as np
import tensorflow as tf

from .. import backprop_modifiers as bm
from .. import grad_modifiers
from ..compilation import needs_xla
from . import checks, compiled, resolve
from . import graph as graph_lib

__all__ = ["Attributor"]

DEFAULT = "default"  # grad_modifier: 'absolute' for gradient maps, None for CAMs


def _serialized(method):
    """Runs `method` under the engine's lock (calls from several threads queue up)."""

    @functools.wraps(method)
    def locked(self, *args, **kwargs):
        with self._lock:
            return method(self, *args, **kwargs)

    return locked


class Attributor:
    """Saliency maps and class activation maps of a model, compiled and batched.

    One compiled function is traced per (method, layer, backprop modifier,
    output options) the first time it is used, and then reused: the
    images, the target classes and every number (SmoothGrad's noise and
    samples, the integrated-gradients steps and baseline, Faster-Score-CAM's
    `max_n`) are inputs of that function, so changing them never retraces
    (see `trace_count`), and any batch size runs through the same trace.

    Each sample of a batch gets its own map, normalized on its own and with
    its own target (one class per sample is allowed). Targets are read
    before the softmax when the target layer ends in one (the softmax trap:
    a probability also rises when the other classes fall), without changing
    the model. The model is never modified: the engine calls the model's own
    layers on a new input (guided backprop wraps them), so it follows the
    model's weights when they are trained further.

    Args:
        model: a single-input Functional or Sequential Keras model.
        output_layer: the layer whose output the maps explain: None (the
            layer that produces the model's output), an index into
            `model.layers`, a name (nested models are searched) or a layer.
        pre_activation: read the target layer before its activation:
            `"auto"` (when it ends in a softmax), True or False.
        data_format: the input's data format; None reads
            `keras.config.image_data_format()` when the engine is created.
        batch_size: the rows per chunk of the batched passes (noisy copies,
            interpolation steps, Score-CAM's masked inputs).
        seed: seeds SmoothGrad's noise (None: non-deterministic).

    Attributes:
        methods: the method names `attribute` accepts.
        cam_methods: those that read a feature map (they take `layer`).
        target: the `LayerChoice` of the explained layer (`name`, `shape`...).
        num_classes: its number of outputs (channels).
        pre_activation: whether the target is read before its activation.
        trace_count: how many functions were traced so far (one per kind of
            map used; it never grows with calls of a kind already used).
        last: a dict about the latest call: `method`, `targets` (the class
            of each sample, e.g. the top classes chosen for `targets=None`),
            `layer` (the CAM's `LayerChoice`) and `backprop_modifier`.
        last_warnings: the warnings of the latest call (a UI can show them).

    Calls are serialized per engine (a lock), so a UI may call it from a
    worker thread; `last` then describes the call that finished last.

    Example:
        ```python
        from vis_widgets.core.attribution import Attributor
        from vis_widgets.demo import load_demo_model, load_split

        model = load_demo_model()
        _, (x_test, y_test) = load_split()
        images = x_test[:4]  # held-out digits, (4, 16, 16, 1) in 0..255
        attributor = Attributor(model)
        classes, probabilities = attributor.top_k(images, k=3)
        maps = attributor.attribute(images, classes[:, 0], method="gradcam")  # (4, 16, 16)
        smooth = attributor.attribute(images, 3, method="smoothgrad", samples=32, noise=0.1)
        attributor.cam_layer()  # the feature map Grad-CAM reads
        ```
    """

    methods = tuple(checks.METHODS)
    cam_methods = checks.CAM_METHODS

    @staticmethod
    def parameters(method):
        """Returns a method's own parameters and their defaults, e.g. for UI controls.

        Example:
            >>> Attributor.parameters("smoothgrad")
            {'samples': 16, 'noise': 0.2}
        """
        return dict(checks.METHODS[checks.method(method)])

    def __init__(
        self,
        model,
        output_layer=None,
        pre_activation="auto",
        data_format=None,
        batch_size=32,
        seed=None,
        _weak=False,
    ):
        if not isinstance(model, keras.Model):
            raise TypeError(f"`model` must be a Keras model. Received: model={model!r}")
        self._model = weakref.ref(model) if _weak else (lambda: model)
        self.input_shape = tuple(graph_lib.model_input(model).shape)
        self._rebuilds, self._functions, self._cam_layers = {}, {}, {}
        resolve.target(self, model, output_layer, pre_activation)
        self.data_format = data_format or keras.config.image_data_format()
        self.input_axis = compiled.axis(self.data_format, len(self.input_shape))
        self.target_axis = compiled.axis(self.target.data_format, len(self.target.shape))
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size < 1:
            raise ValueError(f"`batch_size` must be an int >= 1. Received: {batch_size!r}")
        self.batch_size = batch_size
        self._xla = needs_xla(model)  # channels_first on a CPU without NCHW gradients
        self._rng = (
            tf.random.Generator.from_non_deterministic_state()
            if seed is None
            else tf.random.Generator.from_seed(seed)
        )
        self.trace_count = 0
        self._lock = threading.RLock()
        self.last = None
        self.last_warnings = []

    @property
    def model(self):
        """The model the maps explain."""
        model = self._model()
        if model is None:
            raise RuntimeError("The model of this Attributor was deleted.")
        return model

    # ----------------------------------------------------------------- layers
    def cam_layer(self, layer=None):
        """Returns the `LayerChoice` a class activation map reads.

        Args:
            layer: None (the Grad-CAM rule: the input of the head's global
                pooling or flatten, see `layers.find_cam_layer`), an index
                into `model.layers`, a layer name, a layer, or a KerasTensor.

        Raises:
            ValueError: for a layer without spatial extent, one the target
                does not depend on, or an unknown name or index.
        """
        key = layer if isinstance(layer, (type(None), int, str)) else id(layer)
        with self._lock:
            return self._cam_layers.get(key) or resolve.cam_layer(self, key, layer)

    # ----------------------------------------------------------------- public calls
    @_serialized
    def attribute(
        self,
        images,
        targets=None,
        method="saliency",
        layer=None,
        backprop_modifier=None,
        grad_modifier=DEFAULT,
        keepdims=False,
        normalize=True,
        upsample=True,
        raw=False,
        wrt_layer=None,
        **method_params,
    ):
        """Returns one attribution map per image.

        Methods (`methods` lists them): `saliency` (the input gradient,
        Simonyan et al.), `smoothgrad` (the mean over `samples` noisy copies,
        noise std = `noise` x each image's value range; Smilkov et al.),
        `squaregrad` / `vargrad` (the mean square / variance of those
        gradients), `integrated_gradients` (`steps`-point midpoint rule from
        `baseline`, default zeros; Sundararajan et al.), `input_x_gradient`;
        the class activation maps `gradcam`, `gradcam++`, `layercam`,
        `scorecam`, `faster_scorecam` (the `max_n` channels of largest
        spatial std), and `guided_gradcam` (guided-backprop saliency times
        the upsampled Grad-CAM, as in Selvaraju et al.).

        Args:
            images: one input sample or a batch `(N, ...)` of the model's
                input shape (uint8 is fine).
            targets: None (each sample's top class), a class index, one
                index per sample, or an `(N, C)` float array of class weights.
            method: a name from `methods`.
            layer: the feature map of the class activation maps (see
                `cam_layer`); only for those methods.
            backprop_modifier: None, `'guided'`, `'rectified'` (`'relu'`,
                `'deconv'`) or a callable `model -> model`, applied to the
                gradients the method takes (as keras-vis; not Score-CAM's).
            grad_modifier: applied to the attribution (gradient maps) or to
                the feature-map gradient (CAMs): a `grad_modifiers` name, a
                callable or None; default `'absolute'` for gradient maps,
                None for CAMs.
            keepdims: keep the input's channel axis (gradient maps); else
                the max over channels, as keras-vis.
            normalize: min-max normalize each map into [0, 1].
            upsample: resize CAMs to the input's spatial size (bilinear).
            raw: return the signed, unnormalized map: the gradient
                attribution with its channels and no modifier, or the CAM
                before its ReLU.
            wrt_layer: `saliency` only: take the gradient with respect to this
                layer's output instead of the input (keras-vis's `wrt_tensor`).
            **method_params: `samples`, `noise` (SmoothGrad family), `steps`,
                `baseline` (integrated gradients), `max_n` (Faster-Score-CAM).

        Returns:
            A float32 numpy array: `(N, H, W)` maps for a batch of `(N, H, W,
            C)` images (with `keepdims`, the input's shape; a rank-2 `(N, F)`
            input keeps its features), without the batch axis for one
            unbatched sample. `last` tells the classes used.

        Raises:
            ValueError: for an unknown method or modifier, bad images,
                classes out of range, or an unusable layer.
            TypeError: for arguments of the wrong type or unknown parameters.
        """
        method = checks.method(method)
        params = checks.params(method, method_params)
        modifier = bm.canonical(backprop_modifier)
        checks.combination(method, backprop_modifier, layer, wrt_layer)
        cam = self.cam_layer(layer) if method in checks.CAM_METHODS else None
        wrt = resolve.wrt_layer(self, wrt_layer)
        if grad_modifier == DEFAULT:
            cam_like = method in checks.CAM_METHODS and method != "guided_gradcam"
            grad_modifier = None if cam_like else "absolute"
        options = (
            ("grad_modifier", grad_modifiers.get(grad_modifier)),
            ("keepdims", bool(keepdims)),
            ("normalize", bool(normalize)),
            ("upsample", bool(upsample)),
            ("raw", bool(raw)),
        )
        x, unbatched = checks.images(images, self.input_shape)
        weights, auto = checks.targets(targets, x.shape[0], self.num_classes, self.target.name)
        if "max_n" in params:  # at most every channel
            params["max_n"] = min(params["max_n"], resolve.channels(cam))
        numbers, baseline = checks.traced_numbers(method, params, x)
        fn = compiled.function(self, method, modifier, cam, wrt, options)
        out, used, flags = fn(
            tf.constant(x),
            tf.constant(weights),
            tf.constant(auto),
            tf.constant(numbers, tf.float32),
            tf.constant(baseline),
        )
        out, used, flags = out.numpy(), used.numpy(), flags.numpy()
        self.last_warnings = []
        if np.any(flags) and method in checks.CAM_METHODS:
            self._warn(
                f"The {method} map of sample(s) {np.flatnonzero(flags).tolist()} is all "
                f"non-positive at '{cam.name}' (no positive evidence for the target): "
                "returned as zeros."
            )
        one_hot = auto or np.asarray(targets).dtype.kind in "iu"
        self.last = {
            "method": method,
            "targets": used.argmax(axis=-1) if one_hot else used,
            "layer": cam,
            "backprop_modifier": modifier,
        }
        return out[0] if unbatched else out

    def _warn(self, message):
        self.last_warnings.append(message)
        warnings.warn(message, RuntimeWarning, stacklevel=4)

    def top_k(self, images, k=5):
        """Returns the `k` best classes of each image and their probabilities.

        The probabilities are the softmax of the target (the model's own
        probabilities for a softmax model; a linear-logits model gets them
        too); a target with another activation returns its values as is.

        Args:
            images: one sample or a batch.
            k: how many classes (at most the target's number of outputs:
                a larger k gives them all).

        Returns:
            `(indices, probabilities)`: int and float32 arrays `(N, k)`
            (`(k,)` for one unbatched sample), best first.
        """
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise ValueError(f"`k` must be an int >= 1. Received: k={k!r}")
        k = min(k, self.num_classes)
        x, unbatched = checks.images(images, self.input_shape)
        with self._lock:
            values = compiled.top_k_scores(self, x)
        indices = np.argsort(-values, axis=-1, kind="stable")[:, :k]
        probabilities = np.take_along_axis(values, indices, axis=-1)
        return (indices[0], probabilities[0]) if unbatched else (indices, probabilities)
