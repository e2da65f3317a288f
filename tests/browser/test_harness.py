"""The browser harness itself, on a small notebook of its own (notebooks/harness.ipynb).

Proves, in JupyterLab, Notebook 7 and Voila, the whole path the product tests rely
on: the front-end serves and runs a notebook, a click reaches the kernel, a
background thread's fresh PNG bytes replace the same `<img>`'s src in place, a
value typed into a slider's readout and a dragged slider both reach the kernel
(seen through widgets the kernel updates), and a second client of the page's kernel
reads the same values. It also proves two checks the product tests rely on: a
link in a widget reaches the browser as a download with the kernel's bytes, and a
broken image is noticed.
"""

import base64
import time

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

NB = "browser/harness.ipynb"


@pytest.mark.parametrize("frontend", ["lab", "notebook", "voila"])
def test_click_updates_image_in_place_and_sliders_reach_kernel(open_notebook, frontend):
    t0 = time.monotonic()
    nb = open_notebook(NB, frontend)
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

    # The page's kernel, asked directly, holds the values the page shows (the drag
    # sends intermediate values: wait for the box and the kernel to agree).
    kernel = nb.kernel()
    assert kernel.value("slider.value") == 7
    assert kernel.value("status.value") == "done"
    deadline = time.monotonic() + 20
    while True:
        shown = float(page.locator(".hx-knob-seen input").input_value())
        if kernel.value("knob.value") == pytest.approx(shown) or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert kernel.value("knob.value") == pytest.approx(shown) and shown >= moved

    # A link in an HTML widget reaches the browser as a file, byte for byte.
    name, data = nb.download(".hx-download a[download]")
    assert name == "frame7.png"
    assert data == base64.b64decode(kernel.value("base64.b64encode(payload).decode()"))

    images = nb.images()
    assert images["samples"] > 10 and not images["broken"], images
    shot = nb.screenshot(f"harness-{frontend}", selector=nb.root)
    assert shot.stat().st_size > 1000

    # The image check notices a broken image (here made so on purpose).
    kernel.value("None", setup='spare.value = b"not a png"')
    broken = nb.wait_for(
        "() => window.__vw.images().broken.filter(b => b.classes.includes('hx-spare'))"
        ".length > 0 && window.__vw.images().broken",
        timeout=10,
        what="the broken spare image to be noticed",
    )
    assert {b["classes"].split()[-1] for b in broken} == {"hx-spare"}, broken
    nb.timings["test_total_s"] = round(time.monotonic() - t0, 2)
