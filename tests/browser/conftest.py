"""Fixtures for the real-browser tests: Jupyter servers and Debian's chromium.

- `servers` (session): starts the server of a front-end ("lab", "notebook",
  "voila") the first time a test asks for it, serving a temporary copy of the
  repo's `notebooks/` (at the root) and of `tests/browser/notebooks/` (under
  `browser/`). Every server is stopped at the end of the session, on failure, and
  on SIGTERM.
- `browser` (session): chromium from /usr/bin/chromium (or `$VW_CHROMIUM`), headless,
  with the flags a closed network needs.
- `page` (function): a fresh context and page; console errors and uncaught page
  errors are collected, and any not allowed (allowlist.py) for the front-ends opened
  fails the test at teardown; a screenshot is saved when the test fails. Kernels are
  shut down after each test.
- `open_notebook` (function): ``open_notebook("browser/x.ipynb", "voila")`` returns an
  open `pages.FrontendPage` of that front-end (`frontends.py`).
- `readme_images` (session): the folder for the README's screenshots.

Artifacts (screenshots, server logs, timings.json) go to `$VW_ARTIFACTS`, by default
`artifacts/browser/` at the repo root. `VW_KEEP_SERVED=1` keeps the served folders.
"""

import contextlib
import json
import os
import re
import signal
import time
from pathlib import Path

import pytest
from allowlist import unexpected_errors
from frontends import PAGES
from pages import PAGE_JS
from servers import SERVERS

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
CHROMIUM = os.environ.get("VW_CHROMIUM", "/usr/bin/chromium")

# Chromium on a machine with no network: no background fetches, no GPU.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    "--metrics-recording-only",
    "--disable-domain-reliability",
]

TIMINGS = {}


def artifacts_dir():
    path = Path(os.environ.get("VW_ARTIFACTS", REPO / "artifacts" / "browser"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def _write_timings():
    if TIMINGS:
        with contextlib.suppress(OSError):
            (artifacts_dir() / "timings.json").write_text(json.dumps(TIMINGS, indent=2))


class ServerPool:
    """The running servers, one per front-end, started on first use."""

    def __init__(self):
        self.running = {}

    def get(self, frontend):
        if frontend not in SERVERS:
            raise ValueError(
                f"`frontend` must be one of {sorted(SERVERS)}. Received: {frontend!r}"
            )
        if frontend not in self.running:
            server = SERVERS[frontend](
                {"": REPO / "notebooks", "browser": HERE / "notebooks"},
                log_path=artifacts_dir() / f"{frontend}-server.log",
                keep=os.environ.get("VW_KEEP_SERVED") == "1",
            )
            self.running[frontend] = server
            server.start()
            TIMINGS[f"{frontend}_server_start_s"] = server.timings["server_start_s"]
        return self.running[frontend]

    def stop(self):
        """Stops every server; returns the pids that survived, by front-end."""
        left = {}
        for frontend, server in self.running.items():
            pids = server.stop()
            if pids:
                left[frontend] = pids
        return left


@pytest.fixture(scope="session")
def servers():
    """A `ServerPool`; every server is stopped at the end, on failure, and on SIGTERM."""
    pool = ServerPool()
    previous = signal.getsignal(signal.SIGTERM)

    def on_sigterm(signum, frame):
        # `timeout` and CI send SIGTERM: stop the servers and their kernels now, then
        # unwind as an interrupt so pytest runs the remaining teardowns.
        signal.signal(signal.SIGTERM, previous or signal.SIG_DFL)
        pool.stop()
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, on_sigterm)
    try:
        yield pool
    finally:
        left = pool.stop()
        with contextlib.suppress(ValueError, TypeError):
            signal.signal(signal.SIGTERM, previous or signal.SIG_DFL)
        _write_timings()
        assert not left, f"processes that survived their server's stop: {left}"


@pytest.fixture(scope="session")
def browser():
    """Headless chromium driven by Playwright (never Playwright's own download)."""
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"{CHROMIUM} is missing: `apt-get install -y chromium fonts-dejavu-core` "
            "(scripts/test.sh does it)"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        t0 = time.monotonic()
        chromium = pw.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS, timeout=60_000
        )
        TIMINGS["browser_launch_s"] = round(time.monotonic() - t0, 2)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


def pytest_terminal_summary(terminalreporter):
    """Prints the browser tests' timings (also in timings.json)."""
    if not TIMINGS:
        return
    terminalreporter.section("browser timings (s)")
    for name, value in TIMINGS.items():
        terminalreporter.write_line(f"{name}: {json.dumps(value)}")


@pytest.fixture(scope="session")
def readme_images():
    """Where the README's screenshots go: notebooks/images/ with `VW_README_IMAGES=1`.

    Otherwise artifacts/browser/readme/, so a test run leaves the repo's tracked
    images alone (every run's pictures differ a little: timings, noise).
    """
    if os.environ.get("VW_README_IMAGES") == "1":
        return REPO / "notebooks" / "images"
    return artifacts_dir() / "readme"


@pytest.fixture
def opened():
    """The `pages.FrontendPage`s the current test opened."""
    return []


@pytest.fixture
def page(request, browser, servers, opened):
    """A fresh page; unexpected console or page errors fail the test; a shot on failure."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    context.add_init_script(PAGE_JS)
    context.set_default_timeout(30_000)
    pg = context.new_page()
    errors = []
    pg.on(
        "console",
        lambda msg: (
            msg.type == "error"
            and errors.append(f"console: {msg.text} @ {msg.location.get('url', '?')}")
        ),
    )
    pg.on("pageerror", lambda exc: errors.append(f"pageerror: {exc}"))
    t0 = time.monotonic()
    try:
        yield pg
    finally:
        rep = getattr(request.node, "rep_call", None)
        if rep is not None and rep.failed:
            with contextlib.suppress(Exception):
                name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid)
                pg.screenshot(path=str(artifacts_dir() / f"FAILED-{name}.png"))
        for nb in opened:
            nb.close()
        with contextlib.suppress(Exception):
            context.close()
        for frontend in {nb.frontend for nb in opened}:
            servers.get(frontend).shutdown_kernels()
        TIMINGS[request.node.name] = {
            "total_s": round(time.monotonic() - t0, 2),
            **{f"{nb.frontend}:{nb.path}": nb.timings for nb in opened},
        }
        _write_timings()
    unexpected = unexpected_errors(errors, {nb.frontend for nb in opened})
    assert not unexpected, "unexpected console or page errors:\n" + "\n".join(unexpected)


@pytest.fixture
def open_notebook(page, servers, opened):
    """`open_notebook(path, frontend="lab")` opens `path` (relative to the served root)."""

    def _open(path, frontend="lab", timeout=120.0):
        nb = PAGES[frontend](page, servers.get(frontend), path, artifacts=artifacts_dir())
        opened.append(nb)
        return nb.open(timeout=timeout)

    return _open
