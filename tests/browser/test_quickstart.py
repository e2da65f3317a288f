"""The product in a real browser: notebooks/01_quickstart.ipynb in Lab, Notebook 7 and Voila.

In each front-end: every cell runs; Run is clicked on the dashboard; the live
image's `<img>` gets at least 3 new srcs in place (the same element, watched by a
MutationObserver); the progress bar reaches the end; no image on the page is broken
at any sampled moment (every `<img>` is sampled every 100 ms from the page's load,
and every image error event counts); a loss-weight slider is dragged and the kernel
sees it; and the PNG, the GIF and the code snippet reach the browser as downloads
(the browser's download event), each file checked by its content and compared,
byte for byte, with what the kernel-side API of the same dashboard gives; then the
dashboard's layer browser runs, its grid fills in place, and a cell opens its
filter in a dashboard. No uncaught page error and no console error beyond the
harmless ones in allowlist.py. Screenshots of each dashboard and layer grid go to
artifacts/browser/<frontend>-dashboard.png and <frontend>-layer-grid.png; the
JupyterLab ones also to the README's images (see `readme_images` in conftest).
"""

import base64
import io
import time

import pytest
from PIL import Image

pytestmark = [pytest.mark.browser, pytest.mark.timeout(600)]

NOTEBOOK = "01_quickstart.ipynb"
DASH = ".vw-dashboard"
FRONTENDS = ["lab", "notebook", "voila"]
SIGNATURES = {"png": (b"\x89PNG\r\n\x1a\n",), "gif": (b"GIF89a", b"GIF87a")}


def run_dashboard(nb, run_timeout=240.0):
    """Clicks Run on the first dashboard and checks the live view until the run ends."""
    page = nb.page
    nb.wait_for(
        f"() => {{ const i = document.querySelector('{DASH} img.vw-image');"
        " return i && i.src.startsWith('blob:') && i.complete && i.naturalWidth > 0; }",
        timeout=60,
        what="the dashboard's image to render",
    )
    image = nb.tag(f"{DASH} img.vw-image", "dash-image")
    curves = nb.tag(f"{DASH} img.vw-curves", "dash-curves")
    progress = nb.tag(f"{DASH} .vw-progress", "dash-progress")
    run = nb.tag(f"{DASH} button.vw-run", "dash-run")
    stop = nb.tag(f"{DASH} button.vw-stop", "dash-stop")
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


def move_last_weight(nb):
    """Drags the last weight slider; returns the kernel's weights once it has seen the move.

    The slider is a readout-less log slider; the number box next to it is linked in
    the kernel, so its change proves the kernel saw the drag.
    """
    page = nb.page
    row = nb.tag(f"{DASH} .vw-weight-row", "dash-weight-row", index=-1)
    box = f"{row} .vw-weight-value input"
    before = float(page.locator(box).input_value())
    nb.drag_slider(f"{row} .vw-weight", -0.2 if before > 1.0 else 0.2)
    nb.wait_for(
        f"() => {{ const v = parseFloat(document.querySelector('{box}').value);"
        f" return v !== {before!r} && !Number.isNaN(v); }}",
        timeout=30,
        what="the kernel to see the moved weight slider",
    )
    # The drag sends intermediate values: wait until the box and the kernel agree.
    kernel = nb.kernel()
    deadline = time.monotonic() + 20
    while True:
        shown = float(page.locator(box).input_value())
        weights = kernel.value("dash.weights")
        last = list(weights.values())[-1]
        if last == pytest.approx(shown, rel=1e-3) or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert last == pytest.approx(shown, rel=1e-3) and last != before, (before, shown, weights)
    return weights


def expected_files(nb):
    """What the kernel-side API of the page's dashboard gives: {kind: bytes}."""
    folder = nb.server.tmp / f"expected-{nb.frontend}"
    folder.mkdir(exist_ok=True)
    png, gif = folder / "dash.png", folder / "dash.gif"
    code = nb.kernel().value(
        "dash.export_code()",
        setup=f"dash.save_png({str(png)!r})\ndash.save_gif({str(gif)!r})",
    )
    return {"png": png.read_bytes(), "gif": gif.read_bytes(), "code": code.encode()}


def check_downloads(nb, weights):
    """Each vw-download link reaches the browser as a file with the kernel's bytes."""
    expected = expected_files(nb)
    got = {}
    for kind, want in expected.items():
        link = f"{DASH} :is(a.vw-download-{kind}, .vw-download-{kind} a)[download]"
        nb.reveal(link)
        # The link follows the dashboard's state through the kernel: wait until it
        # carries what the kernel-side save gave just now, then download it.
        payload = base64.b64encode(want).decode()
        nb.wait_for(
            "([sel, b64]) => { const a = document.querySelector(sel);"
            " return a && a.href.startsWith('data:') && a.href.split(',')[1] === b64; }",
            arg=[link, payload],
            timeout=30,
            what=f"the {kind} link to carry the kernel's bytes",
        )
        name, data = nb.download(link)
        assert name.endswith(f".{kind}" if kind != "code" else ".py"), name
        assert data == want, f"the downloaded {kind} differs from the kernel's"
        got[kind] = data

    for kind in ("png", "gif"):
        assert got[kind].startswith(SIGNATURES[kind]), got[kind][:8]
        with Image.open(io.BytesIO(got[kind])) as img:
            img.load()
            assert min(img.size) >= 28, (kind, img.size)
            if kind == "gif":
                assert getattr(img, "n_frames", 1) >= 2, "the GIF has a single frame"
    text = got["code"].decode("utf-8")
    compile(text, "downloaded snippet", "exec")
    for key, weight in weights.items():
        assert repr(float(weight)) in text, f"{key}={weight!r} is not in the snippet:\n{text}"


