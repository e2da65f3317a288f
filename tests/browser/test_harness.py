"""The browser harness itself, on a small notebook of its own (notebooks/harness.ipynb).

Proves the whole path the product test relies on: JupyterLab serves and runs a
notebook, a click reaches the kernel, a background thread's fresh PNG bytes replace
the same `<img>`'s src in place, and a value typed into a slider's readout reaches
the kernel (seen through a Label that the kernel updates).
"""

import time

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

NB = "browser/harness.ipynb"


def test_click_updates_image_in_place_and_slider_reaches_kernel(open_notebook):
    t0 = time.monotonic()
    nb = open_notebook(NB)
    nb.run_all()
    page = nb.page

    nb.wait_for(
        "() => { const i = document.querySelector('img.hx-image');"
        " return i && i.src.startsWith('blob:') && i.complete; }",
        timeout=30,
        what="the image widget to render",
    )
    assert page.locator(".jp-OutputArea-output pre", has_text="all cells ran").count() == 1
    nb.watch_src("img.hx-image")
    first = nb.pixels("img.hx-image")
    assert (first["width"], first["height"]) == (48, 48)

    page.locator("button.hx-go").click()
    nb.wait_for(
        "() => document.querySelector('.hx-status').textContent.trim() === 'done'",
        timeout=60,
        what="the worker thread to finish",
    )
    # The last frame's bytes arrive before the 'done' label; let the view catch up.
    nb.wait_for(
        "() => window.__vw.watched('img.hx-image').srcs.length >= 4",
        timeout=10,
        what="at least 3 src changes",
    )
    watched = nb.watched("img.hx-image")
    assert watched["same"] and watched["connected"], watched
    assert len(set(watched["srcs"])) == len(watched["srcs"]) >= 4, watched["srcs"]
    assert all(s.startswith("blob:") for s in watched["srcs"])
    last = nb.pixels("img.hx-image")
    assert last["std"] > 10 and last != first

    nb.type_into_readout(".hx-slider", 7)
    nb.wait_for(
        "() => document.querySelector('.hx-seen').textContent.includes('slider=7')",
        timeout=30,
        what="the kernel to see the slider at 7",
    )
    # A slider with no readout: drag its handle; a kernel-side link copies the value
    # into a FloatText, so the box changing proves the kernel saw the drag.
    nb.drag_slider(".hx-knob", 0.25)
    moved = nb.wait_for(
        "() => { const v = parseFloat(document.querySelector('.hx-knob-seen input').value);"
        " return v > 0.3 && v; }",
        timeout=30,
        what="the kernel to see the dragged slider",
    )
    assert 0.3 < moved <= 2.0

    shot = nb.screenshot("harness", selector=".jp-NotebookPanel")
    assert shot is None or shot.stat().st_size > 1000
    nb.timings["test_total_s"] = round(time.monotonic() - t0, 2)
