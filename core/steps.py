"""The compiled steps: one iteration of `minimize` as a `tf.function`, for each path.

`KerasVisStep` is keras-vis's iteration on the input itself (RMSProp with no
step size); `ParameterizedStep` optimizes a parameterization's parameter with
Adam while the model sees the image it represents. Both share the forward
pass (`evaluate`), the gradient processing and the best-input bookkeeping,
and both thread their whole state through the step as tensors (nothing
stateful but the tunable variables), so one trace serves every call.

A step object holds the `tf.function`, the modifier instances it was traced
with, and knows its state: `initial_state(seed)`, and which part of the
state is the current input, the best input and the returned one.
"""

import contextlib
import dataclasses
from collections import OrderedDict

import tensorflow as tf

from .transforms import Transform, apply_transforms
from .utils.utils import EPSILON

__all__ = ["STEP_CACHE_SIZE", "adam_update", "rmsprop_update"]  # the rest serves the Optimizer

RMSPROP_DECAY = 0.95  # keras-vis's cache decay
ADAM_BETA_1 = 0.9
ADAM_BETA_2 = 0.999
STEP_CACHE_SIZE = 8  # compiled steps kept per Optimizer (least recently used dropped)


@dataclasses.dataclass(frozen=True)
class StepSpec:
    """What every step of one Optimizer reads (fixed at construction).

    Attributes:
        probe: the Keras model from the input to every tensor the losses
            read (None when they read only the input).
        slots: per loss, its output index in `probe` (None: the input).
        wrt_slot: `wrt_tensor`'s output index (None: the input).
        losses: the `Loss` objects.
        weights: their weight variables (one value or one per sample).
        wrt_is_input: whether the input is updated.
        norm_grads: whether each sample's gradient is L2-normalised.
        input_range: `(lo, hi)` as floats.
        data_format: the input's data format.
        parameterization: None (keras-vis) or a `Parameterization`.
        learning_rate: the Adam step size variable (parameterized path).
        on_trace: called each time a step is traced (counts traces).
    """

    probe: object
    slots: list
    wrt_slot: object
    losses: list
    weights: list
    wrt_is_input: bool
    norm_grads: bool
    input_range: tuple
    data_format: str
    parameterization: object
    learning_rate: object
    on_trace: object


class StepCache:
    """A small LRU of compiled steps keyed by modifier arrangement and gradient modifier.

    A new lambda as `grad_modifier` at every call makes a new key each time;
    the cache keeps the `STEP_CACHE_SIZE` most recently used steps, so memory
    stays bounded (an evicted arrangement is traced again when it returns).
    """

    def __init__(self, size=STEP_CACHE_SIZE):
        self.size = size
        self._steps = OrderedDict()

    def __len__(self):
        return len(self._steps)

    def get(self, key, build):
        """Returns the step for `key`, building it with `build()` when missing."""
        if key in self._steps:
            self._steps.move_to_end(key)
            return self._steps[key]
        step = self._steps[key] = build()
        while len(self._steps) > self.size:
            self._steps.popitem(last=False)
        return step


# ----------------------------------------------------------------- shared pieces
def call_loss(loss, value):
    """Calls `loss` and checks it returned one float per sample."""
    result = loss.call(value)
    if result.shape.rank != 1:
        raise ValueError(
            f"Loss '{loss.name}' must return one value per sample, shape (batch,). "
            f"Received shape: {result.shape}"
        )
    return tf.cast(result, tf.float32)


def evaluate(spec, x_input, x_model):
    """The forward pass: returns `(raw, weighted, overall, outputs)`.

    Losses that read the input get `x_input` (the image before the in-tape
    transforms); the probe model gets `x_model`. `raw` and `weighted` are
    `(losses, batch)`, `overall` is `(batch,)`.
    """
    outputs = spec.probe(x_model, training=False) if spec.probe is not None else []
    outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
    values = [x_input if s is None else outputs[s] for s in spec.slots]
    batch = tf.shape(x_input)[0]
    raw = tf.stack([call_loss(loss, v) for loss, v in zip(spec.losses, values)])
    weighted = tf.stack([tf.broadcast_to(w, [batch]) for w in spec.weights]) * raw
    return raw, weighted, tf.reduce_sum(weighted, axis=0), outputs


def process_grads(spec, grads, grad_fn):
    """Per-sample L2 normalisation (when asked), then the gradient modifier."""
    if spec.norm_grads:
        grads = tf.nn.l2_normalize(grads, axis=list(range(1, grads.shape.rank)))
    if grad_fn is not None:
        grads = grad_fn(grads)
    return grads


