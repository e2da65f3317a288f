"""A notebook open in a real browser, in JupyterLab, Notebook 7 or Voila.

`LabPage`, `NotebookPage` and `VoilaPage` share one interface: `open()`, then
`run_all()` (Lab and Notebook 7 run every cell with their own command; Voila has
run them while serving the page), then the same helpers in every front-end: waits,
`<img>` watches, pixels, sliders, downloads, screenshots, and `kernel()`, a second
client of the page's kernel. The in-page side is `page.js`, added to the page's
context before any script of the front-end runs (`PAGE_JS`).
"""

import json
import re
import time
from pathlib import Path

from kernels import KernelProbe

PAGE_JS = Path(__file__).with_name("page.js").read_text()


class FrontendPage:
    """One notebook in a Playwright page; subclasses know their front-end.

    Example:
        nb = LabPage(page, server, "x.ipynb", artifacts=Path("artifacts")).open()
        nb.run_all()
        nb.page.click("button.my-run")
        nb.wait_for("() => document.querySelector('.my-label').textContent === 'done'")

    Args:
        page: a Playwright sync `Page` whose context has `PAGE_JS` as an init script.
        server: the `servers.JupyterServer` serving the notebook (the same front-end).
        path: the notebook's path relative to the server's root.
        artifacts: the folder for screenshots.
    """

    frontend = None
    # The element holding the notebook's cells and outputs (for whole-notebook shots).
    root = "body"

    def __init__(self, page, server, path, artifacts):
        self.page = page
        self.server = server
        self.path = path
        self.artifacts = Path(artifacts)
        self.timings = {}
        self.opened_at = None
        self._probe = None

    def _js_path(self):
        return json.dumps(self.path)

    # -------------------------------------------------------------- per front-end
    def open(self, timeout=120.0):
        """Loads the notebook's page and waits until it can run; returns self."""
        raise NotImplementedError

    def run_all(self, timeout=180.0, allow_errors=False):
        """Has every cell run, and waits for them to finish.

        Raises:
            AssertionError: a cell raised (unless `allow_errors`) or did not run.
        """
        raise NotImplementedError

    def kernel_id(self):
        """The id of the page's kernel (None before it has one)."""
        raise NotImplementedError

    def kernel_status(self):
        """A short description of the kernel's state, for error messages."""
        return "unknown"

    # -------------------------------------------------------------- the kernel
    def kernel(self):
        """A `kernels.KernelProbe` on the page's kernel (made once, closed by `close`)."""
        if self._probe is None:
            kernel_id = self.kernel_id()
            files = self.server.connection_files()
            if kernel_id not in files:
                raise AssertionError(
                    f"no connection file for kernel {kernel_id!r}; running: {sorted(files)}"
                )
            self._probe = KernelProbe(files[kernel_id])
        return self._probe

    def close(self):
        """Closes the kernel probe, if any (the page and its kernel stay)."""
        if self._probe is not None:
            self._probe.close()
            self._probe = None

    # -------------------------------------------------------------- waiting
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
                f"{self.frontend}: waited {timeout:.0f} s for {what or expression}; "
                f"kernel={self.kernel_status()}"
            ) from exc
        return handle.json_value()

    # -------------------------------------------------------------- elements
    def tag(self, selector, tag, index=0):
        """Marks one element matching `selector` with data-vw-test=`tag`; returns its selector.

        `index` counts from the end when negative. A re-rendered element would not
        carry the mark, so watching the tagged selector also proves the element stays
        the same.
        """
        if not self.page.evaluate("a => window.__vw.tag(...a)", [selector, tag, index]):
            raise AssertionError(f"no element {index} matches {selector}")
        return f"[data-vw-test={tag}]"

    def reveal(self, selector):
        """Clicks the tabs (outermost first) that hide the first `selector` match.

        Raises:
            AssertionError: nothing matches `selector`.
        """
        tabs = self.page.evaluate("s => window.__vw.tabsHiding(s)", selector)
        if tabs is None:
            raise AssertionError(f"nothing matches {selector}")
        for tab in tabs:
            self.page.locator(tab).click()
        self.page.locator(selector).first.wait_for(state="visible")

    def watch_src(self, selector):
        """Starts recording the distinct `src` values of the one element `selector` matches."""
        problem = self.page.evaluate("s => window.__vw.watchSrc(s)", selector)
        if problem:
            raise AssertionError(problem)

    def watched(self, selector):
        """{'srcs': [...], 'connected': bool, 'same': bool, 'count': int} for a watch."""
        return self.page.evaluate("s => window.__vw.watched(s)", selector)

    def images(self):
        """{'samples': n, 'broken': [...]}: every `<img>` with a src, checked since load.

        The page samples every such image each 100 ms (broken: loaded with no
        pixels) and records every image `error` event in between.
        """
        return self.page.evaluate("() => window.__vw.images()")

    def broken_images(self):
        """The images seen broken since load, one entry per image and src.

        Returns:
            A list of ``{"classes", "src", "how", "count", "first_ms", "last_ms"}``
            (page times in ms), empty when every sampled image had pixels.
        """
        seen = {}
        for b in self.images()["broken"]:
            entry = seen.setdefault(
                (b["classes"], b["src"]),
                {"classes": b["classes"], "src": b["src"], "how": [], "count": 0},
            )
            entry["count"] += 1
            entry.setdefault("first_ms", b["at_ms"])
            entry["last_ms"] = b["at_ms"]
            if b["how"] not in entry["how"]:
                entry["how"].append(b["how"])
        return list(seen.values())

    def pixels(self, selector):
        """Size, mean and std of the gray levels of an `<img>` (fetched from its src)."""
        return self.page.evaluate("s => window.__vw.pixels(s)", selector)

    # -------------------------------------------------------------- input
    def type_into_readout(self, slider_selector, value):
        """Sets an ipywidgets slider by typing into its readout (works in every front-end)."""
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

    # -------------------------------------------------------------- output
    def download(self, selector, timeout=30.0):
        """Clicks the link `selector` and catches the browser's download.

        Returns:
            ``(suggested file name, the file's bytes)``.

        Raises:
            AssertionError: the download failed.
        """
        link = self.page.locator(selector)
        link.scroll_into_view_if_needed()
        with self.page.expect_download(timeout=timeout * 1000) as info:
            link.click()
        download = info.value
        failure = download.failure()
        if failure:
            raise AssertionError(f"download from {selector} failed: {failure}")
        return download.suggested_filename, Path(download.path()).read_bytes()

    def screenshot(self, name, selector=None, folder=None):
        """Saves a PNG of the page (or of the first `selector` match) and returns its path.

        Args:
            name: the file name, without ``.png``.
            selector: an element to shoot; None shoots the viewport.
            folder: where to save (default: the artifacts folder).
        """
        folder = Path(folder) if folder else self.artifacts
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{re.sub(r'[^A-Za-z0-9_.-]+', '_', name)}.png"
        if selector:
            self.page.locator(selector).first.screenshot(path=str(path))
        else:
            self.page.screenshot(path=str(path))
        return path


