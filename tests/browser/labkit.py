"""A JupyterLab server and a notebook page for real-browser tests.

Everything here follows what was measured on this stack (shared/design/LIVE_UI.md):
the server listens on 127.0.0.1 on a free port, its token comes from
``JUPYTER_TOKEN``, its config/data/runtime dirs are temporary (no user settings or
saved workspaces leak in), news and update checks are off, and
``window.jupyterapp`` is exposed so the tests can drive Lab's own commands.

Stopping is done in the order that leaves nothing behind: the server's shutdown
API (which shuts its kernels down), then the server's process group, then any
process still holding the temporary runtime dir (a kernel runs in a session of
its own, so killing the server's group does not reach it).
"""

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from urllib.parse import quote

# Lab settings for a quiet, deterministic UI: no news or update toasts, and every
# cell kept in the DOM (no windowing) so selectors see all outputs.
LAB_USER_SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {
        "windowingMode": "none",
    },
}

# Where Jupyter looks for extensions (data) and their switches (config).
EXTENSION_PATH_VARS = {
    "JUPYTER_PATH": ("share", "jupyter"),
    "JUPYTER_CONFIG_PATH": ("etc", "jupyter"),
}


def free_port():
    """Returns a TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _die_with_parent():
    """In the child before exec: start a new session, and get SIGTERM if pytest dies.

    The death signal covers a SIGKILL of the test process, which no handler sees.
    """
    os.setsid()
    with contextlib.suppress(Exception):
        import ctypes

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _pids_mentioning(text):
    """Pids of the processes whose command line contains `text` (Linux /proc)."""
    pids = []
    needle = text.encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if needle in cmdline:
            pids.append(int(entry.name))
    return pids


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie still answers kill(0); it is dead for our purposes.
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def _terminate(pids, grace=5.0):
    """SIGTERM each pid (and its group when it leads one), then SIGKILL the stragglers."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in pids:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                if os.getpgid(pid) == pid and pid != os.getpgrp():
                    os.killpg(pid, sig)
                else:
                    os.kill(pid, sig)
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline and any(_alive(p) for p in pids):
            time.sleep(0.1)
        pids = [p for p in pids if _alive(p)]
        if not pids:
            return []
    return pids


