"""The attribution explorer, headless: every control checked by the maps it shows, by value."""

import base64
import io
import pathlib
import re

import ipywidgets as widgets
import numpy as np
import pytest
from PIL import Image
from traitlets import TraitError
from widgetkit import WAIT, EngineSpy, explorer_images, explorer_model, find, find_all

from vis_widgets.core.attribution import Attributor
from vis_widgets.explorer.pictures import MAP_SIZE, overlay_picture, picture_png
from vis_widgets.explorer.sanity import CELL
from vis_widgets.render import CAPTION_HEIGHT


@pytest.fixture
def model():
    return explorer_model()


@pytest.fixture
def images():
    return explorer_images()


def _ready(explorer):
    assert explorer.wait(WAIT)
    assert explorer.shown is not None
    return explorer


def _expected(model, images, index, target, **kwargs):
    return Attributor(model).attribute(images[index : index + 1], target, **kwargs)[0]


def _panes(explorer):
    return find_all(explorer.widget, "vw-attr-pane")


def _pane_control(explorer, k, css_class):
    return find(_panes(explorer)[k], css_class)


def test_first_maps_are_the_engines_for_the_top_class(model, images, make_explorer):
    explorer = _ready(make_explorer(model, images, methods=["saliency", "gradcam"]))
    top = int(np.argmax(model.predict(images[:1], verbose=0)))
    assert explorer.state.target == top
    for k, method in enumerate(["saliency", "gradcam"]):
        np.testing.assert_allclose(
            explorer.shown.maps[k], _expected(model, images, 0, top, method=method), atol=1e-6
        )
        shown = _pane_control(explorer, k, "vw-attr-map").value
        assert shown == explorer.state.panes[k].png
        over = overlay_picture(explorer.shown.maps[k], explorer.images.picture(0), "jet", 0.5)
        assert shown == picture_png(over)
    assert find(explorer.widget, "vw-attr-image").value == picture_png(explorer.images.picture(0))


def test_each_control_change_recomputes_the_maps(model, images, make_explorer):
    explorer = _ready(make_explorer(model, images, methods=["saliency", "gradcam"]))
    _pane_control(explorer, 1, "vw-attr-method").value = "gradcam++"
    _pane_control(explorer, 0, "vw-attr-modifier").value = "guided"
    find(explorer.widget, "vw-attr-pick").value = 2
    assert explorer.wait(WAIT)
    target = explorer.state.target  # the new image's top class
    find(explorer.widget, "vw-attr-class-index").value = (target + 1) % 6
    _ready(explorer)
    target = (target + 1) % 6
    assert explorer.shown.request.index == 2 and explorer.shown.request.target == target
    np.testing.assert_allclose(
        explorer.shown.maps[0],
        _expected(model, images, 2, target, backprop_modifier="guided"),
        atol=1e-6,
    )
    np.testing.assert_allclose(
        explorer.shown.maps[1], _expected(model, images, 2, target, method="gradcam++"), atol=1e-6
    )
    find(explorer.widget, "vw-attr-layer").value = "conv1"
    _ready(explorer)
    np.testing.assert_allclose(
        explorer.shown.maps[1],
        _expected(model, images, 2, target, method="gradcam++", layer="conv1"),
        atol=1e-6,
    )


def test_class_picker_shows_the_top_5_and_any_typed_class(model, images, make_explorer):
    explorer = _ready(make_explorer(model, images, methods=["saliency"]))
    picker = find(explorer.widget, "vw-attr-class")
    engine = Attributor(model)
    for index in (0, 1):
        explorer.state.index = index
        classes, probabilities = engine.top_k(images[index], k=5)
        assert [c for _, c in picker.options] == classes.tolist()
        assert [label for label, _ in picker.options] == [
            f"{c} · {p:.1%}" if p >= 0.0005 else f"{c} · <0.1%"
            for c, p in zip(classes, probabilities)
        ]
        assert picker.value == classes[0] == explorer.state.target
    (left_out,) = set(range(6)) - set(classes.tolist())
    find(explorer.widget, "vw-attr-class-index").value = int(left_out)
    assert picker.value == left_out
    assert picker.options[-1][0].endswith("(typed)") and len(picker.options) == 6
    picker.value = int(classes[2])
    assert explorer.state.target == classes[2]
    assert find(explorer.widget, "vw-attr-class-index").value == classes[2]
    _ready(explorer)
    np.testing.assert_allclose(
        explorer.shown.maps[0], _expected(model, images, 1, int(classes[2])), atol=1e-6
    )


