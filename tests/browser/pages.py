"""A notebook open in a real browser: what a test can do on it in any front-end.

`FrontendPage` is the interface the front-ends share (`frontends.py` has one
subclass each): `open()`, then `run_all()`, then the same helpers everywhere:
waits, `<img>` watches, pixels, sliders, tabs, downloads, screenshots, and
`kernel()`, a second client of the page's kernel. The in-page side is `page.js`,
added to the page's context before any script of the front-end runs (`PAGE_JS`).
"""

import json
import re
from pathlib import Path

from kernels import KernelProbe

PAGE_JS = Path(__file__).with_name("page.js").read_text()


class FrontendPage:
    """One notebook in a Playwright page; subclasses know their front-end.

    Example:
        nb = frontends.LabPage(page, server, "x.ipynb", artifacts=Path("artifacts")).open()
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
