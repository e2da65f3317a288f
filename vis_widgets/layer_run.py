"""One batched run over many filters of a layer: the per-sample loss, the chunk rule, the feed.

Sample k of the batch maximizes filter `filters[k]`, so N filters cost one
`minimize` of a batch of N (the engine optimizes each sample independently:
its own loss, gradient normalisation and best input), not N runs. The
filters live in a `tf.Variable`, so the next chunk of filters reuses the
traced step. `GridFeed` hands a chunk's latest input to a render thread
for the grid. No widgets here.

The chunk rule: a batch is split when one step over it would need more
than `memory_budget` bytes. One sample is estimated at `4 * (A + 8 * I)`
bytes, where A counts the float activations of every layer from the input
to the target layer (what the backward pass may keep) and I the input's
values (the input, the update's cache, the best input, the jittered input,
the gradients, the updated input, a few copies). It errs on the safe side:
on MobileNetV2 at 96x96 up to `block_6_expand` it says 12 MB per sample,
while the peak resident memory grows by 7 to 9 MB per sample (measured
from batch 1 to 32). The chunk is `min(count, max_chunk, memory_budget //
per_sample)`, at least 1; the filters are then split into equal chunks (40
filters with room for 32 run as two chunks of 20: one traced shape, not
two).
"""

import dataclasses
import math
import numbers
import time

import keras
import numpy as np
import tensorflow as tf

from vis_widgets.core import ActivationMaximization, Optimizer, build_recipe, keras_vis_losses
from vis_widgets.core.callbacks import OptimizerCallback, ignores_arrays
from vis_widgets.core.visualization.activation_maximization import is_softmax
from vis_widgets.display import result_input, returned_images
from vis_widgets.frames import Frame, RenderThread

MEMORY_BUDGET = 2**30  # bytes per step: 1 GiB
MAX_CHUNK = 64  # beyond this a CPU step gets no faster per sample
FPS = 4  # cell frames per second during a run


class PerSampleFilters(ActivationMaximization):
    """Sample k maximizes one filter, `filters[k]`: its loss is `-mean(output[..., filters[k]])`.

    The same loss as `ActivationMaximization(layer, filters[k])` for each
    sample, in one batched run. Assign the filters (one per sample) with
    `assign` before a run; it does not retrace.

    Args:
        layer: the Keras layer (used once in the model).
        pre_activation: maximize the values before the layer's activation.

    Example:
        ```python
        loss = PerSampleFilters(model.get_layer("conv2"))
        opt = Optimizer(model.inputs[0], [(loss, 1.0)], input_range=(0.0, 255.0))
        loss.assign([0, 1, 2])
        img, _, _ = opt.minimize(np.repeat(opt.make_seed(), 3, axis=0), verbose=False)
        ```
    """

    name = "Filter Activation Loss"

    def __init__(self, layer, pre_activation=False):
        super().__init__(layer, None, pre_activation)
        self.num_filters = int(self.tensor.shape[self._channel_axis])
        self.filters = tf.Variable(
            np.zeros([1], np.int32), shape=tf.TensorShape([None]), trainable=False
        )

    def assign(self, filters):
        """Sets the filter of each sample (ints in `[0, num_filters)`).

        Raises:
            ValueError: for an index out of range or no index.
        """
        values = np.asarray(filters, dtype=np.int64).reshape(-1)
        if values.size == 0 or values.min() < 0 or values.max() >= self.num_filters:
            raise ValueError(
                f"`filters` must be 1 or more ints in [0, {self.num_filters}) for layer "
                f"'{self.layer.name}'. Received: filters={list(filters)!r}"
            )
        self.filters.assign(values.astype(np.int32))

    def call(self, value):
        """Returns `-mean(value[k, ..., filters[k]])` for each sample k."""
        value = tf.cast(value, tf.float32)
        if self._channel_axis != -1:
            value = tf.experimental.numpy.moveaxis(value, self._channel_axis, -1)
        picked = tf.gather(value, self.filters, axis=-1, batch_dims=1)
        spatial = list(range(1, picked.shape.rank))
        return -(tf.reduce_mean(picked, axis=spatial) if spatial else picked)

    def get_config(self):
        """Returns `layer` (by name) and `pre_activation`."""
        return {"layer": self.layer.name, "pre_activation": self.pre_activation}


