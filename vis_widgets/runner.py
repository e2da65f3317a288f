"""Runner: one job at a time on a background daemon thread.

A long `minimize` in the executing cell blocks the kernel, so a Stop click
would only arrive after it ends; on a background thread the kernel keeps
handling widget messages (LIVE_UI.md). The busy flag is taken and cleared
under a lock, in the worker's `finally`, never read from
`Thread.is_alive()` (unreliable after an interrupted `join()` on 3.11).
"""

import threading


class Runner:
    """Runs one job at a time on a daemon thread; a job started while busy is refused.

    The job must handle and show its own errors: the runner only guarantees
    that the busy flag is cleared and `wait` returns, whatever happens.

    Example:
        ```python
        runner = Runner()
        runner.start(lambda: opt.minimize(max_iter=100, verbose=False))  # True
        runner.start(lambda: ...)  # False: still busy
        runner.wait()
        ```
    """

    def __init__(self, name="vis_widgets-run"):
        self.name = name
        self._lock = threading.Lock()
        self._busy = False
        self._idle = threading.Event()
        self._idle.set()
        self.thread = None

    @property
    def busy(self):
        """True from an accepted `start` until its job has returned."""
        with self._lock:
            return self._busy

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
            if self._busy:
                return False
            self._busy = True
            self._idle.clear()
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
            self._busy = False
            self._idle.set()