def _finite(x_new, overall):
    """Per sample: the loss and every value of the updated input are finite."""
    batch = tf.shape(x_new)[0]
    finite_x = tf.reduce_all(tf.math.is_finite(tf.reshape(x_new, [batch, -1])), axis=1)
    return tf.math.is_finite(overall) & finite_x


def _per_sample_where(keep, a, b):
    batch = tf.shape(a)[0]
    mask = tf.reshape(keep, tf.concat([[batch], tf.ones_like(tf.shape(a)[1:])], 0))
    return tf.where(mask, a, b)


def track_best(x_new, overall, best_x, best_loss):
    """Keeps, per sample, the updated input of the lowest finite loss (strict `<`).

    Both the loss and the updated input must be finite, so a NaN never
    becomes a result.
    """
    better = _finite(x_new, overall) & (overall < best_loss)
    return _per_sample_where(better, x_new, best_x), tf.where(better, overall, best_loss)


def track_last_finite(x_new, overall, last_x):
    """Keeps, per sample, the latest updated input whose loss and values were finite."""
    return _per_sample_where(_finite(x_new, overall), x_new, last_x)


def rmsprop_update(x, grads, cache):
    """keras-vis's update: `cache = 0.95 cache + 0.05 g**2`, `x -= g / sqrt(cache + 1e-7)`."""
    cache = RMSPROP_DECAY * cache + (1.0 - RMSPROP_DECAY) * tf.square(grads)
    return x - grads / tf.sqrt(cache + EPSILON), cache


def adam_update(p, grads, m, v, t, learning_rate):
    """One Adam step in Keras's form (beta 0.9 / 0.999, epsilon 1e-7), t counted from 1.

    `m` and `v` are the moment estimates; the bias corrections are folded into
    the step size, `lr * sqrt(1 - b2**t) / (1 - b1**t)`, as Keras's `Adam`.
    """
    t = t + 1.0
    m = m + (grads - m) * (1.0 - ADAM_BETA_1)
    v = v + (tf.square(grads) - v) * (1.0 - ADAM_BETA_2)
    alpha = learning_rate * tf.sqrt(1.0 - tf.pow(ADAM_BETA_2, t)) / (1.0 - tf.pow(ADAM_BETA_1, t))
    return p - m * alpha / (tf.sqrt(v) + EPSILON), m, v, t


def _no_gradient(what):
    return ValueError(
        f"The losses do not depend on {what}: pick a tensor between the input and the "
        "layers the losses read."
    )


class _Step:
    """Shared plumbing: the traced modifiers and the stand-in variable copy."""

    def __init__(self, spec, modifiers, grad_fn):
        self.spec = spec
        self.modifiers = list(modifiers)
        self.grad_fn = grad_fn
        for modifier in self.modifiers:
            modifier.prepare_trace()
        self._traced_variables = [v for m in self.modifiers for v in m.variables]
        self.function = tf.function(self._step, autograph=False)

    @contextlib.contextmanager
    def standing_in(self, modifiers):
        """Lets `modifiers` stand in for the traced ones for one run.

        The traced modifiers take the given ones' internal state
        (`load_state`) before the run and give it back after; yields the
        given modifiers' variables, which the step copies into the traced
        ones at every iteration.
        """
        pairs = [(t, g) for t, g in zip(self.modifiers, modifiers) if t is not g]
        for traced, given in pairs:
            traced.load_state(given)
        try:
            yield tuple(v for modifier in modifiers for v in modifier.variables)
        finally:
            for traced, given in pairs:
                given.load_state(traced)

    def _begin_trace(self, given_variables):
        self.spec.on_trace()  # runs only while tracing
        for traced, given in zip(self._traced_variables, given_variables):
            traced.assign(given)  # a no-op when the given modifier is the traced one

    def _fill(self):
        """What transforms show outside the image: the middle of the input range."""
        lo, hi = self.spec.input_range
        return 0.5 * (lo + hi)