def test_no_retrace_when_the_class_or_the_image_changes(model, images, make_explorer):
    explorer = _ready(make_explorer(model, images, methods=["saliency", "gradcam"]))
    traces = explorer.attributor.trace_count
    for index, target in [(1, 0), (2, 3), (0, 5), (1, 2)]:
        explorer.state.index = index
        explorer.state.target = target
        _ready(explorer)
        assert explorer.shown.request.target == target
    assert explorer.attributor.trace_count == traces


def test_the_latest_request_wins(model, images, make_explorer):
    spy = EngineSpy(Attributor(model), hold=1)
    explorer = make_explorer(model, images, methods=["saliency"], attributor=spy)
    spy.wait_held()  # the first maps are being computed
    box = find(explorer.widget, "vw-attr-class-index")
    first = explorer.state.target
    moves = [(first + k) % 6 for k in range(1, 6)]
    for value in moves:  # moved 5 times while the engine is busy
        box.value = value
    assert explorer.state.computing
    spy.release()
    _ready(explorer)
    assert [call["targets"] for call in spy.calls] == [first, moves[-1]]
    assert explorer.shown.request.target == moves[-1]
    np.testing.assert_allclose(
        explorer.shown.maps[0], _expected(model, images, 0, moves[-1]), atol=1e-6
    )
    assert not explorer.state.computing
    assert f"class {moves[-1]}" in find(explorer.widget, "vw-attr-status").value


def test_an_error_is_shown_and_the_explorer_stays_usable(model, images, make_explorer):
    spy = EngineSpy(Attributor(model), fail="gradcam")
    explorer = _ready(
        make_explorer(model, images, methods=["saliency", "gradcam"], attributor=spy)
    )
    errors = find(explorer.widget, "vw-attr-errors")
    assert "gradcam: RuntimeError: out of memory" in errors.outputs[0]["text"]
    assert "error" in find(explorer.widget, "vw-attr-status").value
    assert explorer.state.panes[1].map is None and explorer.shown.maps[1] is None
    assert "error" in _pane_control(explorer, 1, "vw-attr-caption").value
    target = explorer.state.target
    np.testing.assert_allclose(  # the other pane still shows its map
        explorer.shown.maps[0], _expected(model, images, 0, target), atol=1e-6
    )
    spy.failing = False  # the engine recovers; the next change works
    find(explorer.widget, "vw-attr-class-index").value = (target + 1) % 6
    _ready(explorer)
    assert errors.outputs == ()
    np.testing.assert_allclose(
        explorer.shown.maps[1],
        _expected(model, images, 0, (target + 1) % 6, method="gradcam"),
        atol=1e-6,
    )
    assert "ready" in find(explorer.widget, "vw-attr-status").value


