"""LivePlot on its own: a model whose traits views follow; throttled, first and last frames."""

import io
import time

import numpy as np
import pytest
from PIL import Image
from widgetkit import Slow, find, png_size, svg_size

from vis_widgets.core import Jitter, OptimizerCallback
from vis_widgets.core.utils import to_display_image, upscale
from vis_widgets.curves import CurvePanels
from vis_widgets.display import returned_images, shown
from vis_widgets.liveplot import LivePlot


@pytest.fixture
def fake_notebook(monkeypatch):
    """Pretends to run in IPython and records what `display` is given."""
    import IPython
    import IPython.display

    shown_objects = []
    monkeypatch.setattr(IPython, "get_ipython", lambda: object())
    monkeypatch.setattr(IPython.display, "display", lambda *objs, **kw: shown_objects.extend(objs))
    return shown_objects


def test_liveplot_alone_displays_once_and_updates_in_place(tiny_opt, fake_notebook):
    live = LivePlot(image_fps=1e-6, curve_fps=1e-6)  # only the first and last frames are due
    tiny_opt.set_weight(1, 0.0)  # the activation alone keeps improving: the best input is
    tiny_opt.set_weight(2, 0.0)  # a late one, so the final frame differs from the first
    values = []
    live.observe(lambda change: values.append(change["new"]), names="image_png")
    tiny_opt.minimize(max_iter=25, callbacks=[live], verbose=False)
    assert fake_notebook == [live.widget]
    image = find(live.widget, "vw-image")
    assert image.value == live.image_png  # the view follows the model
    assert [step for step, _ in live.frames] == [1, 25]  # the first and last iterations
    assert len(values) == 2
    assert live.stats["image_frames"] == 2 and live.stats["curve_frames"] == 1  # curves: the last
    assert (live.iteration, live.max_iter, live.finished) == (25, 25, True)
    assert find(live.widget, "vw-progress").value == 25
    tiny_opt.minimize(max_iter=10, callbacks=[live], verbose=False)
    assert fake_notebook == [live.widget]  # a second run draws into the same widget
    assert find(live.widget, "vw-image") is image and image.value == live.image_png
    assert len(values) == 4 and live.iteration == 10
    # the final frame is the run's result, the best input, kept as returned
    expected = to_display_image(tiny_opt.best_input[0], (0.0, 1.0))
    np.testing.assert_array_equal(live.frames[-1][1][0], expected)


def test_every_image_starts_with_a_placeholder_not_an_empty_picture():
    live = LivePlot()
    assert png_size(live.image_png) == (256, 256)
    assert svg_size(live.curves_svg) == (460, 242)
    image, curves = find(live.widget, "vw-image"), find(live.widget, "vw-curves")
    assert (image.format, image.value[:4]) == ("png", b"\x89PNG")
    assert (curves.format, curves.value) == ("svg+xml", live.curves_svg)
    assert live.range_text == "" and live.values_html == ""


class Inputs(OptimizerCallback):
    """Records the (jittered) `wrt_value` each iteration's step saw."""

    def __init__(self):
        self.seen = []

    def callback(self, i, named_losses, overall_loss, grads, wrt_value):
        self.seen.append(wrt_value.copy())


def test_the_live_image_is_the_registered_input_not_the_jittered_one(tiny_opt):
    for k in range(3):
        tiny_opt.set_weight(k, 0.0)  # a zero gradient: the input never changes
    seed = np.random.default_rng(0).uniform(0, 1, (1, 12, 12, 3)).astype(np.float32)
    live = LivePlot(image_fps=1e6, threaded=False)  # every iteration renders a frame
    inputs = Inputs()
    jitter = Jitter(0.4, seed=1)
    tiny_opt.minimize(
        seed, max_iter=8, input_modifiers=[jitter], callbacks=[inputs, live], verbose=False
    )
    assert any(not np.array_equal(x, seed) for x in inputs.seen)  # the jitter did shift
    assert [step for step, _ in live.frames] == list(range(1, 9))
    expected = to_display_image(seed[0], (0.0, 1.0))
    for _, images in live.frames:
        np.testing.assert_array_equal(images[0], expected)


