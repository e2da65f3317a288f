"""The latest-frame mailbox and the thread that renders it (no widgets here).

A run produces snapshots much faster than anyone can look at them. The run
thread submits a `Frame` when a wall-clock throttle lets it through; a
render thread draws the latest one. Only the latest frame waits in the
mailbox: a newer frame replaces an undrawn older one, inheriting what the
older one still had to draw (its image, its curves), so a slow frame never
queues work up and nothing due is lost. A frame marked `keep` (a run's first
and final ones) is never replaced: a newer frame waits behind it. The final
frame ends the thread, and `finish` waits for it.
"""

import threading


class Frame:
    """One snapshot to draw.

    Args:
        iteration: the 0-based iteration it shows.
        time: its `time.perf_counter()` when taken.
        image: the raw input batch to draw, or None (no image due).
        curves: whether the curves are due.
        final: the run's last frame (the render thread ends after it).
        keep: never replaced by a newer frame (default: the first
            iteration's frame and the final one).
    """

    __slots__ = ("curves", "final", "image", "iteration", "keep", "time")

    def __init__(self, iteration, time, image, curves, final=False, keep=None):
        self.iteration, self.time, self.image = iteration, time, image
        self.curves, self.final = curves, final
        self.keep = (final or iteration == 0) if keep is None else keep

    def merge_older(self, older):
        """Keeps this frame, but inherits the older one's undrawn image and curves."""
        if self.image is None:
            self.image = older.image
        self.curves = self.curves or older.curves


class RenderThread:
    """One daemon thread per run that draws the latest submitted frame, until the final one.

    An error while drawing is kept in `error` (later frames are skipped) for
    the owner to raise on the run's thread: never swallowed.

    Args:
        render: called with each `Frame` to draw, on the render thread.

    Example:
        ```python
        mailbox = RenderThread(lambda frame: print(frame.iteration))
        mailbox.submit(Frame(0, time.perf_counter(), None, True))
        mailbox.finish(Frame(9, time.perf_counter(), None, True, final=True), timeout=10)
        ```
    """

    def __init__(self, render):
        self._render = render
        self._cond = threading.Condition()
        self._pending = []  # a kept frame (at most one) and the latest one
        self.error = None
        self._thread = threading.Thread(target=self._loop, name="vis_widgets-render", daemon=True)
        self._thread.start()

    def submit(self, frame):
        """Makes `frame` the next one to draw, inheriting what an undrawn older one had."""
        with self._cond:
            if self._pending and not self._pending[-1].keep:
                frame.merge_older(self._pending.pop())
            self._pending.append(frame)
            self._cond.notify()

    def finish(self, frame, timeout):
        """Submits the final frame and waits until it is drawn.

        Returns:
            True when the thread has ended, False on timeout.
        """
        self.submit(frame)
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def _loop(self):
        while True:
            with self._cond:
                while not self._pending:
                    self._cond.wait()
                frame = self._pending.pop(0)
            if self.error is None:
                try:
                    self._render(frame)
                except Exception as err:  # raised by the owner on the run's thread
                    self.error = err
            if frame.final:
                return


class InlineRenderer:
    """Draws each submitted frame at once, on the submitting (run) thread.

    Same interface as `RenderThread`; an error is raised where it happens.

    Example:
        ```python
        renderer = InlineRenderer(lambda frame: print(frame.iteration))
        renderer.submit(Frame(0, 0.0, None, True))  # prints 0
        ```
    """

    def __init__(self, render):
        self._render = render
        self.error = None

    def submit(self, frame):
        """Draws `frame` now."""
        self._render(frame)

    def finish(self, frame, timeout):
        """Draws the final frame now; returns True."""
        self._render(frame)
        return True
