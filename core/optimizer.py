"""The Optimizer: keras-vis's gradient descent on the input, compiled for TF2 / Keras 3."""

import numbers
import threading
import warnings

import keras
import numpy as np
import tensorflow as tf

from . import grad_modifiers as grad_modifiers_lib
from . import loss_protocol
from .callbacks import OptimizerCallback, Print, unique_keys
from .input_modifiers import InputModifier
from .losses import Loss, check_keras_tensor
from .utils import check_range, deprocess_input

DECAY = 0.95
EPSILON = 1e-7


def _weight_values(weight, loss_name):
    """Returns a loss weight as a non-empty 1-D float32 array (None means 0)."""
    if weight is None:
        return np.zeros([1], np.float32)
    if isinstance(weight, numbers.Real) and not isinstance(weight, (bool, np.bool_)):
        values = np.array([weight], np.float32)
    elif isinstance(weight, (list, tuple, np.ndarray, tf.Tensor)):
        values = np.asarray(weight)
        if values.ndim == 0:
            values = values.reshape([1])
        if values.ndim != 1 or values.size == 0 or values.dtype.kind not in "iuf":
            raise TypeError(
                f"The weight of loss '{loss_name}' must be a number, None, or a non-empty 1-D "
                f"sequence of numbers (one per sample). Received: weight={weight!r}"
            )
        values = values.astype(np.float32)
    else:
        raise TypeError(
            f"The weight of loss '{loss_name}' must be a number, None, or a 1-D sequence of "
            f"numbers (one per sample). Received: weight={weight!r}"
        )
    if not np.all(np.isfinite(values)):
        raise ValueError(
            f"The weight of loss '{loss_name}' must be finite. Received: weight={weight!r}"
        )
    return values


def _check_losses(losses):
    if isinstance(losses, (Loss, str)) or not isinstance(losses, (list, tuple)):
        raise TypeError(f"`losses` must be a list of (Loss, weight) tuples. Received: {losses!r}")
    if not losses:
        raise ValueError("`losses` must hold at least one (Loss, weight) tuple. Received: []")
    pairs = []
    for item in losses:
        if not (isinstance(item, (list, tuple)) and len(item) == 2 and isinstance(item[0], Loss)):
            raise TypeError(
                f"Each item of `losses` must be a (Loss, weight) tuple. Received: {item!r}"
            )
        pairs.append((item[0], _weight_values(item[1], item[0].name)))
    return pairs


def _check_max_iter(max_iter):
    if isinstance(max_iter, bool) or not isinstance(max_iter, numbers.Integral) or max_iter < 1:
        raise ValueError(f"`max_iter` must be an int >= 1. Received: max_iter={max_iter!r}")
    return int(max_iter)


def _check_items(items, cls, name):
    if items is None:
        return []
    if isinstance(items, cls):
        items = [items]
    if not isinstance(items, (list, tuple)):
        raise TypeError(
            f"`{name}` must be a list of {cls.__name__} instances. Received: {name}={items!r}"
        )
    for item in items:
        if not isinstance(item, cls):
            raise TypeError(
                f"Each item of `{name}` must be a {cls.__name__} instance. Received: {item!r}"
            )
    return list(items)


class _Step:
    """One compiled step for one arrangement of input modifiers and gradient modifier."""

    def __init__(self, function, modifiers):
        self.function = function
        self.modifiers = modifiers


