"""LivePlot: an OptimizerCallback that publishes the input and the loss curves as they form.

LivePlot is a small model (`HasTraits`), not a widget: the run thread only
records numbers and, when the wall-clock throttles allow, hands the latest
snapshot to one of two render threads (`vis_widgets.frames`). The image
thread encodes the picture and publishes `image_png` and `range_text` with
the progress (`iteration`, `seconds`, `finished`); the curve thread
publishes `curves_svg` and `values_html`. Two threads, so neither kind of
frame waits for the other; each trait has one writer. Views follow those
traits through links (`widget` builds the standalone ones; a `Dashboard`
builds its own); owners steer it through `raw`, `labels`, `display` and
`shown`. Nothing else reaches into it.
"""

import math
import threading
import time
import warnings

import ipywidgets as widgets
from traitlets import Any, Bool, Bytes, Enum, Instance, Unicode

from vis_widgets.core.callbacks import OptimizerCallback, ignores_arrays
from vis_widgets.curves import CurvePanels, placeholder_svg, values_html
from vis_widgets.display import (
    DISPLAY_MODES,
    STRETCHED,
    Returned,
    result_input,
    returned_images,
    shown,
)
from vis_widgets.export import write_gif
from vis_widgets.frames import Frame, InlineRenderer, RenderThread
from vis_widgets.progress import RunProgress
from vis_widgets.render import compose_frame, encode_png, placeholder_png
from vis_widgets.series import LossSeries

MAX_FRAME_BYTES = 16 * 2**20
IMAGE_PLACEHOLDER = ("the input appears here", 256, 256)
CURVES_PLACEHOLDER = ("the loss curves appear here during a run", 460, 242)


def _check_fps(value, name):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"`{name}` must be a number. Received: {name}={value!r}")
    if not 0 < value < math.inf:
        raise ValueError(f"`{name}` must be a finite number > 0. Received: {name}={value!r}")
    return float(value)


