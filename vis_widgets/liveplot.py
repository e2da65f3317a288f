"""LivePlot: an OptimizerCallback that shows the input and the loss curves as they form.

The optimizer thread only records numbers and, when the wall-clock throttle
allows, hands the latest snapshot to a render thread; the render thread
de-processes, encodes and assigns fresh PNG bytes to `ipywidgets.Image`
values (drawn in place: the same `<img>`, only its source changes). Only
the latest snapshot is kept, so a slow frame never queues work up, and
the first and the last iteration are always rendered (`on_end` waits for
the last frame).
"""

import math
import threading
import time
import warnings

import ipywidgets as widgets
import numpy as np

from vis_widgets.core.callbacks import OptimizerCallback, unique_keys
from vis_widgets.export import write_gif
from vis_widgets.render import CurvePlot, compose_frame, display_images, encode_png

OVERALL = "overall loss"
MAX_FRAME_BYTES = 16 * 2**20


def _check_fps(value, name):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < math.inf:
        raise ValueError(f"`{name}` must be a finite number > 0. Received: {name}={value!r}")
    return float(value)


def _format_seconds(seconds):
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, seconds = divmod(round(seconds), 60)
    return f"{minutes} min {seconds:02d} s"


class _Frame:
    """What the render thread draws: the latest image (or None) and whether curves are due."""

    __slots__ = ("curves", "final", "image", "step", "time")

    def __init__(self, step, now, image, curves, final=False):
        self.step, self.time, self.image, self.curves, self.final = step, now, image, curves, final

    def merge_older(self, older):
        """Keeps this frame, but inherits the older one's unrendered image and curves."""
        if self.image is None:
            self.image = older.image
        self.curves = self.curves or older.curves


class _RenderThread:
    """One daemon thread per run that renders the latest submitted frame, until the final one."""

    def __init__(self, render):
        self._render = render
        self._cond = threading.Condition()
        self._pending = None
        self.error = None
        self._thread = threading.Thread(target=self._loop, name="vis_widgets-render", daemon=True)
        self._thread.start()

    def submit(self, frame):
        """Makes `frame` the next one to draw, inheriting what an undrawn older one had."""
        with self._cond:
            if self._pending is not None:
                frame.merge_older(self._pending)
            self._pending = frame
            self._cond.notify()

    def finish(self, frame, timeout):
        """Submits the final frame, waits until it is drawn; returns False on timeout."""
        self.submit(frame)
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def _loop(self):
        while True:
            with self._cond:
                while self._pending is None:
                    self._cond.wait()
                frame, self._pending = self._pending, None
            if self.error is None:
                try:
                    self._render(frame)
                except Exception as err:  # shown by on_end, never swallowed
                    self.error = err
            if frame.final:
                return


class _InlineRenderer:
    """Renders each submitted frame at once, on the optimizer's thread."""

    def __init__(self, render):
        self._render = render
        self.error = None

    def submit(self, frame):
        self._render(frame)

    def finish(self, frame, timeout):
        self._render(frame)
        return True


