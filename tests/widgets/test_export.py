"""Export: the code snippet, PNG and GIF, as browser downloads and kernel-side files, alike."""

import base64
import html
import re

import numpy as np
import pytest
from PIL import Image
from widgetkit import WAIT, Slow, find, three_losses

from vis_widgets.core import Optimizer
from vis_widgets.display import returned_images
from vis_widgets.export import MAX_DOWNLOAD_BYTES, DownloadLink, png_bytes

TV = "TV(2.0) Loss"
LP = "L-6.0 Norm Loss"
AM = "ActivationMax Loss"
LINK = re.compile(r'<a download="([^"]+)" href="data:([^;]+);base64,([^"]+)"')


def _link(widget):
    """`(filename, mime, bytes)` of the `<a download>` inside a download widget."""
    match = LINK.search(widget.value)
    assert match, widget.value
    return html.unescape(match[1]), match[2], base64.b64decode(match[3])


def _run(dash):
    assert dash.run() and dash.wait(WAIT)
    assert dash.last_error is None, dash.last_error
    return dash.result


def test_the_export_snippet_rebuilds_the_same_losses_and_weights(tiny_model, make_dashboard):
    opt = Optimizer(tiny_model.inputs[0], three_losses(tiny_model), input_range=(0.0, 1.0))
    dash = make_dashboard(opt, max_iter=3, jitter=0.08)
    dash.state.set_weight(AM, 0.0)
    dash.weight_texts[LP].value = 3.7
    dash.weight_sliders[TV].value = 2.1
    snippet = dash.export_code()
    assert dash.export_text.value == snippet
    assert 'model.get_layer("pred")' in snippet or "model.get_layer('pred')" in snippet
    namespace = {"model": tiny_model}
    exec(snippet, namespace)
    rebuilt = namespace["losses"]
    assert [w for _, w in rebuilt] == list(dash.weights.values()) == [0.0, 3.7, 126.0]
    for (loss, _), original in zip(rebuilt, opt.losses):
        assert type(loss) is type(original)
        assert loss.get_config() == original.get_config()
    assert namespace["opt"].input_range == (0.0, 1.0)
    assert [namespace["opt"].get_weight(k) for k in range(3)] == pytest.approx([0.0, 3.7, 126.0])
    assert "max_iter=3" in snippet and "Jitter(0.08)" in snippet
    assert namespace["img"].shape == (12, 12, 3)
    # the browser download is the same text
    name, mime, data = _link(dash.export_panel.download_code.widget)
    assert (name, mime, data.decode("utf-8")) == (
        "vis_widgets_losses.py",
        "text/x-python",
        snippet,
    )


def test_the_export_snippet_names_a_callable_grad_modifier(tiny_model, make_dashboard):
    def clip_gradients(grads):
        return grads

    opt = Optimizer(tiny_model.inputs[0], three_losses(tiny_model), input_range=(0.0, 1.0))
    snippet = make_dashboard(opt, grad_modifier=clip_gradients).export_code()
    assert "# grad_modifier: the dashboard used the function 'clip_gradients'" in snippet
    assert "grad_modifier=clip_gradients, verbose=False)" in snippet
    snippet = make_dashboard(opt, grad_modifier=lambda g: g).export_code()
    assert "the function '<lambda>'" in snippet and "grad_modifier=" not in snippet.split("\n")[-2]
    assert "grad_modifier='negate'" in make_dashboard(opt, grad_modifier="negate").export_code()


def test_save_png_and_gif_write_the_returned_image(tiny_opt, make_dashboard, tmp_path):
    dash = make_dashboard(tiny_opt, callbacks=[Slow(0.003)], max_iter=40)
    with pytest.raises(ValueError, match="no finished run"):
        dash.save_gif(tmp_path / "none.gif")
    record = _run(dash)
    png = Image.open(dash.save_png(tmp_path / "img.png"))
    assert png.format == "PNG" and png.size == (264, 264)  # 12 px upscaled x22 to reach 256
    native = Image.open(dash.save_png(tmp_path / "native.png", min_size=0))
    assert native.size == (12, 12)
    # the image as returned, not the stretched view
    as_returned = returned_images(tiny_opt, record.best_input).as_returned()[0]
    assert (native.convert("RGB") == Image.fromarray(as_returned)) is True
    gif = Image.open(dash.save_gif(tmp_path / "run.gif"))
    assert gif.format == "GIF"
    assert gif.n_frames == len(record.frames) >= 3
    assert record.frames[0][0] == 1 and record.frames[-1][0] == 40
    # the Export tab's buttons: what was saved, or why not
    panel = dash.export_panel
    panel.png_path.value = str(tmp_path / "clicked.png")
    panel.save_png_button.click()
    assert (tmp_path / "clicked.png").exists() and panel.status.value.startswith("Saved ")
    panel.gif_path.value = str(tmp_path / "missing" / "run.gif")
    panel.save_gif_button.click()
    assert panel.status.value.startswith("Could not save: FileNotFoundError")


def test_browser_downloads_carry_the_bytes_the_kernel_side_save_writes(
    tiny_opt, make_dashboard, tmp_path
):
    dash = make_dashboard(tiny_opt, max_iter=12)
    gif_link = find(dash.widget, "vw-download-gif")
    assert "vw-download" in gif_link._dom_classes
    assert "<a " not in gif_link.value and "no run yet" in gif_link.value
    name, mime, seed_png = _link(find(dash.widget, "vw-download-png"))
    assert (name, mime) == ("vis_widgets_image.png", "image/png")
    assert seed_png == dash.save_png(tmp_path / "seed.png").read_bytes()
    _run(dash)
    name, mime, data = _link(find(dash.widget, "vw-download-png"))
    assert data != seed_png  # follows the current image
    assert data == dash.save_png(tmp_path / name).read_bytes()
    name, mime, data = _link(gif_link)
    assert (name, mime) == ("vis_widgets_run.gif", "image/gif")
    assert data == dash.save_gif(tmp_path / name).read_bytes()
    dash.export_panel.png_path.value = "digit three.png"  # the download takes the name
    assert _link(find(dash.widget, "vw-download-png"))[0] == "digit three.png"


def test_a_download_too_large_for_a_data_link_says_so():
    link = DownloadLink("gif", "image/gif", "Download GIF", "no run yet")
    link.update(b"x" * (MAX_DOWNLOAD_BYTES + 1), "big.gif")
    assert "<a " not in link.widget.value and "too large" in link.widget.value
    link.update(png_bytes(np.zeros((1, 2, 2, 3), np.uint8)), "dir/a.png")
    assert _link(link.widget)[0] == "a.png"