def test_method_parameters_show_for_the_methods_that_take_them(model, images, make_explorer):
    spy = EngineSpy(Attributor(model))
    explorer = _ready(make_explorer(model, images, methods=["saliency"], attributor=spy))
    sliders = {n: find(explorer.widget, f"vw-attr-{n}") for n in ("samples", "noise", "steps")}
    layer = find(explorer.widget, "vw-attr-layer")

    def visible():
        shown = {n for n, s in sliders.items() if s.layout.display != "none"}
        return shown | ({"layer"} if layer.layout.display != "none" else set())

    assert visible() == set()
    method = _pane_control(explorer, 0, "vw-attr-method")
    method.value = "smoothgrad"
    assert visible() == {"samples", "noise"}
    assert (sliders["samples"].value, sliders["noise"].value) == (16, 0.2)  # the engine's defaults
    sliders["samples"].value = 8
    sliders["noise"].value = 0.1
    _ready(explorer)
    assert spy.calls[-1] == {
        "targets": explorer.state.target,
        "method": "smoothgrad",
        "samples": 8,
        "noise": 0.1,
    }
    method.value = "integrated_gradients"
    assert visible() == {"steps"}
    sliders["steps"].value = 5
    _ready(explorer)
    np.testing.assert_allclose(
        explorer.shown.maps[0],
        _expected(model, images, 0, explorer.state.target, method="integrated_gradients", steps=5),
        atol=1e-6,
    )
    method.value = "gradcam"
    assert visible() == {"layer"}
    assert layer.options[0] == ("auto: conv2 (8, 8, 6), rule: input of 'gap'", "")
    assert [value for _, value in layer.options[1:]] == ["conv1", "conv2"]
    assert find(_panes(explorer)[0], "vw-attr-modifier").disabled is False
    method.value = "scorecam"
    assert find(_panes(explorer)[0], "vw-attr-modifier").disabled is True


def test_colormap_and_alpha_redraw_without_recomputing(model, images, make_explorer):
    spy = EngineSpy(Attributor(model))
    explorer = _ready(make_explorer(model, images, methods=["saliency"], attributor=spy))
    calls = len(spy.calls)
    find(explorer.widget, "vw-attr-colormap").value = "viridis"
    find(explorer.widget, "vw-attr-alpha").value = 0.8
    _ready(explorer)
    assert len(spy.calls) == calls
    over = overlay_picture(explorer.shown.maps[0], explorer.images.picture(0), "viridis", 0.8)
    assert find(explorer.widget, "vw-attr-map").value == picture_png(over)


def test_panes_side_by_side_can_be_added_and_removed(model, images, make_explorer):
    explorer = _ready(make_explorer(model, images, methods=[("saliency", "guided")]))
    find(explorer.widget, "vw-attr-add").click()
    find(explorer.widget, "vw-attr-add").click()
    _ready(explorer)
    assert [p.method for p in explorer.state.panes] == ["saliency", "gradcam", "smoothgrad"]
    assert len(explorer.shown.maps) == 3 and len(_panes(explorer)) == 3
    np.testing.assert_allclose(
        explorer.shown.maps[0],
        _expected(model, images, 0, explorer.state.target, backprop_modifier="guided"),
        atol=1e-6,
    )
    find(_panes(explorer)[1], "vw-attr-remove").click()
    _ready(explorer)
    assert [p.method for p in explorer.state.panes] == ["saliency", "smoothgrad"]
    assert len(_panes(explorer)) == 2 and len(explorer.shown.maps) == 2
    find(explorer.widget, "vw-attr-add").click()
    find(explorer.widget, "vw-attr-add").click()
    assert len(explorer.state.panes) == 4 and find(explorer.widget, "vw-attr-add").disabled