class LivePlot(RunProgress, OptimizerCallback):
    """Shows the optimized input and per-loss curves live, updated in place.

    Attach it to any `minimize`: on the first run it displays its widget
    (when in a notebook) and every later frame replaces the bytes of the
    same `ipywidgets.Image`s, so nothing stacks up or flickers. Rendering
    happens on a separate thread, throttled by wall clock and keeping only
    the latest snapshot: the image at most `image_fps` times a second, the
    curves at most `curve_fps`; the image always at the first iteration, both
    at the last (the curves' first frame waits `1 / curve_fps` seconds: one
    point is no curve, and a panel drawn for it would be redrawn at once).
    The run thread only appends a few floats per iteration.

    The image is what `minimize` returns for the optimizer's current input
    (after the iteration's update, with the jitter undone), shown under the
    `display` setting (contrast-stretched by default, see
    `vis_widgets.display`) and nearest-neighbour upscaled; a batch becomes a
    labelled grid. The final frame shows the run's result (what `minimize`
    returns: keras-vis's best input, or the parameterized path's last image),
    so what stays on screen is what you got. The curves are one small panel
    per loss plus the overall loss, each on its own scale.

    Args:
        image_fps: the most image frames per second (> 0).
        curve_fps: the most curve frames per second (> 0).
        raw: draw the unweighted loss values instead of the weighted ones.
        display: `"stretched"` or `"as returned"`.
        auto_display: display the widget at the first `on_begin` (when in
            IPython and not displayed yet).
        keep_frames: keep the rendered images (for `save_gif`).
        threaded: render on a separate thread (True) or inline on the
            optimizer's thread (False).

    Attributes:
        raw, labels, display, shown: traits the owner sets (or links):
            unweighted curves; the captions of a batch's cells; the display
            mode; a `Returned` batch to show now (between runs).
        image_png, curves_svg, range_text, values_html: traits published
            with the frames: the picture (PNG), the curves (SVG), which
            values the picture shows black to white, the latest loss values
            as an HTML table.
        iteration, max_iter, seconds, finished: the run's progress as of
            the latest frame (`max_iter` is 0 before the first run).
        series: the `LossSeries` of the latest run (every iteration).
        frames: the images of the latest run as returned (not stretched),
            a list of `(iteration, (N, H, W, C) uint8)`, for `save_gif`.
        stats: counts and seconds spent rendering (for benchmarks).

    Example:
        ```python
        live = LivePlot()
        img, _, _ = opt.minimize(max_iter=300, callbacks=[live], verbose=False)
        live.save_gif("run.gif")
        ```
    """

    raw = Bool(False)
    labels = Any(None)
    display = Enum(DISPLAY_MODES, STRETCHED)
    shown = Instance(Returned, allow_none=True)

    image_png = Bytes(placeholder_png(*IMAGE_PLACEHOLDER[1:], IMAGE_PLACEHOLDER[0]))
    curves_svg = Bytes(placeholder_svg(*CURVES_PLACEHOLDER[1:], CURVES_PLACEHOLDER[0]))
    range_text = Unicode("")
    values_html = Unicode("")

    def __init__(
        self,
        image_fps=10,
        curve_fps=2,
        raw=False,
        display=STRETCHED,
        auto_display=True,
        keep_frames=True,
        threaded=True,
    ):
        if not isinstance(keep_frames, bool):
            raise TypeError(f"`keep_frames` must be True or False. Received: {keep_frames!r}")
        super().__init__(raw=bool(raw), display=display)
        self.image_fps = _check_fps(image_fps, "image_fps")
        self.curve_fps = _check_fps(curve_fps, "curve_fps")
        self.auto_display = bool(auto_display)
        self.keep_frames = keep_frames
        self.threaded = bool(threaded)
        self.series = LossSeries()
        self.frames = []
        self.stats = self._empty_stats()
        self._panels = CurvePanels()
        self._image_lock = threading.Lock()
        self._curves_lock = threading.Lock()
        self._renderers = None  # (image, curves) during a run
        self._last_returned = None  # the latest picture drawn, for a redraw in another mode
        self._widget = None
        self._displayed = False
        self._next_image = self._next_curves = self._started = 0.0
        self.observe(self._redraw_image, names=["display", "labels"])
        self.observe(self._show_now, names="shown")
        self.observe(self._redraw_curves, names="raw")

    # ------------------------------------------------------------------ public
    @property
    def widget(self):
        """The standalone widget (a `LiveView`: picture, curves, values, progress), made once."""
        if self._widget is None:
            from vis_widgets.live_view import LiveView

            view = LiveView(self)
            self._widget = widgets.VBox([view.widget, view.progress.widget])
            self._widget.add_class("vw-liveplot")
        return self._widget

    def _repr_mimebundle_(self, **kwargs):
        self._displayed = True
        return self.widget._repr_mimebundle_(**kwargs)

    def save_gif(self, path, duration=80):
        """Writes the frames of the latest run (as returned, not stretched) as an animated GIF.

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
    def set_optimizer(self, optimizer, params):
        """Called by the optimizer before `on_begin`; also hands it to the loss series."""
        super().set_optimizer(optimizer, params)
        self.series.set_optimizer(optimizer, params)

    def on_begin(self):
        """Starts a fresh record, displays the widget once, starts the render thread."""
        self.series.on_begin()
        self.frames = []
        self.stats = self._empty_stats()
        self._started = time.perf_counter()
        self._next_image = 0.0
        self._next_curves = self._started + 1.0 / self.curve_fps
        with self.hold_trait_notifications():
            self.max_iter = self.params["max_iter"]
            self.seconds = 0.0
            self.finished = False
            self.iteration = 0
        if self.auto_display and not self._displayed:
            self._show_in_notebook()
        kind = RenderThread if self.threaded else InlineRenderer
        self._renderers = (kind(self._render_image), kind(self._render_curves))

    @ignores_arrays
    def callback(self, i, named_losses, overall_loss, grads, wrt_value):
        """Records this iteration's losses; hands a snapshot to the renderer when due."""
        self.series.callback(i, named_losses, overall_loss, grads, wrt_value)
        now = time.perf_counter()
        image_due = i == 0 or now >= self._next_image
        curves_due = now >= self._next_curves  # none at i == 0: one point is no curve
        if not (image_due or curves_due):
            return
        images, curves = self._renderers
        if image_due:
            self._next_image = now + 1.0 / self.image_fps
            images.submit(Frame(i, now, self.optimizer.current_input, False))
        if curves_due:
            self._next_curves = now + 1.0 / self.curve_fps
            curves.submit(Frame(i, now, None, True))

    def on_end(self):
        """Renders the final frames (the result), waits for them, re-raises a render error."""
        renderers, self._renderers = self._renderers, None
        if renderers is None:
            return
        done = len(self.series.iterations)
        now = time.perf_counter()
        last = result_input(self.optimizer)  # the run's result, what minimize returns
        finals = (
            Frame(max(done - 1, 0), now, last, False, True),
            Frame(done, now, None, True, True),
        )
        for renderer, frame in zip(renderers, finals):
            if not renderer.finish(frame, timeout=60):
                warnings.warn("LivePlot: the last frame took over 60 s to render.", stacklevel=2)
        for renderer in renderers:
            if renderer.error is not None:
                raise renderer.error

    # ------------------------------------------------------------------ internals
    @staticmethod
    def _empty_stats():
        return {"image_frames": 0, "image_seconds": 0.0, "curve_frames": 0, "curve_seconds": 0.0}

    def _show_in_notebook(self):
        try:
            from IPython import get_ipython
            from IPython.display import display
        except ImportError:  # pragma: no cover - IPython ships with ipywidgets
            return
        if get_ipython() is None:
            return  # not in IPython (a script, a benchmark): nothing to show
        display(self.widget)
        self._displayed = True

    def _render_image(self, frame):
        start = time.perf_counter()
        returned = returned_images(self.optimizer, frame.image)
        self._draw_image(returned)
        if self.keep_frames:
            self._keep(frame.iteration + 1, returned.as_returned())
        self.stats["image_frames"] += 1
        self.stats["image_seconds"] += time.perf_counter() - start
        done = len(self.series.iterations) if frame.final else frame.iteration + 1
        with self.hold_trait_notifications():
            self.seconds = frame.time - self._started
            self.finished = frame.final
            self.iteration = done

    def _render_curves(self, frame):
        start = time.perf_counter()
        self._draw_curves()
        self.stats["curve_frames"] += 1
        self.stats["curve_seconds"] += time.perf_counter() - start

    def _draw_image(self, returned):
        with self._image_lock:
            picture = shown(returned, self.display)
            self.image_png = encode_png(compose_frame(picture.images, self.labels))
            self.range_text = picture.range_text()
            self._last_returned = returned

    def _keep(self, step, images):
        if self.frames and self.frames[-1][0] == step:
            self.frames[-1] = (step, images)
            return
        self.frames.append((step, images))
        if sum(f[1].nbytes for f in self.frames) > MAX_FRAME_BYTES:
            self.frames = self.frames[:-1:2] + self.frames[-1:]  # halve, keep the last

    def _draw_curves(self):
        with self._curves_lock:
            x, series = self.series.snapshot(raw=self.raw)
            if not len(x):
                return
            title = "unweighted losses (overall: weighted)" if self.raw else "weighted losses"
            self.curves_svg = self._panels.render(x, series, max(self.max_iter, 1), title)
            self.values_html = values_html(self.series.latest(), raw=self.raw)

    def _redraw_image(self, change):
        if self._renderers is None and self._last_returned is not None:
            self._draw_image(self._last_returned)
        # during a run, the next image frame uses the new setting

    def _show_now(self, change):
        if change["new"] is not None:
            self._draw_image(change["new"])

    def _redraw_curves(self, change):
        if self._renderers is None:
            self._draw_curves()
        # during a run, the next curve frame uses the new mode
