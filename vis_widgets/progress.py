"""ProgressView: a progress bar and its text (iterations, it/s, ETA) that follow a run model.

The view only reads: it observes the traits `iteration`, `max_iter`,
`seconds` and `finished` of its source (a `LivePlot`, which owns the count
and updates it with its frames, at most a few times a second) and never
writes anything back.
"""

import ipywidgets as widgets
from traitlets import Bool, Float, HasTraits, Int

RUN_TRAITS = ("iteration", "max_iter", "seconds", "finished")


class RunProgress(HasTraits):
    """The progress a run model publishes, for a `ProgressView` to follow.

    Attributes:
        iteration: the iterations done (as of the latest frame).
        max_iter: the iterations planned; 0 before the first run.
        seconds: the wall-clock time since the run began.
        finished: whether the run has ended.
    """

    iteration = Int(0)
    max_iter = Int(0)
    seconds = Float(0.0)
    finished = Bool(False)


def format_seconds(seconds):
    """Formats a duration: `"4.2 s"`, or `"3 min 05 s"` from a minute on.

    Example:
        >>> format_seconds(4.25), format_seconds(185)
        ('4.2 s', '3 min 05 s')
    """
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, seconds = divmod(round(seconds), 60)
    return f"{minutes} min {seconds:02d} s"


class ProgressView:
    """A progress bar (`vw-progress`) and a text (`vw-progress-text`) that follow a run.

    The rate is a running average over the updates the source publishes, so
    the ETA settles within a few frames.

    Args:
        source: a `RunProgress` (e.g. a `LivePlot` or a `LayerBrowser`).
        width: the bar's CSS width.
        css_prefix: the prefix of the CSS classes, `vw` gives `vw-progress`
            and `vw-progress-text`.

    Attributes:
        bar: the `IntProgress`.
        text: the `Label`.
        widget: an `HBox` of both.

    Example:
        ```python
        live = LivePlot()
        view = ProgressView(live)
        view.widget  # follows every run of `live`
        ```
    """

    def __init__(self, source, width="200px", css_prefix="vw"):
        self.source = source
        self.bar = widgets.IntProgress(value=0, min=0, max=1, layout=widgets.Layout(width=width))
        self.bar.add_class(f"{css_prefix}-progress")
        self.text = widgets.Label("")
        self.text.add_class(f"{css_prefix}-progress-text")
        self.widget = widgets.HBox([self.bar, self.text])
        self._rate = None
        self._last = (0, 0.0)
        source.observe(self._changed, names=list(RUN_TRAITS))
        self._update()

    def _changed(self, change):
        if change["name"] == "iteration" and change["new"] < change["old"]:
            self._rate, self._last = None, (0, 0.0)  # a new run
        self._update()

    def _update(self):
        done, planned = self.source.iteration, self.source.max_iter
        seconds, finished = self.source.seconds, self.source.finished
        total = max(1, planned)
        last_done, last_seconds = self._last
        if seconds > last_seconds and done > last_done:
            rate = (done - last_done) / (seconds - last_seconds)
            self._rate = rate if self._rate is None else 0.5 * self._rate + 0.5 * rate
            self._last = (done, seconds)
        self.bar.max = total
        self.bar.value = min(done, total)
        if done == 0 and not finished:  # before any run (max_iter 0), or tracing
            self.text.value = "starting…" if planned else ""
            return
        text = f"{done} / {total}"
        if self._rate:
            text += f" · {self._rate:,.0f} it/s"
            if not finished:
                text += f" · ETA {format_seconds((total - done) / self._rate)}"
        if finished:
            text += f" · {format_seconds(seconds)}"
        self.text.value = text