def resolve_layer(model, layer):
    """Returns the layer object for a layer, its name, or its index in `model.layers`.

    Raises:
        ValueError: for an unknown name or index.
        TypeError: for anything else.
    """
    if isinstance(layer, keras.layers.Layer):
        return layer
    if isinstance(layer, str):
        return model.get_layer(layer)
    if isinstance(layer, numbers.Integral) and not isinstance(layer, bool):
        if not -len(model.layers) <= layer < len(model.layers):
            raise ValueError(
                f"`layer` must index `model.layers` ({len(model.layers)} layers). "
                f"Received: layer={layer}"
            )
        return model.layers[layer]
    raise TypeError(f"`layer` must be a layer, a layer name or an index. Received: {layer!r}")


def filter_layers(model):
    """The names of the layers whose filters one can browse (one output of rank >= 2)."""
    names = []
    for layer in model.layers:
        if isinstance(layer, keras.layers.InputLayer):
            continue
        try:
            output = layer.output
        except (AttributeError, ValueError):  # used several times, or never called
            continue
        if isinstance(output, keras.KerasTensor) and len(output.shape) >= 2:
            names.append(layer.name)
    return names


def per_sample_bytes(model, layer):
    """Estimates the bytes one sample needs in one step up to `layer` (see the module doc)."""
    probe = keras.Model(model.inputs[0], layer.output)
    activations = 0
    for sublayer in probe.layers:
        outputs = sublayer.output if isinstance(sublayer.output, list) else [sublayer.output]
        for tensor in outputs:
            activations += math.prod(d or 1 for d in tensor.shape[1:])
    inputs = math.prod(d or 1 for d in model.inputs[0].shape[1:])
    return 4 * (activations + 8 * inputs)