class LabServer:
    """A JupyterLab server on 127.0.0.1 serving a temporary copy of some notebooks.

    Example:
        server = LabServer({"": Path("notebooks")}, log_path=Path("artifacts/lab.log"))
        server.start()
        try:
            print(server.url, server.api("GET", "/api/kernels"))
        finally:
            server.stop()

    Args:
        sources: maps a sub-folder of the served root ("" for the root itself) to a
            folder whose files are copied there.
        log_path: where the server's stdout and stderr go.
        keep: keep the temporary folder after stopping (to look at saved notebooks).
    """

    def __init__(self, sources, log_path, keep=False):
        self.sources = dict(sources)
        self.log_path = Path(log_path)
        self.keep = keep
        self.token = uuid.uuid4().hex
        self.port = None
        self.proc = None
        self.tmp = None
        self.root_dir = None
        self.runtime_dir = None
        self.timings = {}
        self._log = None

    @property
    def url(self):
        """The server's base URL, without the token."""
        return f"http://127.0.0.1:{self.port}"

    def _prepare_dirs(self):
        self.tmp = Path(tempfile.mkdtemp(prefix="vw-lab-"))
        self.root_dir = self.tmp / "root"
        config_dir = self.tmp / "config"
        self.runtime_dir = self.tmp / "runtime"
        for sub in ("data", "ipython"):
            (self.tmp / sub).mkdir()
        self.runtime_dir.mkdir()
        self.root_dir.mkdir()
        for dest, src in self.sources.items():
            if Path(src).is_dir():
                shutil.copytree(
                    src,
                    self.root_dir / dest,
                    dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"),
                )
        settings_dir = config_dir / "lab" / "user-settings"
        for rel, value in LAB_USER_SETTINGS.items():
            path = settings_dir / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(value))
        (config_dir / "jupyter_server_config.json").write_text(
            json.dumps(
                {
                    "LabApp": {
                        "news_url": None,
                        "check_for_updates_class": "jupyterlab.NeverCheckForUpdate",
                    }
                }
            )
        )

    def _env(self):
        env = dict(os.environ)
        for name in list(env):
            # Another server's or notebook's settings must not leak in; the paths
            # where extensions are looked up may stay.
            if name.startswith(("JUPYTER", "JPY_")) and name not in EXTENSION_PATH_VARS:
                del env[name]
        if sys.prefix != sys.base_prefix:
            # A venv made with --system-site-packages sees the base Python's packages
            # but not their Jupyter data and config (ipywidgets' Lab extension, the
            # server extensions' switches): add the base's folders after the venv's.
            for var, sub in EXTENSION_PATH_VARS.items():
                base = Path(sys.base_prefix, *sub)
                paths = [p for p in env.get(var, "").split(os.pathsep) if p]
                if base.is_dir() and str(base) not in paths:
                    env[var] = os.pathsep.join([*paths, str(base)])
        env.update(
            JUPYTER_TOKEN=self.token,
            JUPYTER_CONFIG_DIR=str(self.tmp / "config"),
            JUPYTER_DATA_DIR=str(self.tmp / "data"),
            JUPYTER_RUNTIME_DIR=str(self.runtime_dir),
            JUPYTER_PLATFORM_DIRS="0",
            IPYTHONDIR=str(self.tmp / "ipython"),
            PYTHONUNBUFFERED="1",
            TF_CPP_MIN_LOG_LEVEL=env.get("TF_CPP_MIN_LOG_LEVEL", "3"),
        )
        env.pop("MPLBACKEND", None)  # the kernel picks its own inline backend
        return env

    def start(self, timeout=90.0, attempts=3):
        """Starts the server and waits until its API answers.

        Args:
            timeout: seconds to wait for the API on each attempt.
            attempts: how many free ports to try (another process may take one).

        Raises:
            TimeoutError: the server did not answer in time (its log is in the message).
        """
        t0 = time.monotonic()
        self._prepare_dirs()
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = open(self.log_path, "wb")  # noqa: SIM115 (closed in stop())
        last_error = None
        for _ in range(attempts):
            self.port = free_port()
            cmd = [
                sys.executable,
                "-m",
                "jupyterlab",
                "--no-browser",
                "--ServerApp.ip=127.0.0.1",
                f"--ServerApp.port={self.port}",
                "--ServerApp.port_retries=0",
                "--ServerApp.allow_root=True",
                f"--ServerApp.root_dir={self.root_dir}",
                "--ServerApp.password=",
                "--LabApp.expose_app_in_browser=True",
                "--ServerApp.terminals_enabled=False",
            ]
            self.proc = subprocess.Popen(  # preexec_fn: pytest is single-threaded here
                cmd,
                cwd=self.root_dir,
                env=self._env(),
                stdin=subprocess.DEVNULL,
                stdout=self._log,
                stderr=subprocess.STDOUT,
                preexec_fn=_die_with_parent,
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
        raise TimeoutError(f"JupyterLab did not start: {last_error}\n{self.log_tail()}")

    def _wait_ready(self, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise ChildProcessError(f"server exited with code {self.proc.returncode}")
            with contextlib.suppress(OSError, ValueError):
                status = self.api("GET", "/api/status", timeout=2)
                if "started" in status:
                    return
            time.sleep(0.25)
        raise TimeoutError(f"no answer from {self.url}/api/status after {timeout:.0f} s")

    def api(self, method, path, body=None, timeout=10):
        """Calls the server's REST API with the token; returns the decoded JSON (or None)."""
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method)
        req.add_header("Authorization", f"token {self.token}")
        if data is not None:
            req.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            raw = resp.read()
        return json.loads(raw) if raw else None

    def lab_url(self, notebook, workspace=None):
        """The URL that opens `notebook` (relative to the root) under its own workspace."""
        workspace = workspace or f"vw-{uuid.uuid4().hex[:12]}"
        return f"{self.url}/lab/workspaces/{workspace}/tree/{quote(notebook)}?token={self.token}"

    def shutdown_kernels(self):
        """Shuts every running kernel down through the API (frees the CPU between tests)."""
        with contextlib.suppress(OSError, ValueError):
            for session in self.api("GET", "/api/sessions") or []:
                with contextlib.suppress(OSError, ValueError):
                    self.api("DELETE", f"/api/sessions/{session['id']}", timeout=20)
            for kernel in self.api("GET", "/api/kernels") or []:
                with contextlib.suppress(OSError, ValueError):
                    self.api("DELETE", f"/api/kernels/{kernel['id']}", timeout=20)

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
        if self.proc.poll() is None:
            with contextlib.suppress(OSError, ValueError, urllib.error.URLError):
                self.api("POST", "/api/shutdown", timeout=10)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=15)
        if self.proc.poll() is None:
            _terminate([self.proc.pid])
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
            left = _terminate(_pids_mentioning(str(self.runtime_dir)))
        if self._log is not None:
            self._log.close()
            self._log = None
        if self.tmp is not None and not self.keep:
            shutil.rmtree(self.tmp, ignore_errors=True)
            self.tmp = None
        return left