class LabPage(FrontendPage):
    """A notebook in JupyterLab, opened under a workspace of its own."""

    frontend = "lab"
    root = ".jp-NotebookPanel"

    def kernel_id(self):
        return self.page.evaluate(f"() => window.__vw.kernelId({self._js_path()})")

    def kernel_status(self):
        try:
            return self.page.evaluate(f"() => window.__vw.kernelStatus({self._js_path()})")
        except Exception as exc:  # the page may be gone; this is for messages only
            return f"unknown ({exc.__class__.__name__})"

    def open(self, timeout=120.0):
        """Opens the notebook and waits for its kernel to be idle; returns self."""
        t0 = time.monotonic()
        self.page.goto(self.server.page_url(self.path), wait_until="domcontentloaded")
        self.wait_for(
            f"() => window.__vw && window.__vw.hasPanel({self._js_path()})",
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
        """Runs every cell with the front-end's own command, and waits for them to finish.

        Raises:
            AssertionError: a cell raised (unless `allow_errors`) or some code cell
                did not run.
        """
        t0 = time.monotonic()
        self.page.evaluate(f"() => window.__vw.runAll({self._js_path()})")
        state = self.wait_for(
            "() => { const r = window.__vw.runState(); return r && r.done && r; }",
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


class NotebookPage(LabPage):
    """A notebook in Notebook 7: its own tab at /notebooks/<path>, the same commands as Lab.

    Notebook 7 is built from Lab's components and exposes the same application
    object, so opening, running and reading cells work as in `LabPage`.
    """

    frontend = "notebook"


class VoilaPage(FrontendPage):
    """A notebook as a Voila app: Voila runs every cell while serving the page.

    The page shows only outputs. The HTML streams in as the cells run, so the page is
    complete once every cell has run; then Voila removes its spinner and shows the
    cells, and the widgets render from the kernel.
    """

    frontend = "voila"
    root = "#rendered_cells"

    def kernel_id(self):
        return self.page.evaluate("() => window.__vw.voilaKernelId()")

    def kernel_status(self):
        try:
            done = self.page.evaluate("() => window.__vw.voilaDone()")
        except Exception as exc:  # for messages only
            return f"unknown ({exc.__class__.__name__})"
        return "cells ran" if done else "cells running"

    def open(self, timeout=120.0):
        """Starts loading the app (Voila starts a kernel and runs the cells); returns self."""
        t0 = time.monotonic()
        self.page.goto(
            self.server.page_url(self.path), wait_until="commit", timeout=timeout * 1000
        )
        self.timings["open_s"] = round(time.monotonic() - t0, 2)
        self.opened_at = t0
        return self

    def run_all(self, timeout=180.0, allow_errors=False):
        """Waits for Voila to have run every cell and shown them.

        Raises:
            AssertionError: a cell raised (unless `allow_errors`).
        """
        t0 = self.opened_at or time.monotonic()
        self.wait_for(
            "() => window.__vw && window.__vw.voilaDone()",
            timeout=timeout,
            what="Voila to run every cell",
            polling=250,
        )
        self.timings["run_all_s"] = round(time.monotonic() - t0, 2)
        errors = self.page.evaluate("() => window.__vw.voilaErrors()")
        if errors and not allow_errors:
            raise AssertionError("cells raised:\n" + "\n".join(errors))
        return {"done": True}


PAGES = {cls.frontend: cls for cls in (LabPage, NotebookPage, VoilaPage)}
