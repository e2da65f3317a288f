"""Callbacks: what happens after each iteration (keras-vis's `vis/callbacks.py`).

Display belongs here, never in the engine loop. The optimizer calls, per run:
`set_optimizer(optimizer, params)`, `on_begin()`, then
`callback(i, named_losses, overall_loss, grads, wrt_value)` after every
iteration, and `on_end()` exactly once, also when the run fails or is stopped.
"""

import pprint
import warnings

from PIL import Image, ImageDraw

from .utils import check_range, image_grid, to_display_image, upscale
from .validation import check_int, check_real

__all__ = [
    "CallbackList",
    "GifGenerator",
    "History",
    "OptimizerCallback",
    "Print",
    "format_iteration",
    "ignores_arrays",
    "reads_arrays",
    "unique_keys",
]


def ignores_arrays(method):
    """Marks a `callback` method that never reads its `grads` and `wrt_value` arguments.

    When every callback of a run is so marked, the optimizer skips copying
    the gradients and the input to numpy after each iteration and passes
    `None` for both (on small models those copies are a few percent of the
    run; the losses are still fetched every iteration). The mark belongs to
    the method, not the class: a subclass that overrides `callback` reads
    the arrays again unless it marks its own method too.

    Args:
        method: a `callback(self, i, named_losses, overall_loss, grads, wrt_value)`.

    Returns:
        The same function, marked.

    Example:
        ```python
        class StopBelow(OptimizerCallback):
            def __init__(self, threshold):
                self.threshold = threshold

            @ignores_arrays
            def callback(self, i, named_losses, overall_loss, grads, wrt_value):
                if overall_loss < self.threshold:
                    self.optimizer.stop()
        ```
    """
    method.reads_arrays = False
    return method


def reads_arrays(callback):
    """True unless the callback's `callback` method is marked with `ignores_arrays`.

    Example:
        >>> reads_arrays(History()), reads_arrays(OptimizerCallback())
        (False, False)
    """
    return getattr(getattr(callback, "callback", None), "reads_arrays", True)


class OptimizerCallback:
    """Base class of the optimizer's callbacks; every hook is a no-op.

    Attributes:
        optimizer: the `Optimizer` running this callback (set before
            `on_begin`), so a callback can read e.g. `per_sample_losses`.
        params: `{"max_iter": int, "batch_size": int}` for the current run.

    Example:
        ```python
        class StopBelow(OptimizerCallback):
            def __init__(self, threshold):
                self.threshold = threshold

            def callback(self, i, named_losses, overall_loss, grads, wrt_value):
                if overall_loss < self.threshold:
                    self.optimizer.stop()
        ```
    """

    optimizer = None
    params = None

    def set_optimizer(self, optimizer, params):
        """Called by the optimizer before `on_begin` of each run."""
        self.optimizer = optimizer
        self.params = dict(params)

    def on_begin(self):
        """Called once before the first iteration (differs: keras-vis has none)."""

    @ignores_arrays
    def callback(self, i, named_losses, overall_loss, grads, wrt_value):
        """Called after each iteration.

        Args:
            i: the 0-based iteration.
            named_losses: a list of `(loss name, weighted value)` with Python
                floats, in the order of the optimizer's losses (the mean over
                samples for a batch).
            overall_loss: the sum of the weighted losses (mean over samples).
            grads: the gradients after the gradient modifier, numpy, batch
                axis kept (None when every callback of the run is marked
                with `ignores_arrays`; so is `wrt_value`).
            wrt_value: the value the gradients were taken against (the input
                after the `pre` modifiers, before the in-tape transforms and
                the update), numpy. With a parameterization: the image in
                input units, `lo + (hi - lo) * to_image(p)`, before the
                modifiers and the update, and `grads` is the gradient with
                respect to that image (not to the parameter).
        """

    def on_end(self):
        """Called exactly once at the end of every run, also on errors and stops."""


def format_iteration(i, named_losses, overall_loss):
    """Returns keras-vis's verbose line for 0-based iteration `i`."""
    return (
        f"Iteration: {i + 1}, named_losses: {pprint.pformat(named_losses)}, "
        f"overall loss: {overall_loss}"
    )


class CallbackList:
    """The callbacks of one run: calls their hooks in order, with one error policy.

    `begin` calls `set_optimizer` and `on_begin` of each callback in turn;
    `iteration` calls each `callback`; `reads_arrays` tells the optimizer
    whether any of them reads `grads` and `wrt_value`; `end` calls every
    `on_end`, also when one of them raises. When the run itself succeeded, the first `on_end`
    error is raised after all of them ran; when the run failed, the run's own
    error wins and `on_end` errors become warnings.

    Args:
        callbacks: a list of `OptimizerCallback`s (copied).

    Example:
        ```python
        callbacks = CallbackList([History(), Print(interval=10)])
        callbacks.begin(opt, {"max_iter": 100, "batch_size": 1})
        ```
    """

    def __init__(self, callbacks):
        self.callbacks = list(callbacks)
        self.reads_arrays = any(reads_arrays(c) for c in self.callbacks)

    def __bool__(self):
        return bool(self.callbacks)

    def begin(self, optimizer, params):
        """Hands each callback the optimizer and the run's params, then calls `on_begin`."""
        for c in self.callbacks:
            c.set_optimizer(optimizer, params)
            c.on_begin()

    def iteration(self, i, named_losses, overall_loss, grads, wrt_value):
        """Calls every callback's `callback` with this iteration's values."""
        for c in self.callbacks:
            c.callback(i, named_losses, overall_loss, grads, wrt_value)

    def end(self, run_failed):
        """Calls every `on_end`; see the class docstring for which error is raised."""
        error = None
        for c in self.callbacks:
            try:
                c.on_end()
            except Exception as err:
                error = error or err
                if run_failed:
                    warnings.warn(f"{type(c).__name__}.on_end failed: {err!r}", stacklevel=4)
        if error is not None and not run_failed:
            raise error