# JavaScript run in the page. `__vw` is defined before any of Lab's scripts run.
INIT_SCRIPT = """
window.__vw = {
  panel(path) {
    const app = window.jupyterapp;
    if (!app || !app.shell) return null;
    for (const w of app.shell.widgets('main')) {
      if (w.context && w.context.path === path && w.content && w.sessionContext) return w;
    }
    return null;
  },
  kernelStatus(path) {
    const p = this.panel(path);
    const k = p && p.sessionContext.session && p.sessionContext.session.kernel;
    return k ? k.status + '/' + k.connectionStatus : 'none';
  },
  runAll(path) {
    const p = this.panel(path);
    window.jupyterapp.shell.activateById(p.id);
    const state = {done: false, ok: null, error: null};
    window.__vwRun = state;
    // Not returned to Playwright: the promise settles only when the cells finish.
    window.jupyterapp.commands.execute('notebook:run-all-cells').then(
      ok => { state.ok = ok; state.done = true; },
      err => { state.error = String(err); state.done = true; });
    return true;
  },
  cellErrors(path) {
    const p = this.panel(path);
    const errors = [];
    p.content.widgets.forEach((cell, i) => {
      if (cell.model.type !== 'code') return;
      const outs = cell.model.outputs;
      for (let j = 0; j < outs.length; j++) {
        const o = outs.get(j).toJSON();
        if (o.output_type === 'error') errors.push(`cell ${i}: ${o.ename}: ${o.evalue}`);
      }
    });
    return errors;
  },
  unexecuted(path) {
    const p = this.panel(path);
    const pending = [];
    p.content.widgets.forEach((cell, i) => {
      if (cell.model.type === 'code' && cell.model.sharedModel.getSource().trim() &&
          cell.model.executionCount === null) pending.push(i);
    });
    return pending;
  },
  watchSrc(selector) {
    const els = document.querySelectorAll(selector);
    if (els.length !== 1) return `expected one element for ${selector}, found ${els.length}`;
    const el = els[0];
    const rec = {el, selector, srcs: [el.getAttribute('src')]};
    new MutationObserver(() => {
      const s = el.getAttribute('src');
      if (s !== rec.srcs[rec.srcs.length - 1]) rec.srcs.push(s);
    }).observe(el, {attributes: true, attributeFilter: ['src']});
    (window.__vwWatches = window.__vwWatches || {})[selector] = rec;
    return '';
  },
  watched(selector) {
    const rec = (window.__vwWatches || {})[selector];
    if (!rec) return null;
    const now = document.querySelectorAll(selector);
    return {
      srcs: rec.srcs,
      connected: rec.el.isConnected,
      same: now.length === 1 && now[0] === rec.el,
      count: now.length,
    };
  },
  async pixels(selector) {
    const img = document.querySelector(selector);
    const blob = await (await fetch(img.src)).blob();
    const bmp = await createImageBitmap(blob);
    const c = document.createElement('canvas');
    c.width = bmp.width; c.height = bmp.height;
    const ctx = c.getContext('2d');
    ctx.drawImage(bmp, 0, 0);
    const d = ctx.getImageData(0, 0, c.width, c.height).data;
    let sum = 0, sq = 0; const n = d.length / 4;
    for (let i = 0; i < d.length; i += 4) {
      const v = (d[i] + d[i + 1] + d[i + 2]) / 3; sum += v; sq += v * v;
    }
    const mean = sum / n;
    const std = Math.sqrt(Math.max(0, sq / n - mean * mean));
    return {width: c.width, height: c.height, mean, std};
  },
};
"""


