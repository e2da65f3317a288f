"""The three Jupyter front-ends as servers for real-browser tests.

`LabServer` runs ``jupyter lab``, `NotebookServer` runs ``jupyter notebook``
(Notebook 7) and `VoilaServer` runs ``voila`` serving a folder. Each one:

- listens on 127.0.0.1 on a free port and needs a token (a fresh one per server);
- serves a temporary copy of the notebooks it is given, with temporary config,
  data, runtime and IPython dirs (`jupyter_home.JupyterHome`);
- exposes the application object as ``window.jupyterapp`` (Lab and Notebook 7), so
  the page driver can use the front-end's own commands.

Stopping leaves nothing behind: the server's shutdown API (Lab and Notebook 7; it
shuts their kernels down) or SIGTERM (Voila, which then shuts its kernels down),
then the server's process group, then any process whose command line still names the
temporary runtime dir (a kernel runs in a session of its own, so killing the
server's group does not reach it, but its connection file lives in that dir).
"""

import contextlib
import json
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from urllib.parse import quote

from jupyter_home import JupyterHome
from processes import die_with_parent, free_port, pids_mentioning, terminate


class JupyterServer:
    """A Jupyter server process on 127.0.0.1 serving a temporary copy of some notebooks.

    Subclasses say which command runs (`command`), when it is ready (`ready`) and
    which URL opens a notebook (`page_url`).

    Example:
        server = LabServer({"": Path("notebooks")}, log_path=Path("artifacts/lab.log"))
        server.start()
        try:
            print(server.page_url("01_quickstart.ipynb"))
        finally:
            server.stop()

    Args:
        sources: maps a sub-folder of the served root ("" for the root itself) to a
            folder whose files are copied there.
        log_path: where the server's stdout and stderr go.
        keep: keep the temporary folder after stopping (to look at saved notebooks).
    """

    frontend = None

    def __init__(self, sources, log_path, keep=False):
        self.sources = dict(sources)
        self.log_path = Path(log_path)
        self.keep = keep
        self.token = uuid.uuid4().hex
        self.port = None
        self.proc = None
        self.home = None
        self.timings = {}
        self._log = None

    @property
    def tmp(self):
        """The server's temporary folder (None once removed)."""
        return self.home.tmp if self.home else None

    @property
    def root_dir(self):
        """The folder served."""
        return self.home.root_dir if self.home else None

    @property
    def runtime_dir(self):
        """Where the server's and its kernels' connection files go."""
        return self.home.runtime_dir if self.home else None

    @property
    def url(self):
        """The server's base URL, without the token."""
        return f"http://127.0.0.1:{self.port}"

    # -------------------------------------------------------------- per front-end
    def command(self):
        """The server's command line (with `self.port` and `self.root_dir` set)."""
        raise NotImplementedError

    def ready(self):
        """True once the server answers."""
        raise NotImplementedError

    def page_url(self, notebook):
        """The URL (with the token) that opens `notebook`, relative to the root."""
        raise NotImplementedError

    def request_shutdown(self):
        """Asks the server to shut down with its kernels; True if it was asked."""
        return False

    # -------------------------------------------------------------- start
    def start(self, timeout=90.0, attempts=3):
        """Starts the server and waits until it answers.

        Args:
            timeout: seconds to wait on each attempt.
            attempts: how many free ports to try (another process may take one).

        Returns:
            The server itself.

        Raises:
            TimeoutError: the server did not answer in time (its log is in the message).
        """
        t0 = time.monotonic()
        self.home = JupyterHome(self.frontend, self.sources)
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = open(self.log_path, "wb")  # noqa: SIM115 (closed in stop())
        last_error = None
        for _ in range(attempts):
            self.port = free_port()
            self.proc = subprocess.Popen(  # preexec_fn: pytest is single-threaded here
                self.command(),
                cwd=self.root_dir,
                env=self.home.env(self.token),
                stdin=subprocess.DEVNULL,
                stdout=self._log,
                stderr=subprocess.STDOUT,
                preexec_fn=die_with_parent,
            )
            try:
                self._wait_ready(timeout)
            except (TimeoutError, ChildProcessError) as exc:
                last_error = exc
                self._stop_process()
                continue
            self.timings["server_start_s"] = round(time.monotonic() - t0, 2)
            return self
        self.stop()
        raise TimeoutError(f"{self.frontend} did not start: {last_error}\n{self.log_tail()}")

    def _wait_ready(self, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise ChildProcessError(f"server exited with code {self.proc.returncode}")
            with contextlib.suppress(OSError, ValueError):
                if self.ready():
                    return
            time.sleep(0.25)
        raise TimeoutError(f"no answer from {self.url} after {timeout:.0f} s")

    # -------------------------------------------------------------- HTTP
    def request(self, method, path, body=None, timeout=10):
        """Calls the server with the token; returns the response's body as bytes."""
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method)
        req.add_header("Authorization", f"token {self.token}")
        if data is not None:
            req.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.read()

    def api(self, method, path, body=None, timeout=10):
        """Calls the server's REST API with the token; returns the decoded JSON (or None)."""
        raw = self.request(method, path, body, timeout)
        return json.loads(raw) if raw else None

    # -------------------------------------------------------------- kernels
    def connection_files(self):
        """`{kernel id: connection file}` of the kernels running now."""
        found = {}
        if self.runtime_dir is not None:
            for path in self.runtime_dir.rglob("kernel-*.json"):
                found[path.stem.removeprefix("kernel-")] = path
        return found

    def shutdown_kernels(self):
        """Shuts every running kernel down through the API (frees the CPU between tests)."""
        for kernel_id in self.connection_files():
            with contextlib.suppress(OSError, ValueError):
                self.request("DELETE", f"/api/kernels/{kernel_id}", timeout=20)

    # -------------------------------------------------------------- stop
    def log_tail(self, lines=40):
        """The last lines of the server's log."""
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def _stop_process(self):
        if self.proc is None:
            return
        if self.proc.poll() is None and self.request_shutdown():
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=15)
        if self.proc.poll() is None:
            terminate([self.proc.pid], grace=10.0)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=5)
        self.proc = None

    def stop(self):
        """Stops the server and every kernel it started; safe to call twice.

        Returns:
            The pids that could not be killed (an empty list when all is well).
        """
        self._stop_process()
        left = []
        if self.runtime_dir is not None:
            left = terminate(pids_mentioning(str(self.runtime_dir)))
        if self._log is not None:
            self._log.close()
            self._log = None
        if self.home is not None and not self.keep:
            self.home.remove()
            self.home = None
        return left


