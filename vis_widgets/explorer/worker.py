"""A background worker where the latest request wins: a one-slot mailbox and a daemon thread.

A slider dragged across five values in a second sends five requests; maps
take tens or hundreds of milliseconds each. Queuing them would draw five
stale pictures one after another, seconds after the user let go. Here a
request replaces any request still waiting, the job can ask whether it has
been superseded (and stop early), and a superseded result is never shown:
five quick changes compute at most the first (already under way) and the
last.

The slot is read and the thread's life decided under one lock, so a request
submitted while the thread is about to exit is never lost (a thread that
finds the slot empty exits in the same critical section that clears
`running`).
"""

import threading

from traitlets import Bool, HasTraits


class LatestWorker(HasTraits):
    """Runs `job(request)` on a daemon thread for the latest submitted request.

    The job runs for one request at a time. A request submitted while the
    job runs waits in the slot, replacing any older waiting one; when the
    job returns, the thread takes the slot's request, or exits when it is
    empty. A request equal to the latest submitted one is ignored. The job
    must handle its own errors: an exception escaping it is kept in
    `error` and the worker goes on with the next request.

    Args:
        job: called as `job(request)` on the worker thread.
        name: the thread's name.

    Attributes:
        running: True while a request is being worked on or waits (a
            read-only trait).
        handled: how many requests the job was called for.
        error: the latest exception that escaped the job, or None.

    Example:
        ```python
        worker = LatestWorker(lambda request: print("computing", request))
        for value in range(5):
            worker.submit(value)  # computes 0 and 4, maybe some in between
        worker.wait()
        ```
    """

    running = Bool(False, read_only=True)

    def __init__(self, job, name="vis_widgets-explorer"):
        super().__init__()
        self._job, self.name = job, name
        self._lock = threading.RLock()  # observers of `running` may submit
        self._idle = threading.Event()
        self._idle.set()
        self._pending = None
        self._has_pending = False
        self._latest = None
        self._has_latest = False
        self.handled = 0
        self.error = None
        self.thread = None

    def submit(self, request):
        """Makes `request` the next one to work on; returns False if it equals the latest one."""
        with self._lock:
            if self._has_latest and request == self._latest:
                return False
            self._latest, self._has_latest = request, True
            self._pending, self._has_pending = request, True
            if self.running:
                return True
            self._idle.clear()
            self.set_trait("running", True)
            self.thread = threading.Thread(target=self._loop, name=self.name, daemon=True)
        self.thread.start()
        return True

    def forget(self):
        """Forgets the latest request, so submitting an equal one computes it again."""
        with self._lock:
            self._has_latest = False

    def superseded(self):
        """True when a newer request waits: the job's current result would be stale."""
        with self._lock:
            return self._has_pending

    def wait(self, timeout=None):
        """Waits until no request runs or waits; returns True if idle, False on timeout."""
        return self._idle.wait(timeout)

    def _loop(self):
        while True:
            with self._lock:
                if not self._has_pending:
                    self.set_trait("running", False)
                    self._idle.set()
                    return
                request, self._pending, self._has_pending = self._pending, None, False
                self.handled += 1
            try:
                self._job(request)
            except Exception as err:  # the job shows its own errors; this is a last resort
                self.error = err