def chunk_size(model, layer, count, memory_budget=MEMORY_BUDGET, max_chunk=MAX_CHUNK):
    """Returns the largest batch of filters one step may hold, by the module's rule.

    Args:
        model: the Keras model.
        layer: the target layer (an object).
        count: how many filters are to run.
        memory_budget: the bytes one step may use.
        max_chunk: an upper bound, whatever the memory.

    Returns:
        An int in `[1, min(count, max_chunk)]`.
    """
    fit = int(memory_budget // max(1, per_sample_bytes(model, layer)))
    return max(1, min(int(count), int(max_chunk), fit))


def split(filters, chunk):
    """Splits `filters` into equal chunks of at most `chunk` (sizes differ by at most 1).

    Example:
        >>> split(list(range(5)), 2), split(list(range(40)), 32)[1][:2]
        ([[0, 1], [2, 3], [4]], [20, 21])
    """
    filters = list(filters)
    parts = max(1, math.ceil(len(filters) / max(1, chunk)))
    size = math.ceil(len(filters) / parts)
    return [filters[k : k + size] for k in range(0, len(filters), size)]


@dataclasses.dataclass(frozen=True)
class LayerRecipe:
    """A recipe built for a layer's filters: one sample per filter.

    Attributes:
        optimizer: the `Optimizer` (its activation loss is `loss`).
        loss: the `PerSampleFilters` loss; `assign` the filters per chunk.
        input_modifiers: the recipe's modifiers (a `Jitter`, transforms).
        max_iter: the recipe's iterations.
        recipe: the `Recipe` (overrides applied).
    """

    optimizer: Optimizer
    loss: PerSampleFilters
    input_modifiers: list
    max_iter: int
    recipe: object


def layer_recipe(model, layer, input_range, recipe="keras-vis", pre_activation=None, **overrides):
    """Builds a recipe for many filters of a layer: `PerSampleFilters` and the recipe's settings.

    The engine's `build_recipe` decides the parameterization, the learning
    rate, the modifiers and the weights; the activation loss is replaced by
    one that gives each sample its own filter.

    Args:
        model: a single-input Keras model.
        layer: the target layer (an object).
        input_range: the input's `(min, max)`.
        recipe: a recipe name of `vis_widgets.core.RECIPES` (or a `Recipe`).
        pre_activation: maximize the values before the layer's activation;
            None: True for a softmax layer.
        **overrides: `Recipe` fields (weights, `jitter`, `max_iter`, ...).

    Returns:
        A `LayerRecipe`.

    Example:
        ```python
        built = layer_recipe(model, model.get_layer("conv2"), (0, 255), "fourier")
        built.loss.assign([0, 1, 2])
        seed = built.optimizer.make_seed(samples=3)
        built.optimizer.minimize(seed, max_iter=20, input_modifiers=built.input_modifiers)
        ```
    """
    pre = is_softmax(layer) if pre_activation is None else bool(pre_activation)
    prepared = build_recipe(model, layer, 0, recipe, input_range, pre_activation=pre, **overrides)
    settings = prepared.recipe
    source = prepared.optimizer.parameterization
    loss = PerSampleFilters(layer, pre)
    # keras-vis's three losses (core's recipe), the activation one made per sample
    losses = keras_vis_losses(
        model, layer, 0, settings.act_max_weight, settings.lp_norm_weight, settings.tv_weight, pre
    )
    losses[0] = (loss, settings.act_max_weight)
    optimizer = Optimizer(
        model.inputs[0],
        losses,
        input_range=input_range,
        parameterization=None if source is None else type(source)(**source.get_config()),
        learning_rate=prepared.optimizer.learning_rate,
    )
    return LayerRecipe(optimizer, loss, prepared.input_modifiers, prepared.max_iter, settings)


class GridFeed(OptimizerCallback):
    """Hands one chunk's latest input to a render thread a few times a second.

    The render thread calls `draw(filters, returned)` with the chunk's
    `Returned` images and updates the progress traits of `progress` (over
    all chunks). The final frame draws the chunk's result (what `minimize` returned).

    Args:
        draw: called as `draw(chunk, returned)` on the render thread.
        progress: a `RunProgress` (`iteration`, `seconds`) to update.
        chunk: the filters of this run, one per sample.
        offset: the iterations of the chunks before this one.
        started: the `time.perf_counter()` of the whole run's start.

    Example:
        ```python
        progress = RunProgress()
        feed = GridFeed(lambda chunk, returned: None, progress, [3], 0, time.perf_counter())
        opt.minimize(max_iter=20, callbacks=[feed], verbose=False)  # progress.iteration: 20
        ```
    """

    def __init__(self, draw, progress, chunk, offset, started):
        self.draw, self.progress, self.chunk = draw, progress, chunk
        self.offset, self.started = offset, started
        self._next = 0.0
        self._renderer = None

    def on_begin(self):
        """Starts the render thread."""
        self._renderer = RenderThread(self._render)

    @ignores_arrays
    def callback(self, i, named_losses, overall_loss, grads, wrt_value):
        """Submits the current input when the throttle allows (always the first)."""
        now = time.perf_counter()
        if i == 0 or now >= self._next:
            self._next = now + 1.0 / FPS
            self._renderer.submit(Frame(i, now, self.optimizer.current_input, False))

    def on_end(self):
        """Draws the chunk's result, waits for it, re-raises a render error."""
        renderer, self._renderer = self._renderer, None
        if renderer is None:
            return
        done = self.optimizer.iterations
        best = result_input(self.optimizer)
        renderer.finish(Frame(max(done - 1, 0), time.perf_counter(), best, False, True), 60)
        if renderer.error is not None:
            raise renderer.error

    def _render(self, frame):
        self.draw(self.chunk, returned_images(self.optimizer, frame.image))
        with self.progress.hold_trait_notifications():
            self.progress.seconds = frame.time - self.started
            self.progress.iteration = self.offset + frame.iteration + 1
