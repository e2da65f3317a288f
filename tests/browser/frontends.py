"""How each front-end opens a notebook and runs its cells: Lab, Notebook 7, Voila.

Lab and Notebook 7 run every cell with their own command (`notebook:run-all-cells`
through ``window.jupyterapp``); Voila runs them itself while serving the page.
"""

import time

from pages import FrontendPage


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