class Print(OptimizerCallback):
    """Prints keras-vis's verbose line every `interval` iterations.

    The line is exactly
    `Iteration: {i+1}, named_losses: {pprint.pformat(named_losses)}, overall loss: {overall}`;
    it is printed for iterations whose 1-based number is a multiple of
    `interval`. `minimize(verbose=True)` appends one `Print()` after the
    user's callbacks.

    Args:
        interval: print every `interval` iterations (an int >= 1).

    Example:
        ```python
        opt.minimize(verbose=False, callbacks=[Print(interval=50)])
        ```
    """

    def __init__(self, interval=1):
        self.interval = check_int(interval, "interval", min_value=1, type_error=ValueError)

    @ignores_arrays
    def callback(self, i, named_losses, overall_loss, grads, wrt_value):
        """Prints the line when `(i + 1) % interval == 0`."""
        if (i + 1) % self.interval == 0:
            print(format_iteration(i, named_losses, overall_loss), flush=True)


class History(OptimizerCallback):
    """Records the named losses of every iteration of the latest run.

    Attributes:
        history: a dict from loss key (the loss name; a repeated name gets
            ` (2)`, ` (3)`, ...) and `"overall loss"` to a list of floats.
        iterations: the 0-based iterations recorded.

    Example:
        ```python
        history = History()
        opt.minimize(callbacks=[history], verbose=False)
        tv_curve = history.history["TV(2.0) Loss"]
        ```
    """

    def __init__(self):
        self.history = {}
        self.iterations = []

    def on_begin(self):
        """Starts a fresh record."""
        self.history = {}
        self.iterations = []

    @ignores_arrays
    def callback(self, i, named_losses, overall_loss, grads, wrt_value):
        """Appends this iteration's values."""
        keys = unique_keys([name for name, _ in named_losses])
        for key, (_, value) in zip(keys, named_losses):
            self.history.setdefault(key, []).append(value)
        self.history.setdefault("overall loss", []).append(overall_loss)
        self.iterations.append(i)


def unique_keys(names):
    """Returns `names` with repeats suffixed ` (2)`, ` (3)`, ... so they can key a dict."""
    seen = {}
    keys = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        keys.append(name if seen[name] == 1 else f"{name} ({seen[name]})")
    return keys


class GifGenerator(OptimizerCallback):
    """Writes one animated GIF frame per iteration, captioned "Step n".

    Each frame shows what `minimize` would return for this iteration's
    `wrt_value`, scaled to uint8 0-255 whatever the range (a batch becomes a
    grid, small inputs are upscaled so the caption fits): on keras-vis's
    path `wrt_value` de-processed (`deprocess_input`), as keras-vis did; with
    a parameterization the image itself (`optimizer.as_returned`), shown in
    this callback's `input_range` with no de-processing, so the frames look
    like the picture the run returns. Frames are kept in memory and the file
    is written and closed in `on_end`, which the optimizer calls also when
    the run fails or is stopped. Needs Pillow.

    Args:
        path: the file to write; `.gif` is appended when missing.
        input_range: the range frames are de-processed into before scaling
            (with a parameterization: the range the images are in; give the
            optimizer's `input_range`).
        duration: milliseconds per frame.

    Example:
        ```python
        opt.minimize(callbacks=[GifGenerator("dream.gif")])
        ```
    """

    def __init__(self, path, input_range=(0, 255), duration=80):
        self.path = str(path) if str(path).endswith(".gif") else f"{path}.gif"
        self.input_range = check_range(input_range)
        duration = check_real(
            duration,
            "duration",
            min_value=0,
            min_inclusive=False,
            expected="a positive number of milliseconds",
            type_error=ValueError,
        )
        self.duration = int(duration)
        self.frames = []

    def on_begin(self):
        """Starts a fresh list of frames."""
        self.frames = []

    def callback(self, i, named_losses, overall_loss, grads, wrt_value):
        """Renders this iteration's frame."""
        data_format = getattr(self.optimizer, "data_format", "channels_last")
        if getattr(self.optimizer, "parameterization", None) is not None:
            returned = self.optimizer.as_returned(wrt_value)
            images = [
                to_display_image(x, self.input_range, data_format, deprocess=False)
                for x in returned
            ]
        else:
            images = [to_display_image(x, self.input_range, data_format) for x in wrt_value]
        frame = upscale(image_grid(images), min_size=160)
        mode = "L" if frame.shape[-1] == 1 else "RGB"
        img = Image.fromarray(frame[..., 0] if mode == "L" else frame, mode=mode).convert("RGB")
        ImageDraw.Draw(img).text((4, 2), f"Step {i + 1}", fill=(255, 255, 255))
        self.frames.append(img.quantize(colors=256, method=Image.Quantize.MEDIANCUT))

    def on_end(self):
        """Writes and closes the GIF (nothing is written when no frame was made)."""
        frames, self.frames = self.frames, []
        if not frames:
            return
        frames[0].save(
            self.path,
            save_all=True,
            append_images=frames[1:],
            duration=self.duration,
            loop=0,
        )
