"""The product in a real browser: notebooks/01_quickstart.ipynb in JupyterLab.

Runs all cells, clicks Run on the dashboard, checks that the live image's `<img>`
gets at least 3 new srcs in place (the same element, watched by a
MutationObserver) and that the progress bar reaches the end, drags a loss-weight
slider and checks that the kernel saw it, and saves a screenshot of the dashboard
with its dreamed digit and loss curves (artifacts/browser/quickstart-dashboard.png).
"""

import time

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.timeout(600)]

NOTEBOOK = "01_quickstart.ipynb"
DASH = ".vw-dashboard"


def _tag(nb, selector, tag, index=0):
    """Marks one element matching `selector` with data-vw-test=`tag`; returns its selector.

    `index` counts from the end when negative. A re-rendered element would not
    carry the mark, so watching the tagged selector also proves the element stays
    the same.
    """
    found = nb.page.evaluate(
        "([sel, tag, i]) => { const all = document.querySelectorAll(sel);"
        " const el = all[i < 0 ? all.length + i : i];"
        " if (el) el.setAttribute('data-vw-test', tag); return !!el; }",
        [selector, tag, index],
    )
    assert found, f"no element {index} matches {selector}"
    return f"[data-vw-test={tag}]"


def check_dashboard(nb, name, run_timeout=240.0):
    """Drives the first dashboard of an open, fully run notebook (see the module doc)."""
    page = nb.page
    nb.wait_for(
        f"() => {{ const i = document.querySelector('{DASH} img.vw-image');"
        " return i && i.src.startsWith('blob:') && i.complete && i.naturalWidth > 0; }",
        timeout=60,
        what="the dashboard's image to render",
    )
    image = _tag(nb, f"{DASH} img.vw-image", "dash-image")
    curves = _tag(nb, f"{DASH} img.vw-curves", "dash-curves")
    progress = _tag(nb, f"{DASH} .vw-progress", "dash-progress")
    run = _tag(nb, f"{DASH} button.vw-run", "dash-run")
    stop = _tag(nb, f"{DASH} button.vw-stop", "dash-stop")
    nb.watch_src(image)

    page.locator(run).scroll_into_view_if_needed()
    t0 = time.monotonic()
    page.locator(run).click()
    # Running: Stop enabled. Done: Stop disabled again and the bar full.
    nb.wait_for(
        f"() => !document.querySelector('{stop}').disabled",
        timeout=60,
        what="the run to start",
    )
    nb.wait_for(
        f"() => document.querySelector('{stop}').disabled"
        f" && document.querySelector('{progress} .progress-bar').style.width === '100%'",
        timeout=run_timeout,
        what="the run to finish with a full progress bar",
        polling=200,
    )
    nb.timings["dashboard_run_s"] = round(time.monotonic() - t0, 2)

    watched = nb.watched(image)
    assert watched["same"] and watched["connected"], watched
    srcs = watched["srcs"]
    assert len(srcs) >= 4 and len(set(srcs)) == len(srcs), srcs
    assert all(s.startswith("blob:") for s in srcs), srcs
    errors = page.locator(f"{DASH} .vw-errors").inner_text().strip()
    assert not errors, f"the dashboard shows an error:\n{errors}"

    dreamed = nb.pixels(image)
    assert dreamed["width"] >= 28 and dreamed["std"] > 10, dreamed
    plot = nb.pixels(curves)
    assert plot["width"] >= 200 and plot["std"] > 5, plot

    # The picture of the finished run, its weights as they were for it.
    page.locator(DASH).scroll_into_view_if_needed()
    nb.screenshot(f"{name}-dashboard", selector=DASH)
    nb.screenshot(f"{name}-page")

    # Drag the last weight slider (a readout-less log slider); the number box next
    # to it is linked in the kernel, so its change proves the kernel saw the drag.
    row = _tag(nb, f"{DASH} .vw-weight-row", "dash-weight-row", index=-1)
    box = f"{row} .vw-weight-value input"
    before = float(page.locator(box).input_value())
    nb.drag_slider(f"{row} .vw-weight", -0.2 if before > 1.0 else 0.2)
    after = nb.wait_for(
        f"() => {{ const v = parseFloat(document.querySelector('{box}').value);"
        f" return v !== {before!r} && !Number.isNaN(v) && {{v}}; }}",
        timeout=30,
        what="the kernel to see the moved weight slider",
    )["v"]
    assert after >= 0 and after != before


def test_quickstart_dashboard_live_in_jupyterlab(open_notebook):
    t0 = time.monotonic()
    nb = open_notebook(NOTEBOOK)
    nb.run_all(timeout=300)
    check_dashboard(nb, "quickstart")
    nb.timings["test_total_s"] = round(time.monotonic() - t0, 2)
