"""Fixtures for the real-browser tests: a JupyterLab server and Debian's chromium.

- `lab_server` (session): JupyterLab on 127.0.0.1 serving a temporary copy of the
  repo's `notebooks/` (at the root) and of `tests/browser/notebooks/` (under
  `browser/`). Stopped at the end of the session, on failure, and on SIGTERM.
- `browser` (session): chromium from /usr/bin/chromium (or `$VW_CHROMIUM`), headless,
  with the flags a closed network needs.
- `page` (function): a fresh context and page; console errors are collected and
  any not in `CONSOLE_ALLOW` fails the test at teardown; a screenshot is saved when
  the test fails. Kernels are shut down after each test.
- `open_notebook` (function): ``open_notebook("browser/x.ipynb")`` returns an open
  `labkit.NotebookPage` with an idle kernel.

Artifacts (screenshots, server log, timings.json) go to `$VW_ARTIFACTS`, by default
`artifacts/browser/` at the repo root. `VW_KEEP_LAB=1` keeps the served folder.
"""

import contextlib
import json
import os
import re
import signal
import time
from pathlib import Path

import pytest
from labkit import INIT_SCRIPT, LabServer, NotebookPage

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

# Console errors known to be harmless; anything else fails the test.
CONSOLE_ALLOW = [
    # Notebook 7.6.5 (LIVE_UI.md)
    r"reading 'schema'",
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


@pytest.fixture(scope="session")
def lab_server():
    """A running `labkit.LabServer`; stopped at the end, on failure, and on SIGTERM."""
    server = LabServer(
        {"": REPO / "notebooks", "browser": HERE / "notebooks"},
        log_path=artifacts_dir() / "jupyter-server.log",
        keep=os.environ.get("VW_KEEP_LAB") == "1",
    )
    previous = signal.getsignal(signal.SIGTERM)

    def on_sigterm(signum, frame):
        # `timeout` and CI send SIGTERM: stop the server and its kernels now, then
        # unwind as an interrupt so pytest runs the remaining teardowns.
        signal.signal(signal.SIGTERM, previous or signal.SIG_DFL)
        server.stop()
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, on_sigterm)
    try:
        server.start()
        TIMINGS["server_start_s"] = server.timings["server_start_s"]
        yield server
    finally:
        left = server.stop()
        with contextlib.suppress(ValueError, TypeError):
            signal.signal(signal.SIGTERM, previous or signal.SIG_DFL)
        _write_timings()
        assert not left, f"processes that survived the server's stop: {left}"


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


@pytest.fixture
def console_errors():
    """The console errors and page errors seen by `page`, as strings."""
    return []


@pytest.fixture
def page(request, browser, lab_server, console_errors):
    """A fresh page; unexpected console errors fail the test; a screenshot on failure."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.add_init_script(INIT_SCRIPT)
    context.set_default_timeout(30_000)
    pg = context.new_page()
    pg.on(
        "console",
        lambda msg: (
            msg.type == "error"
            and console_errors.append(f"console: {msg.text} @ {msg.location.get('url', '?')}")
        ),
    )
    pg.on("pageerror", lambda exc: console_errors.append(f"pageerror: {exc}"))
    try:
        yield pg
    finally:
        rep = getattr(request.node, "rep_call", None)
        if rep is not None and rep.failed:
            with contextlib.suppress(Exception):
                name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid)
                pg.screenshot(path=str(artifacts_dir() / f"FAILED-{name}.png"))
        with contextlib.suppress(Exception):
            context.close()
        lab_server.shutdown_kernels()
    unexpected = [e for e in console_errors if not any(re.search(a, e) for a in CONSOLE_ALLOW)]
    assert not unexpected, "unexpected console errors:\n" + "\n".join(unexpected)


@pytest.fixture
def open_notebook(page, lab_server, request):
    """`open_notebook(path)` opens `path` (relative to the served root) with an idle kernel."""
    opened = []

    def _open(path, timeout=120.0):
        nb = NotebookPage(page, lab_server, path, artifacts=artifacts_dir())
        opened.append(nb)
        return nb.open(timeout=timeout)

    yield _open
    for nb in opened:
        TIMINGS[f"{request.node.name}:{nb.path}"] = nb.timings
    _write_timings()