def test_liveplot_is_throttled_by_wall_clock(tiny_opt):
    live = LivePlot(image_fps=10, curve_fps=3)
    start = time.perf_counter()
    tiny_opt.minimize(max_iter=100, callbacks=[live, Slow(0.005)], verbose=False)
    seconds = time.perf_counter() - start
    assert seconds >= 0.5
    # at most the rate allows over the run, plus the first and the last frame
    assert 2 <= live.stats["image_frames"] <= seconds * 10 + 2
    assert 2 <= live.stats["curve_frames"] <= seconds * 3 + 2
    assert len(live.series.history["overall loss"]) == 100  # every iteration is recorded


def test_liveplot_needs_no_notebook(tiny_opt, monkeypatch):
    import IPython.display

    calls = []
    monkeypatch.setattr(IPython.display, "display", lambda *objs, **kw: calls.append(objs))
    live = LivePlot()
    tiny_opt.minimize(max_iter=3, callbacks=[live], verbose=False)  # no IPython: nothing shown
    assert calls == [] and live.image_png[:4] == b"\x89PNG" and live.iteration == 3


def test_a_rendering_error_is_raised_not_swallowed(tiny_opt, monkeypatch):
    def broken(*args):
        raise OSError("disk full")

    monkeypatch.setattr(CurvePanels, "render", broken)
    with pytest.raises(OSError, match="disk full"):
        tiny_opt.minimize(max_iter=3, callbacks=[LivePlot()], verbose=False)


def test_the_image_is_stretched_by_default_and_redrawn_as_returned(tiny_opt):
    live = LivePlot()
    tiny_opt.minimize(max_iter=3, callbacks=[live], verbose=False)
    returned = returned_images(tiny_opt, tiny_opt.best_input)
    stretched = shown(returned, "stretched")
    picture = np.asarray(Image.open(io.BytesIO(live.image_png)))
    np.testing.assert_array_equal(picture, upscale(stretched.images[0], 256))  # 12 px x22
    assert live.range_text == stretched.range_text()
    live.display = "as returned"  # between runs: redrawn at once
    picture = np.asarray(Image.open(io.BytesIO(live.image_png)))
    np.testing.assert_array_equal(picture, upscale(returned.as_returned()[0], 256))
    assert live.range_text == "as returned: [0, 1] shown black to white"
    # the kept frames are as returned whatever the display
    np.testing.assert_array_equal(live.frames[-1][1], returned.as_returned())


def test_shown_draws_a_batch_now_and_the_raw_toggle_redraws_the_curves(tiny_opt):
    live = LivePlot()
    live.shown = returned_images(tiny_opt, np.full((1, 12, 12, 3), 0.3, np.float32))
    assert png_size(live.image_png) == (264, 264)
    tiny_opt.minimize(max_iter=5, callbacks=[live], verbose=False)
    weighted = live.curves_svg
    live.raw = True
    assert live.curves_svg != weighted and "<th>unweighted</th><th>weighted</th>" in (
        live.values_html
    )


def test_a_batch_renders_as_a_labelled_grid(tiny_opt):
    live = LivePlot()
    live.labels = ["a", "b", "c"]
    tiny_opt.minimize(np.zeros((3, 12, 12, 3)) + 0.5, max_iter=2, callbacks=[live], verbose=False)
    # 2 columns x 2 rows of 120 px cells under 14 px captions, 4 px apart
    assert png_size(live.image_png) == (2 * 120 + 4, 2 * (120 + 14) + 4)
    assert live.frames[-1][1].shape == (3, 12, 12, 3)
    assert live.range_text.startswith("each image stretched on its own")


def test_liveplot_rejects_bad_arguments():
    for name in ("image_fps", "curve_fps"):
        for value in (0, -1, float("inf"), float("nan")):
            with pytest.raises(ValueError, match=f"`{name}` must be a finite number > 0"):
                LivePlot(**{name: value})
        for value in ("10", True):
            with pytest.raises(TypeError, match=f"`{name}` must be a number"):
                LivePlot(**{name: value})
    with pytest.raises(TypeError, match=r"keep_frames.*Received: 'no'"):
        LivePlot(keep_frames="no")
