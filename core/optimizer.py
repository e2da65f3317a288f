"""The Optimizer: keras-vis's gradient descent on the input, compiled for TF2 / Keras 3.

The pieces live beside it: argument checks in `validation`, seeds in
`seeds`, the probe model in `probe`, the compiled step in `steps`, the run
loop and the run record in `run`, callback dispatch in `callbacks`.
"""

import threading

import keras
import numpy as np
import tensorflow as tf

from . import grad_modifiers as grad_modifiers_lib
from . import loss_protocol
from .callbacks import CallbackList, OptimizerCallback, Print, unique_keys
from .compilation import XlaModelCall, intermediate_gradient_error, model_call
from .input_modifiers import InputModifier
from .losses import Loss
from .parameterizations import check_parameterization
from .probe import build_probe
from .run import LiveRun, RunReadOuts, check_finite, run_loop
from .seeds import make_seed
from .steps import KerasVisStep, ParameterizedStep, StepCache, StepSpec
from .utils import deprocess_input
from .validation import (
    check_bool,
    check_instances,
    check_int,
    check_keras_tensor,
    check_loss_key,
    check_losses,
    check_range,
    check_real,
    check_weight,
)

__all__ = ["Optimizer"]


class Optimizer(RunReadOuts):
    """Gradient descent on a model's input to minimize weighted losses (keras-vis).

    The optimizer builds, once, a probe model from `input_tensor` to every
    tensor its losses read (and to `wrt_tensor`), and runs each iteration of
    `minimize` as one compiled `tf.function`, traced once per input shape and
    modifier arrangement and reused by later calls.

    Differs from keras-vis:
        - every loss is built, also with a zero weight: weights live in
          `tf.Variable`s, so `set_weight` changes the objective at the next
          iteration, also while `minimize` runs on another thread, without
          retracing;
        - a seed of N samples runs N independent optimizations in one pass:
          each sample has its own loss, gradient normalisation and best
          input, and a weight may be given per sample (a sweep);
        - an all-NaN run returns the seed with a warning instead of crashing.

    The parameterized path (an opt-in, `parameterization=PixelImage()` or
    `FourierImage()`): the optimized variable is the parameterization's
    parameter `p`, the model sees `lo + (hi - lo) * to_image(p)` (after the
    input modifiers, which all run inside the gradient tape there), and the
    update is Adam with `learning_rate`, held in a `tf.Variable`
    (`opt.learning_rate = 0.1` during a run: no retrace). `minimize` then
    returns the LAST finite image, `lo + (hi - lo) * to_image(p)`, with no
    `deprocess_input`; a `seed_input` is an image inverted into `p`.
    `current_input`, `best_input`, `last_input` and a callback's `wrt_value`
    are images in input units on both paths (never the raw parameter), and
    a callback's `grads` is the gradient with respect to that image. Batches,
    per-sample weights, callbacks, `stop()` and `set_weight` work the same.

    Args:
        input_tensor: the model's symbolic input, `model.inputs[0]` (a
            `Sequential` model has `.input` only once built, while
            `model.inputs[0]` works whenever the model has an `Input`).
            Its data format is `keras.config.image_data_format()` when the
            optimizer is created.
        losses: a list of `(Loss, weight)` tuples; the objective is the sum
            of `weight * loss`. A weight is a number, None (0), or a 1-D
            sequence with one weight per sample.
        input_range: the `(min, max)` range of the input: used for the random
            seed and to de-process the returned image (not to clip).
        wrt_tensor: None (the input) or any other tensor of the graph: the
            gradients are then taken against it, its value is returned, and
            the input is not updated (as keras-vis).
        norm_grads: divide each sample's gradient by its own L2 norm (a zero
            gradient stays zero). With a parameterization: the image-space
            gradient, before it is pulled back to the parameter.
        parameterization: None (keras-vis's path) or a `Parameterization`
            (`PixelImage`, `FourierImage`).
        learning_rate: Adam's step size with a parameterization, a number
            > 0 (default 0.05); must be None without one.

    Raises:
        TypeError: for arguments of the wrong type (the message names them).
        ValueError: for an empty `losses`, a bad `input_range`, a tensor
            that is not connected to `input_tensor` (e.g. inside a nested
            sub-model, or one input of several), a `wrt_tensor` or a
            `learning_rate` that does not go with `parameterization`, a
            non-positive `learning_rate`, or a parameterization that cannot
            represent the input.

    Example:
        ```python
        from vis_widgets.core import ActivationMaximization, LPNorm, Optimizer, TotalVariation

        x = model.inputs[0]
        opt = Optimizer(x, [
            (ActivationMaximization(model.layers[-1], 3, pre_activation=True), 1.0),
            (LPNorm(x), 10.0),
            (TotalVariation(x), 10.0),
        ])
        img, grads, wrt_value = opt.minimize(max_iter=100, verbose=False)
        opt.set_weight("TV(2.0) Loss", 50.0)  # takes effect at the next iteration

        fourier = Optimizer(x, [(ActivationMaximization(model.layers[-1], 3), 1.0)],
                            parameterization=FourierImage(), learning_rate=0.05)
        img, _, _ = fourier.minimize(max_iter=256, input_modifiers=standard_transforms(32))
        ```
    """

    def __init__(
        self,
        input_tensor,
        losses,
        input_range=(0, 255),
        wrt_tensor=None,
        norm_grads=True,
        parameterization=None,
        learning_rate=None,
    ):
        check_keras_tensor(input_tensor, "input_tensor")
        pairs = check_losses(loss_protocol.adapt(losses, input_tensor), Loss)
        self.input_tensor = input_tensor
        self.input_range = check_range(input_range)
        self.norm_grads = check_bool(norm_grads, "norm_grads")
        self.data_format = keras.config.image_data_format()
        self.losses = [loss for loss, _ in pairs]
        self.loss_names = [loss.name for loss in self.losses]
        self.loss_keys = unique_keys(self.loss_names)
        self._weights = [
            tf.Variable(values, shape=tf.TensorShape([None]), trainable=False, name=f"weight_{k}")
            for k, (_, values) in enumerate(pairs)
        ]
        if wrt_tensor is not None:
            check_keras_tensor(wrt_tensor, "wrt_tensor")
        self.wrt_tensor = input_tensor if wrt_tensor is None else wrt_tensor
        self.wrt_is_input = self.wrt_tensor is input_tensor
        self.parameterization, rate = check_parameterization(
            parameterization, learning_rate, self.wrt_tensor, input_tensor, self.data_format
        )
        self._learning_rate = None
        if rate is not None:
            self._learning_rate = tf.Variable(rate, trainable=False, name="learning_rate")
        probe, slots, wrt_slot = build_probe(input_tensor, self.losses, self.wrt_tensor)
        probe = model_call(probe)  # XLA where this CPU cannot differentiate NCHW convolutions
        if isinstance(probe, XlaModelCall) and not self.wrt_is_input:
            raise intermediate_gradient_error("`wrt_tensor`")
        self._spec = StepSpec(
            probe=probe,
            slots=slots,
            wrt_slot=wrt_slot,
            losses=self.losses,
            weights=self._weights,
            wrt_is_input=self.wrt_is_input,
            norm_grads=self.norm_grads,
            input_range=tuple(float(v) for v in self.input_range),
            data_format=self.data_format,
            parameterization=self.parameterization,
            learning_rate=self._learning_rate,
            on_trace=self._count_trace,
        )
        self._steps = StepCache()
        self.trace_count = 0
        self._run_lock = threading.Lock()
        self._stop_event = None
        self._batch_size = None
        self._live = LiveRun(self.loss_keys)
        self.best_input = None
        self.last_input = None
        self.last_run = None

    def _count_trace(self):
        self.trace_count += 1

    @property
    def learning_rate(self):
        """Adam's step size on the parameterized path (a float; None on keras-vis's path).

        Setting it during a run takes effect at the next iteration, without
        retracing. Raises ValueError for a value <= 0, or without a
        parameterization.
        """
        return None if self._learning_rate is None else float(self._learning_rate.numpy())

    @learning_rate.setter
    def learning_rate(self, value):
        if self._learning_rate is None:
            raise ValueError(
                "`learning_rate` needs a `parameterization`: keras-vis's update has no step size."
            )
        self._learning_rate.assign(
            check_real(value, "learning_rate", min_value=0, min_inclusive=False)
        )

    # ----------------------------------------------------------------- weights
    def _loss_index(self, key):
        return check_loss_key(key, self.loss_names, self.loss_keys)

    def set_weight(self, key, value):
        """Sets a loss's weight; it takes effect at the next iteration, without retracing.

        Safe to call from another thread while `minimize` runs.

        Args:
            key: the loss's name (or its key in `loss_keys`) or its index.
            value: a number, None (0), or one number per sample.

        Raises:
            ValueError: for an unknown key, a non-finite value, or (while a
                run is going) a per-sample weight whose length is not the
                run's batch size.
            TypeError: for a value that is not a number or a 1-D sequence.
        """
        index = self._loss_index(key)
        values = check_weight(value, self.loss_names[index])
        batch = self._batch_size
        if batch is not None and values.size not in (1, batch):
            raise ValueError(
                f"The weight of loss '{self.loss_names[index]}' has {values.size} values but "
                f"the running batch has {batch} samples: give one number or {batch}."
            )
        self._weights[index].assign(values)

    def get_weight(self, key):
        """Returns a loss's weight: a float, or a numpy array with one value per sample."""
        values = self._weights[self._loss_index(key)].numpy()
        return float(values[0]) if values.size == 1 else values

    # ----------------------------------------------------------------- steps and seeds
    def _get_step(self, modifiers, grad_modifier):
        grad_fn = grad_modifiers_lib.get(grad_modifier)
        key = (tuple(m.trace_key() for m in modifiers), grad_fn)
        cls = KerasVisStep if self.parameterization is None else ParameterizedStep
        return self._steps.get(key, lambda: cls(self._spec, modifiers, grad_fn))

    def make_seed(self, seed_input=None, samples=None):
        """Returns the seed `minimize` would start from, as a new float32 array.

        Args:
            seed_input: None for a random seed drawn from numpy's global
                random state: keras-vis's (one sample of uniform noise with
                mean `(lo+hi)/2` and std `0.05*(hi-lo)`), or with a
                parameterization the image of a random parameter (a
                near-flat mid-grey). Or an array checked and converted as
                `minimize` does (a batch axis added when missing, a
                channels_last seed moved for a channels_first input).
            samples: None for any number of samples, or the number the seed
                must have (`samples=1`: exactly one, as a dashboard run).

        Returns:
            A float32 array `(samples,) + input_shape[1:]`.

        Raises:
            ValueError: for a shape that does not fit the input, or NaN / inf.
            TypeError: for a seed that is not numeric.
        """
        shape = tuple(self.input_tensor.shape)
        known = None not in shape[1:]  # else make_seed says a seed_input is needed
        if seed_input is None and self.parameterization is not None and known:
            seed_input = self.parameterization.random_image(samples or 1, self._spec.input_range)
        return make_seed(shape, self.input_range, seed_input, self.data_format, samples)

    # ----------------------------------------------------------------- run
    def stop(self):
        """Asks a running `minimize` (on any thread) to end after its current iteration.

        The run then calls every callback's `on_end` and returns its best
        result so far. Does nothing when no run is going.
        """
        event = self._stop_event
        if event is not None:
            event.set()

    @property
    def wrt_tensor_is_input_tensor(self):
        """keras-vis's name of `wrt_is_input` (read-only)."""
        return self.wrt_is_input

    @property
    def running(self):
        """True while `minimize` runs."""
        return self._run_lock.locked()

    def minimize(
        self,
        seed_input=None,
        max_iter=200,
        input_modifiers=None,
        grad_modifier=None,
        callbacks=None,
        verbose=True,
    ):
        """Runs gradient descent on the input to minimize the weighted losses.

        Each iteration:

        1. the `pre` of each input modifier, in list order;
        2. the forward and backward pass (inference mode);
        3. the per-sample gradient normalisation and `grad_modifier`;
        4. the update, only when wrt is the input: keras-vis's RMSProp,
           `cache = 0.95 cache + 0.05 g**2`, `x -= g / sqrt(cache + 1e-7)`,
           the cache reset at each call;
        5. the `post` of each modifier, in reverse order;
        6. the best input per sample (strict `<`, NaN never best);
        7. the callbacks, which see the gradients and the value they were
           taken against.

        Input modifiers that are `Transform`s run inside the gradient tape
        between step 1 and the model. With a parameterization, steps 1 and 5
        are replaced: every modifier runs inside the tape on the image
        `lo + (hi - lo) * to_image(p)` (`Transform.transform` or `pre`; no
        `post`), the image-space gradient is normalised and modified, pulled
        back to `p`, and Adam updates `p`; callbacks get the image (before
        the modifiers and the update) and its gradient.

        Args:
            seed_input: the starting input, `(samples, ...)` or one sample
                without the batch axis, in the optimizer's data format (a
                channels_last seed is moved for a channels_first input).
                None: one sample of uniform noise with mean `(lo+hi)/2` and
                std `0.05*(hi-lo)`. The caller's array is never modified.
            max_iter: the number of iterations, an int >= 1.
            input_modifiers: a list of `InputModifier`s, e.g. `[Jitter(0.05)]`.
            grad_modifier: None, a name (`absolute`, `negate`, `invert`,
                `relu`, `small_values`) or a callable on tensors.
            callbacks: a list of `OptimizerCallback`s (not modified).
            verbose: print keras-vis's line after each iteration (a `Print`
                added after the user's callbacks).

        Returns:
            `(img, grads, wrt_value)`: the best input de-processed into
            `input_range` with `deprocess_input`, each sample on its own
            (with a parameterization: the last finite image, as it is);
            without the batch axis for one sample, `(N, ...)` otherwise
            (`as_returned` does the same for any batch). Then the last
            iteration's gradients and wrt value (numpy, batch axis kept).

        Raises:
            ValueError: for a bad `seed_input`, `max_iter`, modifier name, or
                a per-sample weight whose length is not the batch size.
            TypeError: for arguments of the wrong type.
            RuntimeError: if this optimizer is already running.
        """
        # keras-vis's contract: every bad max_iter (a float, a bool) is a ValueError.
        max_iter = check_int(max_iter, "max_iter", min_value=1, type_error=ValueError)
        modifiers = check_instances(input_modifiers, InputModifier, "input_modifiers")
        callbacks = check_instances(callbacks, OptimizerCallback, "callbacks")
        if not isinstance(verbose, (bool, int, np.bool_)):
            raise TypeError(f"`verbose` must be True or False. Received: {verbose!r}")
        if verbose:
            callbacks = [*callbacks, Print()]
        if not self._run_lock.acquire(blocking=False):
            raise RuntimeError("This Optimizer is already running `minimize` on another thread.")
        try:
            self._stop_event = threading.Event()
            self._live = LiveRun(self.loss_keys)
            seed = self.make_seed(seed_input)
            self._batch_size = batch = seed.shape[0]
            for name, weight in zip(self.loss_names, self._weights):
                if int(tf.size(weight)) not in (1, batch):
                    raise ValueError(
                        f"The weight of loss '{name}' has {int(tf.size(weight))} values but "
                        f"`seed_input` has {batch} samples: give one number or {batch}."
                    )
            for modifier in modifiers:
                modifier.build(seed.shape, self.data_format)
            step = self._get_step(modifiers, grad_modifier)
            with step.standing_in(modifiers) as variables:
                return self._execute(step, seed, max_iter, variables, CallbackList(callbacks))
        finally:
            self._stop_event = None
            self._batch_size = None
            self._run_lock.release()

    def _execute(self, step, seed, max_iter, variables, callbacks):
        live = self._live
        live.step, live.state = step, step.initial_state(seed)
        params = {"max_iter": max_iter, "batch_size": seed.shape[0]}
        grads = wrt_value = error = None
        try:
            callbacks.begin(self, params)
            grads, wrt_value = run_loop(
                live, step, max_iter, variables, callbacks, self.loss_names, self._stop_event
            )
            # before on_end, so callbacks can show the warnings
            what = "the best input" if self.parameterization is None else "the last image"
            check_finite(live, step.best_loss(live.state).numpy(), live.current_numpy(), what)
        except BaseException as err:
            error = err
            raise
        finally:
            self.last_input = live.current_numpy()
            self.best_input = step.best(live.state).numpy()
            images = self.as_returned(step.returned(live.state).numpy())
            stopped = self._stop_event.is_set() and live.iterations < max_iter
            self.last_run = live.result(
                images, self.best_input, self.last_input, max_iter, stopped, error
            )
            callbacks.end(run_failed=error is not None)
        img = images[0] if images.shape[0] == 1 else images
        return img, grads.numpy(), wrt_value.numpy()

    # ----------------------------------------------------------------- read-outs
    def as_returned(self, batch):
        """Returns what `minimize` returns as its image for a batch of inputs, batch axis kept.

        On the keras-vis path each sample is de-processed on its own with
        `deprocess_input` into `input_range`; with a parameterization the
        images are returned as they are (a copy).

        Args:
            batch: inputs in input units, `(N, ...)` (e.g. `best_input`).

        Returns:
            A new float32 array of the same shape.
        """
        batch = np.asarray(batch, np.float32)
        if batch.ndim == len(self.input_tensor.shape) - 1:
            batch = batch[None]
        if self.parameterization is not None:
            return batch.copy()
        return np.stack([deprocess_input(s, self.input_range) for s in batch])

    def __repr__(self):
        weights = [self.get_weight(k) for k in range(len(self.losses))]
        extra = ""
        if self.parameterization is not None:
            extra = f", parameterization={self.parameterization!r}, lr={self.learning_rate!r}"
        return (
            f"Optimizer(losses={list(zip(self.loss_names, weights))}, "
            f"input_range={self.input_range}, wrt_is_input={self.wrt_is_input}, "
            f"norm_grads={self.norm_grads}{extra})"
        )