class LabServer(JupyterServer):
    """``jupyter lab``; each notebook opens under a workspace of its own.

    JupyterLab restores the last workspace it saw, so a fresh workspace name per page
    keeps one test's open tabs out of the next.
    """

    frontend = "lab"
    module = "jupyterlab"
    expose_flag = "--LabApp.expose_app_in_browser=True"

    def command(self):
        return [
            sys.executable,
            "-m",
            self.module,
            "--no-browser",
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={self.port}",
            "--ServerApp.port_retries=0",
            "--ServerApp.allow_root=True",
            f"--ServerApp.root_dir={self.root_dir}",
            "--ServerApp.password=",
            "--ServerApp.terminals_enabled=False",
            self.expose_flag,
        ]

    def ready(self):
        return "started" in self.api("GET", "/api/status", timeout=2)

    def page_url(self, notebook, workspace=None):
        """The URL that opens `notebook` under the workspace `workspace` (default: new)."""
        workspace = workspace or f"vw-{uuid.uuid4().hex[:12]}"
        return f"{self.url}/lab/workspaces/{workspace}/tree/{quote(notebook)}?token={self.token}"

    def request_shutdown(self):
        with contextlib.suppress(OSError, ValueError, urllib.error.URLError):
            self.request("POST", "/api/shutdown", timeout=10)
            return True
        return False

    def shutdown_kernels(self):
        # Sessions first: a page opened later must not find one pointing at a dead kernel.
        with contextlib.suppress(OSError, ValueError):
            for session in self.api("GET", "/api/sessions") or []:
                with contextlib.suppress(OSError, ValueError):
                    self.request("DELETE", f"/api/sessions/{session['id']}", timeout=20)
        super().shutdown_kernels()


class NotebookServer(LabServer):
    """``jupyter notebook`` (Notebook 7): one notebook per browser tab, at /notebooks/<path>."""

    frontend = "notebook"
    module = "notebook"
    expose_flag = "--JupyterNotebookApp.expose_app_in_browser=True"

    def page_url(self, notebook):
        return f"{self.url}/notebooks/{quote(notebook)}?token={self.token}"


class VoilaServer(JupyterServer):
    """``voila <folder>``: each notebook runs as an app at /voila/render/<path>.

    Voila starts a kernel per page load, runs every cell itself and shows only the
    outputs. Its kernels' connection files go under the runtime dir
    (`Voila.connection_dir_root`), which the final sweep relies on; tracebacks are
    shown, so a failing cell says why.
    """

    frontend = "voila"

    def command(self):
        return [
            sys.executable,
            "-m",
            "voila",
            str(self.root_dir),
            "--no-browser",
            "--Voila.ip=127.0.0.1",
            f"--Voila.port={self.port}",
            "--Voila.port_retries=0",
            f"--Voila.token={self.token}",
            f"--Voila.connection_dir_root={self.runtime_dir}",
            "--VoilaConfiguration.show_tracebacks=True",
        ]

    def ready(self):
        self.request("GET", "/", timeout=2)
        return True

    def page_url(self, notebook):
        return f"{self.url}/voila/render/{quote(notebook)}?token={self.token}"


SERVERS = {cls.frontend: cls for cls in (LabServer, NotebookServer, VoilaServer)}