def test_png_export_and_the_snippet_reproduce_what_is_shown(
    model, images, make_explorer, tmp_path, monkeypatch
):
    explorer = make_explorer(
        model,
        images,
        methods=["saliency", "gradcam", ("saliency", "guided")],
        colormap="inferno",
        alpha=0.7,
    )
    explorer.state.index = 1
    _ready(explorer)
    data = explorer.png_bytes()
    picture = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
    # The image and 3 panes side by side, 4 px apart, each upscaled by an integer factor
    # to at least MAP_SIZE pixels, under a caption.
    scale = -(-MAP_SIZE // 12)
    size = 12 * scale
    assert picture.shape == (CAPTION_HEIGHT + size, 4 * size + 3 * 4, 3)
    for k, over in enumerate([explorer.shown.picture, *explorer.shown.overlays]):
        left = k * (size + 4)
        cell = picture[CAPTION_HEIGHT:, left : left + size]
        np.testing.assert_array_equal(cell[::scale, ::scale], np.broadcast_to(over, (12, 12, 3)))
    assert explorer.save_png(tmp_path / "maps.png").read_bytes() == data
    link = find(explorer.widget, "vw-download-png")  # the browser download: the same bytes
    assert 'download="attribution.png"' in link.value
    assert base64.b64decode(re.search(r"base64,([^\"]+)", link.value)[1]) == data
    monkeypatch.chdir(tmp_path)
    find(explorer.widget, "vw-save-png").click()  # the button saves on the kernel's machine
    assert (tmp_path / "attribution.png").read_bytes() == data
    source = find(explorer.widget, "vw-export-code").value
    assert source == explorer.code_snippet()
    code_link = find(explorer.widget, "vw-download-code").value
    assert base64.b64decode(re.search(r"base64,([^\"]+)", code_link)[1]).decode() == source
    namespace = {"model": model, "images": images}
    exec(source, namespace)
    assert namespace["target"] == explorer.state.target
    for mine, theirs in zip(explorer.shown.maps, namespace["maps"]):
        np.testing.assert_array_equal(mine, theirs)
    for mine, theirs in zip(explorer.shown.overlays, namespace["overlays"]):
        np.testing.assert_array_equal(mine, theirs)


def test_images_from_files(model, make_explorer, tmp_path):
    pixels = (explorer_images(2, seed=3) * 255).astype(np.uint8)
    paths = []
    for k, img in enumerate(pixels):
        paths.append(tmp_path / f"img{k}.png")
        Image.fromarray(np.repeat(np.repeat(img, 2, 0), 2, 1)).save(paths[-1])  # 24x24 files
    explorer = _ready(make_explorer(model, [str(p) for p in paths], methods=["saliency"]))
    assert explorer.images.batch.shape == (2, 12, 12, 3)
    assert explorer.images.input_range == (0.0, 255.0)
    assert "img0.png" in find(explorer.widget, "vw-attr-image-caption").value
    namespace = {"model": model}
    exec(explorer.code_snippet(), namespace)
    np.testing.assert_array_equal(namespace["images"], explorer.images.batch)
    np.testing.assert_array_equal(namespace["maps"][0], explorer.shown.maps[0])


def test_the_sanity_button_fills_one_row_per_layer(model, images, make_explorer):
    explorer = _ready(make_explorer(model, images, methods=["saliency", "gradcam"]))
    find(explorer.widget, "vw-attr-sanity").click()
    assert explorer.sanity.wait(WAIT)
    assert explorer.sanity.layers == ["pred", "conv2", "conv1"]
    rows = find_all(explorer.widget, "vw-attr-sanity-row")
    assert len(rows) == 4  # the trained model, then one more layer re-initialized per row
    assert "trained" in rows[0].children[0].value and "conv1" in rows[3].children[0].value
    saliency, gradcam = explorer.sanity.result
    for k in range(2):  # the trained row is the explorer's own maps
        np.testing.assert_allclose(
            explorer.sanity.result[k].maps[0, 0], explorer.shown.maps[k], atol=1e-6
        )
    for step, row in enumerate(rows[1:]):
        rhos = [w.value for w in find_all(row, "vw-attr-sanity-rho")]
        assert rhos == [
            f"<small>&rho; = {r.spearman[step, 0]:.2f}</small>" for r in (saliency, gradcam)
        ]
        for cell, result in zip(find_all(row, "vw-attr-sanity-map"), (saliency, gradcam)):
            over = overlay_picture(
                result.maps[step + 1, 0], explorer.images.picture(0), "jet", 0.5
            )
            assert cell.value == picture_png(over, CELL)
    assert not np.allclose(saliency.maps[-1], saliency.maps[0])  # randomizing changed the map
    assert "ρ with every layer re-initialized" in explorer.sanity.status.value


def test_bad_arguments_name_what_was_expected(model, images):
    from vis_widgets.explorer import AttributionExplorer

    with pytest.raises(ValueError, match="`images` must be one image or a batch"):
        AttributionExplorer(model, np.zeros((2, 8, 8, 3)))
    with pytest.raises(ValueError, match="`class_names` must name each of the model's 6"):
        AttributionExplorer(model, images, class_names=["a", "b"])
    with pytest.raises(ValueError, match="`labels` must give one class per image"):
        AttributionExplorer(model, images, labels=[1])
    with pytest.raises(ValueError, match="`method` must be one of"):
        AttributionExplorer(model, images, methods=["sailency"])
    with pytest.raises(ValueError, match="`backprop_modifier` must be one of"):
        AttributionExplorer(model, images, methods=[("saliency", "guidded")])
    with pytest.raises(TypeError, match="Each of `methods` must be a method name or a"):
        AttributionExplorer(model, images, methods=[3])
    with pytest.raises(ValueError, match="`alpha` must be in"):
        AttributionExplorer(model, images, alpha=2.0)
    with pytest.raises(ValueError, match="`colormap` must be a matplotlib colormap name"):
        AttributionExplorer(model, images, colormap="jett")
    with pytest.raises(ValueError, match="`images=None` shows the demo's digits"):
        AttributionExplorer(model)


def test_state_validates_what_the_controls_could_not(model, images, make_explorer):
    explorer = _ready(make_explorer(model, images, methods=["saliency"]))
    for name, value in [
        ("target", 6),
        ("index", 3),
        ("alpha", 1.5),
        ("samples", 0),
        ("noise", -0.1),
        ("colormap", "nope"),
        ("cam_layer", "pred"),
    ]:
        with pytest.raises(TraitError, match=f"`{name}` must"):
            setattr(explorer.state, name, value)
    assert isinstance(find(explorer.widget, "vw-attr-class"), widgets.Dropdown)


def test_the_demo_digits_with_a_picker(make_explorer):
    from vis_widgets.demo import load_demo_model, load_split

    model = load_demo_model()
    _, (x_test, y_test) = load_split()
    explorer = _ready(make_explorer(model, methods=["saliency", "gradcam"]))  # images=None
    picker = find(explorer.widget, "vw-attr-pick")
    assert (picker.min, picker.max) == (0, len(x_test) - 1)
    np.testing.assert_array_equal(explorer.images.batch, x_test)
    picker.value = 7
    _ready(explorer)
    top = int(np.argmax(model.predict(x_test[7:8], verbose=0)))
    assert explorer.state.target == top  # the class follows the picked digit
    caption = find(explorer.widget, "vw-attr-image-caption").value
    assert f"#7 · label {y_test[7]}" in caption
    assert find(explorer.widget, "vw-attr-image").value == picture_png(np.uint8(x_test[7].round()))
    namespace = {"model": model}
    exec(explorer.code_snippet(), namespace)  # loads the same digits itself
    for mine, theirs in zip(explorer.shown.maps, namespace["maps"]):
        np.testing.assert_array_equal(mine, theirs)


def test_the_explorer_page_runs():
    page = pathlib.Path(__file__).resolve().parents[2] / "docs" / "explorer.md"
    (block,) = re.findall(r"^```python\n(.*?)^```", page.read_text(), re.M | re.S)
    namespace = {}
    exec(block, namespace)
    explorer = namespace["explorer"]
    try:
        _ready(explorer)
        assert [s.label() for s in explorer.shown.request.panes] == [
            "saliency",
            "saliency (guided)",
            "smoothgrad samples=16 noise=0.2",
            "gradcam",
        ]
        assert len(explorer.images) == 450 and explorer.shown.errors == []
    finally:
        assert explorer.wait(WAIT)
        explorer.close()