class NotebookPage:
    """One notebook open in JupyterLab in a Playwright page.

    Example:
        nb = NotebookPage(page, server, "x.ipynb").open()
        nb.run_all()
        nb.page.click("button.my-run")
        nb.wait_for("() => document.querySelector('.my-label').textContent === 'done'")

    Args:
        page: a Playwright sync `Page` with `INIT_SCRIPT` added to its context.
        server: the `LabServer` serving the notebook.
        path: the notebook's path relative to the server's root.
        artifacts: the folder for screenshots.
    """

    def __init__(self, page, server, path, artifacts=None):
        self.page = page
        self.server = server
        self.path = path
        self.artifacts = Path(artifacts) if artifacts else None
        self.timings = {}

    def _js_path(self):
        return json.dumps(self.path)

    def wait_for(self, expression, timeout=60.0, what=None, arg=None, polling=100):
        """Waits until the JS `expression` (a function source) returns a truthy value.

        Args:
            expression: a JS function, e.g. ``"() => document.title.includes('x')"``.
            timeout: seconds.
            what: what is awaited, for the error message.
            arg: one JSON-able argument passed to the function.
            polling: milliseconds between checks.

        Returns:
            The truthy value, as JSON.

        Raises:
            TimeoutError: with `what` and the time waited.
        """
        from playwright.sync_api import TimeoutError as PWTimeout

        try:
            handle = self.page.wait_for_function(
                expression, arg=arg, timeout=timeout * 1000, polling=polling
            )
        except PWTimeout as exc:
            raise TimeoutError(
                f"waited {timeout:.0f} s for {what or expression}; kernel={self.kernel_status()}"
            ) from exc
        return handle.json_value()

    def kernel_status(self):
        """'idle/connected', 'busy/connected', ... or 'none'."""
        try:
            return self.page.evaluate(f"() => window.__vw.kernelStatus({self._js_path()})")
        except Exception as exc:  # the page may be gone; this is for messages only
            return f"unknown ({exc.__class__.__name__})"

    def open(self, timeout=120.0):
        """Opens the notebook under a fresh workspace and waits for an idle kernel."""
        t0 = time.monotonic()
        self.page.goto(self.server.lab_url(self.path), wait_until="domcontentloaded")
        self.wait_for(
            f"() => window.__vw && window.__vw.panel({self._js_path()})",
            timeout=timeout,
            what=f"the notebook {self.path} to open",
        )
        self.timings["open_s"] = round(time.monotonic() - t0, 2)
        self.wait_for(
            f"() => window.__vw.kernelStatus({self._js_path()}) === 'idle/connected'",
            timeout=max(10.0, timeout - (time.monotonic() - t0)),
            what="the kernel to be idle",
        )
        self.timings["kernel_idle_s"] = round(time.monotonic() - t0, 2)
        return self

    def run_all(self, timeout=180.0, allow_errors=False):
        """Runs all cells and waits for them to finish.

        Raises:
            AssertionError: a cell raised (unless `allow_errors`) or some code cell
                did not run.
        """
        t0 = time.monotonic()
        self.page.evaluate(f"() => window.__vw.runAll({self._js_path()})")
        state = self.wait_for(
            "() => window.__vwRun && window.__vwRun.done && window.__vwRun",
            timeout=timeout,
            what="all cells to finish",
            polling=250,
        )
        self.timings["run_all_s"] = round(time.monotonic() - t0, 2)
        errors = self.page.evaluate(f"() => window.__vw.cellErrors({self._js_path()})")
        if errors and not allow_errors:
            raise AssertionError("cells raised:\n" + "\n".join(errors))
        if state.get("error"):
            raise AssertionError(f"run-all-cells failed: {state['error']}")
        pending = self.page.evaluate(f"() => window.__vw.unexecuted({self._js_path()})")
        if pending and not allow_errors:
            raise AssertionError(f"code cells that did not run: {pending}")
        return state

    def watch_src(self, selector):
        """Starts recording the distinct `src` values of the one element `selector` matches."""
        problem = self.page.evaluate("s => window.__vw.watchSrc(s)", selector)
        if problem:
            raise AssertionError(problem)

    def watched(self, selector):
        """{'srcs': [...], 'connected': bool, 'same': bool, 'count': int} for a watch."""
        return self.page.evaluate("s => window.__vw.watched(s)", selector)

    def pixels(self, selector):
        """Size, mean and std of the gray levels of an `<img>` (fetched from its blob)."""
        return self.page.evaluate("s => window.__vw.pixels(s)", selector)

    def type_into_readout(self, slider_selector, value):
        """Sets an ipywidgets slider by typing into its readout (works in Lab and Notebook 7)."""
        readout = self.page.locator(f"{slider_selector} .widget-readout")
        readout.scroll_into_view_if_needed()
        readout.click()
        self.page.keyboard.press("Control+A")
        self.page.keyboard.type(str(value))
        self.page.keyboard.press("Enter")

    def drag_slider(self, slider_selector, fraction):
        """Drags a slider's handle by `fraction` of its track's width (negative: left).

        Works with `readout=False` sliders, which have no box to type into.
        """
        track = self.page.locator(f"{slider_selector} .noUi-target").first
        handle = self.page.locator(f"{slider_selector} .noUi-handle").first
        handle.scroll_into_view_if_needed()
        box = track.bounding_box()
        grip = handle.bounding_box()
        x = grip["x"] + grip["width"] / 2
        y = grip["y"] + grip["height"] / 2
        mouse = self.page.mouse
        mouse.move(x, y)
        mouse.down()
        mouse.move(x + fraction * box["width"], y, steps=8)
        mouse.up()

    def screenshot(self, name, selector=None):
        """Saves a PNG under the artifacts folder and returns its path."""
        if self.artifacts is None:
            return None
        self.artifacts.mkdir(parents=True, exist_ok=True)
        path = self.artifacts / f"{re.sub(r'[^A-Za-z0-9_.-]+', '_', name)}.png"
        if selector:
            self.page.locator(selector).first.screenshot(path=str(path))
        else:
            self.page.screenshot(path=str(path))
        return path