class LivePlot(OptimizerCallback):
    """Shows the optimized input and per-loss curves live, updating one widget in place.

    Attach it to any `minimize`: on the first run it displays one widget
    (when running in a notebook) and every later frame replaces the bytes
    of the same `ipywidgets.Image`s, so nothing stacks up or flickers.
    Rendering happens on a separate thread, throttled by wall clock and
    keeping only the latest snapshot: the image at most `image_fps` times a
    second, the curves at most `curve_fps`, and always the first and last
    iterations. The optimizer thread only appends a few floats per
    iteration.

    The image is the optimizer's `current_input` (the input after each
    iteration's update, with the jitter undone) de-processed into its
    `input_range` (nearest-neighbour upscaled when small; a batch becomes a
    labelled grid). It is fetched only for the frames the throttle lets
    through, on the optimizer's thread, so each frame shows its own step.
    The final frame shows the run's result, the best input (`best_input`,
    what `minimize` returns), so what stays on screen is what you got.

    Args:
        image_fps: the most image frames per second (> 0).
        curve_fps: the most curve frames per second (> 0).
        raw: draw the unweighted loss values instead of the weighted ones.
        auto_display: display the widget at the first `on_begin` (when in
            IPython and not displayed yet). A `Dashboard` turns it off.
        keep_frames: keep the rendered images (for `save_gif`).
        threaded: render on a separate thread (True) or inline on the
            optimizer's thread (False).

    Attributes:
        image: the `ipywidgets.Image` of the input (CSS class `vw-image`).
        curves: the `ipywidgets.Image` of the loss curves (`vw-curves`).
        progress: an `ipywidgets.IntProgress` (`vw-progress`).
        progress_text: a `Label` with iteration, iterations/s and ETA.
        history: `{loss key or "overall loss": [weighted values]}` of the
            latest run; `raw_history` has the unweighted ones.
        frames: the display images rendered during the latest run, a list
            of `(step, (N, H, W, C) uint8 array)`.
        stats: counts and seconds spent rendering (for benchmarks).

    Example:
        ```python
        live = LivePlot()
        img, _, _ = opt.minimize(max_iter=300, callbacks=[live], verbose=False)
        live.save_gif("run.gif")
        ```
    """

    def __init__(
        self,
        image_fps=10,
        curve_fps=3,
        raw=False,
        auto_display=True,
        keep_frames=True,
        threaded=True,
    ):
        self.image_fps = _check_fps(image_fps, "image_fps")
        self.threaded = bool(threaded)
        self.curve_fps = _check_fps(curve_fps, "curve_fps")
        self.auto_display = bool(auto_display)
        if not isinstance(keep_frames, bool):
            raise TypeError(f"`keep_frames` must be True or False. Received: {keep_frames!r}")
        self.keep_frames = keep_frames
        self.labels = None
        self.image = widgets.Image(format="png")
        self.image.add_class("vw-image")
        self.curves = widgets.Image(format="png")
        self.curves.add_class("vw-curves")
        self.progress = widgets.IntProgress(value=0, min=0, max=1, description="")
        self.progress.add_class("vw-progress")
        self.progress_text = widgets.Label("")
        self.progress_text.add_class("vw-progress-text")
        self._widget = None
        self._displayed = False
        self._raw = bool(raw)
        self._plot = CurvePlot()
        self._draw_lock = threading.Lock()
        self._renderer = None
        self._reset_run_state(max_iter=1)

    # ------------------------------------------------------------------ public
    @property
    def widget(self):
        """The standalone widget: image and curves side by side, progress below."""
        if self._widget is None:
            self._widget = widgets.VBox(
                [
                    widgets.HBox([self.image, self.curves]),
                    widgets.HBox([self.progress, self.progress_text]),
                ]
            )
            self._widget.add_class("vw-liveplot")
        return self._widget

    def _repr_mimebundle_(self, **kwargs):
        self._displayed = True
        return self.widget._repr_mimebundle_(**kwargs)

    @property
    def raw(self):
        """Whether the curves show unweighted (raw) loss values; setting it redraws them."""
        return self._raw

    @raw.setter
    def raw(self, value):
        self._raw = bool(value)
        if self._renderer is None:
            self.redraw_curves()
        # during a run, the next curve frame uses the new mode

    def redraw_curves(self):
        """Renders the curves of the latest run now (on the calling thread)."""
        if self._x:
            self._render_curves()

    def show(self, batch, labels=None):
        """Shows a raw input batch `(N, ...)` (in the optimizer's format) in the image widget.

        Needs an optimizer (set by a run, or by a `Dashboard`).

        Raises:
            ValueError: when no optimizer is known yet.
        """
        if self.optimizer is None:
            raise ValueError(
                "LivePlot.show needs the optimizer's input range and data format: attach the "
                "LivePlot to a run first (or call set_optimizer)."
            )
        images = display_images(batch, self.optimizer.input_range, self.optimizer.data_format)
        self.image.value = encode_png(compose_frame(images, labels))

    def save_gif(self, path, duration=80):
        """Writes the frames rendered during the latest run as an animated GIF.

        Args:
            path: the file to write.
            duration: milliseconds per frame.

        Returns:
            The written `pathlib.Path`.

        Raises:
            ValueError: if no frame was kept (no run yet, or `keep_frames=False`).
        """
        return write_gif(path, self.frames, self.labels, duration)

    # ------------------------------------------------------------------ callback hooks
    def on_begin(self):
        """Resets the record, displays the widget once, starts the render thread."""
        self._reset_run_state(self.params["max_iter"])
        self._single = self.params["batch_size"] == 1
        self.progress.max = self.params["max_iter"]
        self.progress.value = 0
        self.progress_text.value = "starting…"
        if self.auto_display and not self._displayed:
            self._display()
        self._renderer = (_RenderThread if self.threaded else _InlineRenderer)(self._render)

    def callback(self, i, named_losses, overall_loss, grads, wrt_value):
        """Records this iteration's losses; hands a snapshot to the renderer when due."""
        now = time.perf_counter()
        for series, (_, value) in zip(self._weighted, named_losses):
            series.append(value)
        self._weighted[-1].append(overall_loss)
        raw = self.optimizer.per_sample_raw_losses
        if self._single:  # np.mean costs ~4 us on a 1-element array: avoid it per iteration
            for series, key in zip(self._raw_series, self._keys):
                series.append(float(raw[key][0]))
        else:
            for series, key in zip(self._raw_series, self._keys):
                series.append(float(raw[key].mean()))
        # last: the render thread draws len(self._x) points of every series
        self._x.append(i)
        image_due = i == 0 or now >= self._next_image
        curves_due = i == 0 or now >= self._next_curves
        if not (image_due or curves_due):
            return
        image = None
        if image_due:
            image = self.optimizer.current_input
            self._next_image = now + 1.0 / self.image_fps
        if curves_due:
            self._next_curves = now + 1.0 / self.curve_fps
        self._renderer.submit(_Frame(i, now, image, curves_due))

    def on_end(self):
        """Renders the final frame (the best input), waits for it, re-raises a render error."""
        renderer, self._renderer = self._renderer, None
        if renderer is None:
            return
        steps = len(self._x)
        last = self.optimizer.best_input  # the run's result, what minimize returns
        frame = _Frame(max(steps - 1, 0), time.perf_counter(), last, True, final=True)
        if not renderer.finish(frame, timeout=60):
            warnings.warn("LivePlot: the last frame took over 60 s to render.", stacklevel=2)
        if renderer.error is not None:
            raise renderer.error

    # ------------------------------------------------------------------ internals
    @staticmethod
    def _empty_stats():
        return {"image_frames": 0, "image_seconds": 0.0, "curve_frames": 0, "curve_seconds": 0.0}

    def _reset_run_state(self, max_iter):
        optimizer = self.optimizer
        names = optimizer.loss_names if optimizer is not None else []
        self._keys = unique_keys(names)
        self._x = []
        self._weighted = [[] for _ in range(len(self._keys) + 1)]
        self._raw_series = [[] for _ in self._keys]
        self._max_iter = max_iter
        self._next_image = 0.0
        self._next_curves = 0.0
        self._started = time.perf_counter()
        self._rate = None
        self._last_progress = (0, self._started)
        self.frames = []
        self.stats = self._empty_stats()

    @property
    def history(self):
        """`{loss key: weighted values, "overall loss": values}` of the latest run."""
        return {k: list(v) for k, v in zip([*self._keys, OVERALL], self._weighted)}

    @property
    def raw_history(self):
        """`{loss key: unweighted values}` of the latest run."""
        return {k: list(v) for k, v in zip(self._keys, self._raw_series)}

    def _display(self):
        try:
            from IPython import get_ipython
            from IPython.display import display
        except ImportError:  # pragma: no cover - IPython ships with ipywidgets
            return
        if get_ipython() is None:
            return  # not in IPython (a script, a benchmark): nothing to show
        display(self.widget)
        self._displayed = True

    def _render(self, frame):
        if frame.image is not None:
            self._render_image(frame.image, frame.step)
        if frame.curves:
            self._render_curves()
        self._update_progress(frame)

    def _render_image(self, batch, step):
        start = time.perf_counter()
        optimizer = self.optimizer
        images = display_images(batch, optimizer.input_range, optimizer.data_format)
        self.image.value = encode_png(compose_frame(images, self.labels))
        if self.keep_frames:
            self._keep(step + 1, images)
        self.stats["image_frames"] += 1
        self.stats["image_seconds"] += time.perf_counter() - start

    def _keep(self, step, images):
        if self.frames and self.frames[-1][0] == step:
            self.frames[-1] = (step, images)
            return
        self.frames.append((step, images))
        if sum(f[1].nbytes for f in self.frames) > MAX_FRAME_BYTES:
            self.frames = self.frames[:-1:2] + self.frames[-1:]  # halve, keep the last

    def _render_curves(self):
        start = time.perf_counter()
        n = len(self._x)
        x = np.asarray(self._x[:n])
        if self._raw:
            series = {k: v[:n] for k, v in zip(self._keys, self._raw_series)}
            title = "losses (unweighted)"
        else:
            series = {k: v[:n] for k, v in zip([*self._keys, OVERALL], self._weighted)}
            title = "losses (weighted)"
        with self._draw_lock:
            png = self._plot.render(x, series, self._max_iter, title)
        self.curves.value = png
        self.stats["curve_frames"] += 1
        self.stats["curve_seconds"] += time.perf_counter() - start

    def _update_progress(self, frame):
        done = frame.step + 1 if not frame.final else len(self._x)
        last_done, last_time = self._last_progress
        if frame.time > last_time and done > last_done:
            rate = (done - last_done) / (frame.time - last_time)
            self._rate = rate if self._rate is None else 0.5 * self._rate + 0.5 * rate
        self._last_progress = (done, frame.time)
        self.progress.value = done
        text = f"{done} / {self._max_iter}"
        if self._rate:
            text += f" · {self._rate:,.0f} it/s"
            if not frame.final:
                text += f" · ETA {_format_seconds((self._max_iter - done) / self._rate)}"
        if frame.final:
            text += f" · {_format_seconds(frame.time - self._started)}"
        self.progress_text.value = text