class KerasVisStep(_Step):
    """keras-vis's iteration: `pre`, forward/backward, modifier, RMSProp update, `post`.

    State: `(x, cache, best_x, best_loss)`. Input modifiers that are
    `Transform`s run inside the tape between `x_pre` (after every `pre`) and
    the model, so the gradient flows through them to the input; the others
    run `pre` before and `post` after the update, as keras-vis. Losses that
    read the input see `x_pre`.
    """

    def initial_state(self, seed):
        """`(x, cache, best_x, best_loss)` for a seed array."""
        x = tf.constant(seed)
        return (x, tf.zeros_like(x), x, tf.fill([seed.shape[0]], float("inf")))

    @staticmethod
    def current(state):
        """The input after the latest iteration."""
        return state[0]

    @staticmethod
    def best(state):
        """The best input so far."""
        return state[2]

    @staticmethod
    def best_loss(state):
        """The best loss so far, per sample."""
        return state[3]

    returned = best  # keras-vis returns the best input (de-processed by the optimizer)

    def _step(self, x, cache, best_x, best_loss, given_variables):
        self._begin_trace(given_variables)
        spec, modifiers = self.spec, self.modifiers
        in_tape = [m for m in modifiers if isinstance(m, Transform)]
        x_pre = x
        for modifier in modifiers:
            x_pre = modifier.pre(x_pre)
        with tf.GradientTape() as tape:
            tape.watch(x_pre)
            x_model = apply_transforms(in_tape, x_pre, self._fill(), spec.data_format)
            raw, weighted, overall, outputs = evaluate(spec, x_pre, x_model)
            total = tf.reduce_sum(overall)
        wrt_value = x_pre if spec.wrt_is_input else outputs[spec.wrt_slot]
        grads = tape.gradient(total, wrt_value)
        if grads is None:
            raise _no_gradient("`wrt_tensor`")
        grads = process_grads(spec, grads, self.grad_fn)
        x_new = x_pre
        if spec.wrt_is_input:
            x_new, cache = rmsprop_update(x_pre, grads, cache)
        for modifier in reversed(modifiers):
            x_new = modifier.post(x_new)
        best_x, best_loss = track_best(x_new, overall, best_x, best_loss)
        stats = tf.concat([raw, weighted, overall[None]], axis=0)
        return (x_new, cache, best_x, best_loss), stats, grads, wrt_value


class ParameterizedStep(_Step):
    """An iteration on a parameterization's parameter `p`, with Adam.

    The image in input units is `x = lo + (hi - lo) * to_image(p)`; every
    input modifier runs inside the tape between `x` and the model (a
    `Transform` through `transform`, any other through `pre`; `post` is never
    called: the parameter is never transformed). The gradient with respect
    to `x` is normalised and modified as on the keras-vis path (that is what
    callbacks see), then pulled back to `p` through `to_image` for the Adam
    update.

    State: `(p, m, v, t, best_p, best_loss, last_p)`: Adam's moments and step
    count, the best parameter (as keras-vis: the updated one of the
    lowest-loss iteration) and the last one whose loss and values were finite
    (what `minimize` returns). Images are only computed from a parameter when
    asked for (`current`, `best`, `returned`): one `to_image` per iteration.
    """

    def __init__(self, spec, modifiers, grad_fn):
        super().__init__(spec, modifiers, grad_fn)
        # the images of parameters for read-outs: compiled once (eager would cost ms per call)
        self._image = tf.function(self._to_input, autograph=False)

    def initial_state(self, seed):
        """Inverts the seed image into the parameter; moments and count start at 0."""
        lo, hi = self.spec.input_range
        p = tf.constant(self.spec.parameterization.from_image((seed - lo) / (hi - lo)))
        zeros = tf.zeros_like(p)
        inf = tf.fill([seed.shape[0]], float("inf"))
        return (p, zeros, zeros, tf.constant(0.0), p, inf, p)

    def _to_input(self, p):
        lo, hi = self.spec.input_range
        return lo + (hi - lo) * self.spec.parameterization.to_image(p)

    def current(self, state):
        """The image of the current parameter, in input units (computed now)."""
        return self._image(state[0])

    def best(self, state):
        """The image of the best parameter so far (for information)."""
        return self._image(state[4])

    @staticmethod
    def best_loss(state):
        """The best loss so far, per sample."""
        return state[5]

    def returned(self, state):
        """The image of the last parameter whose loss and values were finite."""
        return self._image(state[6])

    def _step(self, p, m, v, t, best_p, best_loss, last_p, given_variables):
        self._begin_trace(given_variables)
        spec = self.spec
        with tf.GradientTape() as outer:
            outer.watch(p)
            x = self._to_input(p)
        with tf.GradientTape() as inner:
            inner.watch(x)
            x_model = apply_transforms(self.modifiers, x, self._fill(), spec.data_format)
            raw, weighted, overall, _ = evaluate(spec, x, x_model)
            total = tf.reduce_sum(overall)
        grads = inner.gradient(total, x)
        if grads is None:
            raise _no_gradient("the input")
        grads = process_grads(spec, grads, self.grad_fn)
        grads_p = outer.gradient(x, p, output_gradients=grads)
        p, m, v, t = adam_update(p, grads_p, m, v, t, spec.learning_rate)
        finite = _finite(p, overall)
        better = finite & (overall < best_loss)
        best_p = _per_sample_where(better, p, best_p)
        best_loss = tf.where(better, overall, best_loss)
        last_p = _per_sample_where(finite, p, last_p)
        stats = tf.concat([raw, weighted, overall[None]], axis=0)
        return (p, m, v, t, best_p, best_loss, last_p), stats, grads, x
