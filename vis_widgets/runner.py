"""Runner: one job at a time on a background daemon thread, and the one `running` flag of a UI.

A long `minimize` in the executing cell blocks the kernel, so a Stop click
would only arrive after it ends; on a background thread the kernel keeps
handling widget messages. The busy flag is taken and cleared under a lock,
in the worker's `finally`, never read from `Thread.is_alive()` (unreliable
after an interrupted `join()` on Python 3.11). The trait `running` mirrors
it under the same lock: it is the only "a run is going" a view follows.
"""

import threading

from traitlets import Bool, HasTraits

from vis_widgets.core.callbacks import OptimizerCallback, ignores_arrays


class Runner(HasTraits):
    """Runs one job at a time on a daemon thread; a job started while running is refused.

    The job must handle and show its own errors: the runner only guarantees
    that `running` is cleared and `wait` returns, whatever happens. Observers
    of `running` must not start a job themselves.

    Attributes:
        running: True from an accepted `start` until its job has returned (a
            read-only trait: link views to it).
        thread: the latest job's thread.

    Example:
        ```python
        runner = Runner()
        runner.start(lambda: opt.minimize(max_iter=100, verbose=False))  # True
        runner.start(lambda: ...)  # False: still running
        runner.wait()
        ```
    """

    running = Bool(False, read_only=True)

    def __init__(self, name="vis_widgets-run"):
        super().__init__()
        self.name = name
        self._lock = threading.RLock()
        self._idle = threading.Event()
        self._idle.set()
        self.thread = None

    def start(self, job, prepare=None):
        """Starts `job()` on a new daemon thread unless a job is running.

        Args:
            job: a callable without arguments.
            prepare: an optional callable run on the caller's thread once the
                start is accepted, before the thread starts.

        Returns:
            True if the job was started, False if one was already running.
        """
        with self._lock:
            if self.running:
                return False
            self._idle.clear()
            self.set_trait("running", True)
        try:
            if prepare is not None:
                prepare()
            self.thread = threading.Thread(target=self._work, args=(job,), name=self.name)
            self.thread.daemon = True
            self.thread.start()
        except BaseException:
            self._release()
            raise
        return True

    def wait(self, timeout=None):
        """Waits until no job runs; returns True if idle, False on timeout."""
        return self._idle.wait(timeout)

    def _work(self, job):
        try:
            job()
        finally:
            self._release()

    def _release(self):
        with self._lock:
            self.set_trait("running", False)
            self._idle.set()


class StopMonitor(OptimizerCallback):
    """Turns a Stop requested before or during a run into `optimizer.stop()`.

    `Optimizer.stop()` does nothing before `minimize` has begun, so a Stop
    clicked right after Run would be lost; this callback checks the event
    at `on_begin` and after every iteration.

    Args:
        event: a `threading.Event` that Stop sets.

    Example:
        ```python
        stop = threading.Event()
        opt.minimize(callbacks=[StopMonitor(stop)], verbose=False)  # stop.set() ends it
        ```
    """

    def __init__(self, event):
        self._event = event

    def on_begin(self):
        """Stops at once when Stop came before the run began."""
        self._check()

    @ignores_arrays
    def callback(self, i, named_losses, overall_loss, grads, wrt_value):
        """Stops after this iteration when Stop was requested."""
        self._check()

    def _check(self):
        if self._event.is_set():
            self.optimizer.stop()
