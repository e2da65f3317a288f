"""The attribution explorer in a real browser: notebooks/04 in JupyterLab, a class change.

Every cell of `04_where_does_the_network_look.ipynb` runs in JupyterLab; the explorer
at its end renders its maps (`img.vw-attr-map`, one per method). A class is picked in
the class dropdown (`.vw-attr-class select`), as a user would; the kernel follows,
recomputes, and every map's `<img>` takes a new source in place (the same element,
watched by a MutationObserver), whose bytes are exactly the kernel's new picture of
that pane. Then the Sanity check button fills one row of maps per re-initialized
layer, each with the kernel's rank correlation. No image on the page is broken at any
sampled moment, and no uncaught page error or console error beyond the harmless ones
in allowlist.py is seen. Screenshots go to artifacts/browser/lab-explorer.png and
lab-explorer-sanity.png.
"""

import base64
import re
import time

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.timeout(600)]

NOTEBOOK = "04_where_does_the_network_look.ipynb"
EXPLORER = ".vw-explorer"
MAPS = f"{EXPLORER} img.vw-attr-map"
FETCH_BASE64 = """async selector => {
    const response = await fetch(document.querySelector(selector).src);
    const bytes = new Uint8Array(await response.arrayBuffer());
    let text = '';
    for (const b of bytes) text += String.fromCharCode(b);
    return btoa(text);
}"""


def shown_pngs(nb, tags):
    """The bytes each tagged `<img>` shows, fetched from its src in the page."""
    return [base64.b64decode(nb.page.evaluate(FETCH_BASE64, tag)) for tag in tags]


def kernel_pngs(nb):
    """Each pane's picture as the kernel holds it (what its `Image` widget shows)."""
    encoded = nb.kernel().value(
        "[__import__('base64').b64encode(p.png).decode() for p in explorer.state.panes]"
    )
    return [base64.b64decode(e) for e in encoded]


def check_sanity_tab(nb):
    """The Sanity check button fills one row per re-initialized layer with the kernel's values."""
    page = nb.page
    button = f"{EXPLORER} button.vw-attr-sanity"
    nb.reveal(button)
    page.locator(button).click()
    rhos = nb.kernel().value(
        "explorer.sanity.wait(120) and"
        " [[f'{r:.2f}' for r in result.spearman[:, 0]] for result in explorer.sanity.result]"
    )
    assert len(rhos) == 4 and all(len(column) == 5 for column in rhos), rhos
    rows = f"{EXPLORER} .vw-attr-sanity-row"
    nb.wait_for(
        f"() => document.querySelectorAll('{rows}').length === 6"
        f" && [...document.querySelectorAll('{rows} img')].every("
        "i => i.complete && i.naturalWidth > 0)",
        timeout=30,
        what="the sanity rows and their maps",
    )
    for step in range(1, 6):  # row 0 is the trained model; then one more layer per row
        shown = page.locator(rows).nth(step).locator(".vw-attr-sanity-rho").all_inner_texts()
        assert shown == [f"ρ = {column[step - 1]}" for column in rhos], (step, shown)
    page.locator(f"{EXPLORER} .vw-attr-sanity-rows").scroll_into_view_if_needed()
    nb.screenshot(f"{nb.frontend}-explorer-sanity", selector=f"{EXPLORER} .vw-attr-sanity-rows")


@pytest.mark.parametrize("frontend", ["lab"])
def test_a_class_change_redraws_the_maps_in_place(open_notebook, readme_images, frontend):
    t0 = time.monotonic()
    nb = open_notebook(NOTEBOOK, frontend)
    nb.run_all(timeout=300)
    page = nb.page
    count = nb.wait_for(
        f"() => {{ const maps = [...document.querySelectorAll('{MAPS}')];"
        " return maps.length > 0 && maps.every(i => i.src.startsWith('blob:')"
        " && i.complete && i.naturalWidth > 0) && maps.length; }",
        timeout=60,
        what="the explorer's maps to render",
    )
    assert count == 4  # saliency, guided, SmoothGrad, Grad-CAM
    kernel = nb.kernel()
    assert kernel.value("explorer.wait(60) and explorer.shown is not None")
    tags = [nb.tag(MAPS, f"attr-map-{k}", index=k) for k in range(count)]
    assert shown_pngs(nb, tags) == kernel_pngs(nb)  # the first maps, as the kernel drew them
    for tag in tags:
        nb.watch_src(tag)

    before = kernel.value("explorer.state.target")
    select = page.locator(f"{EXPLORER} .vw-attr-class select")
    select.scroll_into_view_if_needed()
    values = select.locator("option").all_inner_texts()
    assert len(values) == 5 and all("%" in v for v in values), values  # the top 5
    select.select_option(index=2)  # the third most probable class
    picked = int(re.match(r"\d+", values[2])[0])  # "7 · 0.3%" (ipywidgets writes nbsp)
    assert picked != before
    t1 = time.monotonic()
    nb.wait_for(
        "([tags]) => tags.every(t => window.__vw.watched(t).srcs.length >= 2)",
        arg=[tags],
        timeout=60,
        what="every map to take a new source",
    )
    assert kernel.value("explorer.wait(60) and explorer.shown.request.target") == picked
    nb.timings["class_change_redraw_s"] = round(time.monotonic() - t1, 2)
    nb.wait_for(
        "([tags]) => tags.every(t => { const i = document.querySelector(t);"
        " return i.complete && i.naturalWidth > 0; })",
        arg=[tags],
        timeout=10,
        what="the new maps to load",
    )
    for tag in tags:
        watched = nb.watched(tag)
        assert watched["same"] and watched["connected"], (tag, watched)  # in place
        srcs = watched["srcs"]
        assert len(set(srcs)) == len(srcs) >= 2 and all(s.startswith("blob:") for s in srcs)
    assert shown_pngs(nb, tags) == kernel_pngs(nb)  # the class's maps, byte for byte
    status = page.locator(f"{EXPLORER} .vw-attr-status").inner_text()
    assert f"class {picked} of image" in status and "ready" in status, status
    errors = page.locator(f"{EXPLORER} .vw-errors").inner_text().strip()
    assert not errors, f"the explorer shows an error:\n{errors}"

    if frontend == "lab":  # the README's picture: the maps of the picked class
        page.locator(EXPLORER).scroll_into_view_if_needed()
        nb.screenshot("explorer", selector=EXPLORER, folder=readme_images)
    check_sanity_tab(nb)
    assert nb.images()["samples"] > 20
    broken = nb.broken_images()
    assert not broken, "broken images were seen:\n" + "\n".join(map(str, broken))
    page.locator(EXPLORER).scroll_into_view_if_needed()
    nb.screenshot(f"{frontend}-explorer", selector=EXPLORER)
    nb.timings["test_total_s"] = round(time.monotonic() - t0, 2)