def run_layer_browser(nb, readme=None, run_timeout=240.0):
    """Runs the dashboard's layer browser; the grid fills in place; a cell opens a dashboard.

    Args:
        nb: the open quickstart, its dashboard's run done.
        readme: a folder for the README's picture of the formed grid, or None.
        run_timeout: seconds.

    Returns:
        The number of cells in the grid.
    """
    page = nb.page
    run = nb.tag(f"{DASH} button.vw-layer-run", "layer-run")
    stop = nb.tag(f"{DASH} button.vw-layer-stop", "layer-stop")
    progress = nb.tag(f"{DASH} .vw-layer-progress", "layer-progress")
    nb.reveal(run)
    t0 = time.monotonic()
    page.locator(run).click()
    # The cells appear when the run starts; from then on each one's <img> must only
    # change its src, never be replaced.
    count = nb.wait_for(
        f"() => document.querySelectorAll('{DASH} .vw-layer-grid .vw-layer-cell img').length",
        timeout=60,
        what="the layer grid's cells",
    )
    cells = [
        nb.tag(f"{DASH} .vw-layer-grid .vw-layer-cell img", f"layer-cell-{i}", index=i)
        for i in range(count)
    ]
    for cell in cells:
        nb.watch_src(cell)
    nb.wait_for(
        f"() => document.querySelector('{stop}').disabled"
        f" && document.querySelector('{progress} .progress-bar').style.width === '100%'",
        timeout=run_timeout,
        what="the layer run to finish with a full progress bar",
        polling=200,
    )
    nb.timings["layer_run_s"] = round(time.monotonic() - t0, 2)
    assert count == len(page.locator(f"{DASH} .vw-layer-grid .vw-layer-cell img").all())
    for cell in cells:
        watched = nb.watched(cell)
        assert watched["same"] and watched["connected"], (cell, watched)
        # The first src is the placeholder; every cell then shows its filter's result.
        assert len(watched["srcs"]) >= 2 and len(set(watched["srcs"])) == len(watched["srcs"])
    assert len(nb.watched(cells[0])["srcs"]) >= 3, "the first cell did not update live"
    formed = [nb.pixels(cell) for cell in cells]
    assert sum(p["std"] > 5 for p in formed) >= len(formed) // 2, formed
    assert nb.kernel().value("sorted(dash.layers.results)") == list(range(count))

    nb.screenshot(f"{nb.frontend}-layer-grid", selector=f"{DASH} .vw-layer-grid")
    if readme is not None:
        nb.screenshot("layer-grid", selector=f"{DASH} .vw-layer-browser", folder=readme)
    # A cell's button opens that filter in a dashboard below the grid.
    pick = min(3, count - 1)
    page.locator(f"{DASH} .vw-layer-grid .vw-layer-cell").nth(pick).locator("button").click()
    nb.wait_for(
        f"() => document.querySelector('{DASH} .vw-layer-dashboard .vw-dashboard img.vw-image')",
        timeout=30,
        what="the opened filter's dashboard",
    )
    # It maximizes that filter and starts from the cell's result.
    opened = nb.kernel().value(
        "[dash.layers.dashboard.optimizer.losses[0].get_config()['filter_indices'],"
        f" bool((dash.layers.dashboard.current_input == dash.layers.results[{pick}]).all())]"
    )
    assert opened == [[pick], True], opened
    return count


def check_images(nb):
    """No `<img>` on the page has been broken at any sampled moment since its load."""
    assert nb.images()["samples"] > 20
    broken = nb.broken_images()
    assert not broken, "broken images were seen:\n" + "\n".join(map(str, broken))


@pytest.mark.parametrize("frontend", FRONTENDS)
def test_quickstart_dashboard_live(open_notebook, readme_images, frontend):
    t0 = time.monotonic()
    nb = open_notebook(NOTEBOOK, frontend)
    nb.run_all(timeout=300)
    run_dashboard(nb)
    # The picture of the finished run, its weights as they were for it.
    nb.page.locator(DASH).scroll_into_view_if_needed()
    nb.screenshot(f"{frontend}-dashboard", selector=DASH)
    if frontend == "lab":
        nb.screenshot("dashboard", selector=DASH, folder=readme_images)
    check_images(nb)

    weights = move_last_weight(nb)
    check_downloads(nb, weights)
    # Last: the filter it opens adds a second dashboard to the page.
    run_layer_browser(nb, readme=readme_images if frontend == "lab" else None)
    check_images(nb)
    nb.timings["test_total_s"] = round(time.monotonic() - t0, 2)