class Optimizer:
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
            gradient stays zero).

    Raises:
        TypeError: for arguments of the wrong type (the message names them).
        ValueError: for an empty `losses`, a bad `input_range`, or a tensor
            that is not connected to `input_tensor` (e.g. inside a nested
            sub-model, or one input of several).

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
        ```
    """

    def __init__(
        self, input_tensor, losses, input_range=(0, 255), wrt_tensor=None, norm_grads=True
    ):
        check_keras_tensor(input_tensor, "input_tensor")
        pairs = _check_losses(loss_protocol.adapt(losses, input_tensor))
        if not isinstance(norm_grads, (bool, np.bool_)):
            raise TypeError(f"`norm_grads` must be a bool. Received: norm_grads={norm_grads!r}")
        self.input_tensor = input_tensor
        self.input_range = check_range(input_range)
        self.norm_grads = bool(norm_grads)
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
        self._probe, self._slots, self._wrt_slot = self._build_probe()
        self._steps = {}
        self.trace_count = 0
        self._run_lock = threading.Lock()
        self._stop_event = None
        self._batch_size = None
        self._stats = None
        self._stats_np = None
        self.best_input = None
        self.last_input = None
        self.iterations = 0
        self.run_warnings = []
        self._current = None

    # ----------------------------------------------------------------- graph
    def _build_probe(self):
        """Builds the probe model; returns it, each loss's output slot and wrt's slot."""
        outputs, slot_of = [], {}

        def slot(tensor):
            if tensor is self.input_tensor:
                return None
            if id(tensor) not in slot_of:
                slot_of[id(tensor)] = len(outputs)
                outputs.append(tensor)
            return slot_of[id(tensor)]

        slots = [slot(loss.tensor) for loss in self.losses]
        wrt_slot = slot(self.wrt_tensor)
        if not outputs:
            return None, slots, wrt_slot
        try:
            probe = keras.Model(self.input_tensor, outputs, name="vis_widgets_probe")
        except ValueError:
            self._raise_disconnected(outputs)
            raise
        return probe, slots, wrt_slot

    def _raise_disconnected(self, outputs):
        """Names the first tensor that cannot be reached from the input."""
        readers = {id(loss.tensor): f"loss '{loss.name}'" for loss in self.losses}
        readers.setdefault(id(self.wrt_tensor), "`wrt_tensor`")
        for tensor in outputs:
            try:
                keras.Model(self.input_tensor, tensor)
            except ValueError:
                raise ValueError(
                    f"The tensor {tensor.name!r} read by {readers[id(tensor)]} is not connected "
                    f"to `input_tensor` ({self.input_tensor.name!r}). It may belong to a nested "
                    "sub-model (use that sub-model's `inputs[0]` as `input_tensor` and its own "
                    "layers), to another model (a layer called in several models reports its "
                    "first call as `.output`), or to a model with several inputs (only "
                    "single-input models are supported)."
                ) from None

    # ----------------------------------------------------------------- weights
    def _loss_index(self, key):
        if isinstance(key, numbers.Integral) and not isinstance(key, bool):
            if not -len(self.losses) <= key < len(self.losses):
                raise ValueError(
                    f"`key` must be a loss index in [0, {len(self.losses)}). Received: key={key}"
                )
            return int(key) % len(self.losses)
        if isinstance(key, str):
            if self.loss_names.count(key) > 1:
                raise ValueError(
                    f"Several losses are named {key!r}: pass the loss's index instead, or one "
                    f"of {self.loss_keys}."
                )
            for names in (self.loss_names, self.loss_keys):
                if key in names:
                    return names.index(key)
        raise ValueError(
            f"`key` must be a loss name among {self.loss_keys} or an index. Received: key={key!r}"
        )

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
        values = _weight_values(value, self.loss_names[index])
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

    # ----------------------------------------------------------------- compiled step
    def _get_step(self, modifiers, grad_modifier):
        grad_fn = grad_modifiers_lib.get(grad_modifier)
        key = (tuple(m.trace_key() for m in modifiers), grad_fn)
        if key not in self._steps:
            self._steps[key] = _Step(self._make_step(list(modifiers), grad_fn), list(modifiers))
        return self._steps[key]

    def _make_step(self, modifiers, grad_fn):
        probe, slots, wrt_slot = self._probe, self._slots, self._wrt_slot
        losses, weights = self.losses, self._weights
        wrt_is_input, norm_grads = self.wrt_is_input, self.norm_grads

        traced_variables = [v for modifier in modifiers for v in modifier.variables]

        def step(x, cache, best_x, best_loss, given_variables):
            self.trace_count += 1  # runs only while tracing
            for traced, given in zip(traced_variables, given_variables):
                traced.assign(given)  # a no-op when the given modifier is the traced one
            x_pre = x
            for modifier in modifiers:
                x_pre = modifier.pre(x_pre)
            batch = tf.shape(x_pre)[0]
            with tf.GradientTape() as tape:
                tape.watch(x_pre)
                outputs = probe(x_pre, training=False) if probe is not None else []
                outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
                values = [x_pre if s is None else outputs[s] for s in slots]
                raw = tf.stack([_per_sample(loss, v) for loss, v in zip(losses, values)])
                weighted = tf.stack([tf.broadcast_to(w, [batch]) for w in weights]) * raw
                overall = tf.reduce_sum(weighted, axis=0)
                total = tf.reduce_sum(overall)
            wrt_value = x_pre if wrt_is_input else outputs[wrt_slot]
            grads = tape.gradient(total, wrt_value)
            if grads is None:
                raise ValueError(
                    "The losses do not depend on `wrt_tensor`: pick a tensor between the "
                    "input and the layers the losses read."
                )
            if norm_grads:
                grads = tf.nn.l2_normalize(grads, axis=list(range(1, grads.shape.rank)))
            if grad_fn is not None:
                grads = grad_fn(grads)
            x_new = x_pre
            if wrt_is_input:
                cache = DECAY * cache + (1.0 - DECAY) * tf.square(grads)
                x_new = x_pre - grads / tf.sqrt(cache + EPSILON)
            for modifier in reversed(modifiers):
                x_new = modifier.post(x_new)
            # The best input is the updated one (keras-vis): both it and its loss must be
            # finite, so a NaN never becomes the result.
            finite_x = tf.reduce_all(tf.math.is_finite(tf.reshape(x_new, [batch, -1])), axis=1)
            better = tf.math.is_finite(overall) & finite_x & (overall < best_loss)
            mask = tf.reshape(better, tf.concat([[batch], tf.ones_like(tf.shape(x)[1:])], 0))
            best_x = tf.where(mask, x_new, best_x)
            best_loss = tf.where(better, overall, best_loss)
            stats = tf.concat([raw, weighted, overall[None]], axis=0)
            return x_new, cache, best_x, best_loss, stats, grads, wrt_value

        return tf.function(step, autograph=False)

    # ----------------------------------------------------------------- seed
    def make_seed(self, seed_input=None):
        """Returns the seed `minimize` would start from, as a new float32 array.

        Args:
            seed_input: None for keras-vis's random seed (one sample of uniform
                noise with mean `(lo+hi)/2` and std `0.05*(hi-lo)`, drawn from
                numpy's global random state), or an array checked and
                converted as `minimize` does (a batch axis added when missing,
                a channels_last seed moved for a channels_first input).

        Returns:
            A float32 array `(samples,) + input_shape[1:]`.

        Raises:
            ValueError: for a shape that does not fit the input, or NaN / inf.
            TypeError: for a seed that is not numeric.
        """
        return self._get_seed_input(seed_input)

    def _get_seed_input(self, seed_input):
        """Returns the seed as a new float32 array with a batch axis (keras-vis rules)."""
        desired = (1, *tuple(self.input_tensor.shape[1:]))
        if seed_input is None:
            if any(d is None for d in desired):
                raise ValueError(
                    f"The input's shape {tuple(self.input_tensor.shape)} has unknown dimensions: "
                    "pass a `seed_input` of the size to optimize."
                )
            lo, hi = (float(v) for v in self.input_range)
            x = np.random.random(desired)
            x = (x - x.mean()) / (x.std() + EPSILON)
            return (x * 0.05 * (hi - lo) + (lo + hi) / 2).astype(np.float32)
        try:
            seed = np.array(seed_input, dtype=np.float32)  # always a copy
        except (TypeError, ValueError):
            raise TypeError(
                f"`seed_input` must be a numeric array. Received: {type(seed_input).__name__}"
            ) from None
        if seed.ndim == len(desired) - 1:
            seed = seed[None]

        def fits(arr):
            return arr.ndim == len(desired) and all(
                d is None or d == s for d, s in zip(desired[1:], arr.shape[1:])
            )

        if not fits(seed) and self.data_format == "channels_first" and seed.ndim >= 3:
            moved = np.moveaxis(seed, -1, 1)
            seed = moved if fits(moved) else seed
        if not fits(seed) or seed.shape[0] < 1:
            raise ValueError(
                f"`seed_input` must have the input's shape {desired[1:]}, with or without a "
                f"batch axis. Received: seed_input with shape {np.shape(seed_input)}"
            )
        if not np.all(np.isfinite(seed)):
            raise ValueError("`seed_input` must be finite. Received: an array with NaN or inf")
        return np.ascontiguousarray(seed)

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

        Each iteration: the `pre` of each input modifier in list order; the
        forward and backward pass (inference mode); the gradient
        normalisation and `grad_modifier`; the update (keras-vis's RMSProp,
        `cache = 0.95 cache + 0.05 g**2`, `x -= g / sqrt(cache + 1e-7)`, the
        cache reset at each call; only when wrt is the input); the `post` of
        each modifier in reverse order; the best input per sample (strict
        `<`, NaN never best); then the callbacks, which see the gradients and
        the value they were taken against.

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
            (without the batch axis for one sample, `(N, ...)` otherwise),
            and the last iteration's gradients and wrt value (numpy, batch
            axis kept).

        Raises:
            ValueError: for a bad `seed_input`, `max_iter`, modifier name, or
                a per-sample weight whose length is not the batch size.
            TypeError: for arguments of the wrong type.
            RuntimeError: if this optimizer is already running.
        """
        max_iter = _check_max_iter(max_iter)
        modifiers = _check_items(input_modifiers, InputModifier, "input_modifiers")
        callbacks = _check_items(callbacks, OptimizerCallback, "callbacks")
        if not isinstance(verbose, (bool, int, np.bool_)):
            raise TypeError(f"`verbose` must be True or False. Received: {verbose!r}")
        if verbose:
            callbacks = [*callbacks, Print()]
        if not self._run_lock.acquire(blocking=False):
            raise RuntimeError("This Optimizer is already running `minimize` on another thread.")
        try:
            self._stop_event = threading.Event()
            self.run_warnings = []
            seed = self._get_seed_input(seed_input)
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
            pairs = [(t, g) for t, g in zip(step.modifiers, modifiers) if t is not g]
            for traced, given in pairs:
                traced.load_state(given)
            try:
                variables = tuple(v for modifier in modifiers for v in modifier.variables)
                return self._run(step.function, seed, max_iter, variables, callbacks)
            finally:
                for traced, given in pairs:
                    given.load_state(traced)
        finally:
            self._stop_event = None
            self._batch_size = None
            self._run_lock.release()

    def _run(self, step, seed, max_iter, variables, callbacks):
        x = self._current = tf.constant(seed)
        cache = tf.zeros_like(x)
        best_x = x
        best_loss = tf.fill([seed.shape[0]], np.float32(np.inf))
        grads = wrt_value = None
        self.iterations = 0
        self.run_warnings = []
        params = {"max_iter": max_iter, "batch_size": seed.shape[0]}
        failed = True
        try:
            for c in callbacks:
                c.set_optimizer(self, params)
                c.on_begin()
            # The concrete function for these shapes (traced at most once, as the first
            # call would): calling it directly skips tf.function's per-call argument
            # matching, ~0.5 ms per iteration, which dominates on small models.
            step = step.get_concrete_function(x, cache, best_x, best_loss, variables)
            for i in range(max_iter):
                x, cache, best_x, best_loss, self._stats, grads, wrt_value = step(
                    x, cache, best_x, best_loss, variables
                )
                self._current, self._stats_np = x, None
                self.iterations = i + 1
                if callbacks:
                    self._call_callbacks(callbacks, i, grads.numpy(), wrt_value.numpy())
                if self._stop_event.is_set():
                    break
            self._check_finite(best_loss.numpy(), x)  # before on_end, so callbacks can show it
            failed = False
        finally:
            self.last_input = x.numpy()
            self.best_input = best_x.numpy()
            self._end_callbacks(callbacks, raise_error=not failed)
        images = np.stack([deprocess_input(s, self.input_range) for s in self.best_input])
        img = images[0] if images.shape[0] == 1 else images
        return img, grads.numpy(), wrt_value.numpy()

    def _call_callbacks(self, callbacks, i, grads, wrt_value):
        means = self._stats_numpy().mean(axis=1).tolist()  # one numpy call for every row
        n = len(self.losses)
        named = list(zip(self.loss_names, means[n : 2 * n]))
        overall = means[-1]
        for c in callbacks:
            c.callback(i, named, overall, grads, wrt_value)

    @staticmethod
    def _end_callbacks(callbacks, raise_error):
        """Calls every `on_end`, even if one raises.

        The first error is re-raised when the run itself succeeded; when the
        run failed, its own error wins and on_end errors become warnings.
        """
        error = None
        for c in callbacks:
            try:
                c.on_end()
            except Exception as err:
                error = error or err
                if not raise_error:
                    warnings.warn(f"{type(c).__name__}.on_end failed: {err!r}", stacklevel=4)
        if error is not None and raise_error:
            raise error

    def _check_finite(self, best_loss, last_x):
        """Warns (and records in `run_warnings`) when losses or inputs were NaN or inf."""
        never = np.flatnonzero(~np.isfinite(best_loss))
        if never.size:
            self._warn(
                f"The loss of sample(s) {never.tolist()} was never finite together with its "
                "updated input (NaN or inf at every iteration): returning their seed input."
            )
        last_ok = np.all(np.isfinite(self._stats_numpy()[-1])) and np.all(
            np.isfinite(last_x.numpy())
        )
        if not last_ok and never.size < best_loss.size:
            self._warn(
                f"The loss or the input became NaN or inf within {self.iterations} "
                "iterations: returning the best input among the iterations whose loss and "
                "updated input were finite."
            )

    def _warn(self, message):
        """Warns, and keeps the message in `run_warnings` (a UI thread can show it)."""
        self.run_warnings.append(message)
        warnings.warn(message, RuntimeWarning, stacklevel=5)

    # ----------------------------------------------------------------- read-outs
    @property
    def current_input(self):
        """The input state after the latest iteration (update and `post` applied), numpy.

        Unlike a callback's `wrt_value` it is not jittered, so it is what a
        live view should show; `None` before the first run.
        """
        current = getattr(self, "_current", None)
        return None if current is None else current.numpy()

    def _stats_numpy(self):
        if self._stats_np is None and self._stats is not None:
            self._stats_np = self._stats.numpy()
        return self._stats_np

    def _per_sample(self, rows):
        stats = self._stats_numpy()
        if stats is None:
            return {}
        block = stats[rows * len(self.losses) : (rows + 1) * len(self.losses)]
        return {key: block[k].copy() for k, key in enumerate(self.loss_keys)}

    @property
    def per_sample_losses(self):
        """The latest iteration's weighted loss values: `{loss key: array of N}`."""
        return self._per_sample(1)

    @property
    def per_sample_raw_losses(self):
        """The latest iteration's unweighted loss values: `{loss key: array of N}`."""
        return self._per_sample(0)

    @property
    def per_sample_overall_loss(self):
        """The latest iteration's overall loss of each sample, an array of N (or None)."""
        stats = self._stats_numpy()
        return None if stats is None else stats[-1].copy()

    def __repr__(self):
        weights = [self.get_weight(k) for k in range(len(self.losses))]
        return (
            f"Optimizer(losses={list(zip(self.loss_names, weights))}, "
            f"input_range={self.input_range}, wrt_is_input={self.wrt_is_input}, "
            f"norm_grads={self.norm_grads})"
        )


def _per_sample(loss, value):
    """Calls `loss` and checks it returned one float per sample."""
    result = loss.call(value)
    if result.shape.rank != 1:
        raise ValueError(
            f"Loss '{loss.name}' must return one value per sample, shape (batch,). "
            f"Received shape: {result.shape}"
        )
    return tf.cast(result, tf.float32)
