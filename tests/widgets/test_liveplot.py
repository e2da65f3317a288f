"""LivePlot on its own: one widget updated in place, throttled, first and last frames, formats."""

import io
import time

import keras
import numpy as np
import pytest
from PIL import Image
from widgetkit import Slow

from vis_widgets.core import Jitter, LPNorm, Optimizer, OptimizerCallback, TotalVariation
from vis_widgets.core.utils import to_display_image, upscale
from vis_widgets.liveplot import LivePlot


@pytest.fixture
def fake_notebook(monkeypatch):
    """Pretends to run in IPython and records what `display` is given."""
    import IPython
    import IPython.display

    shown = []
    monkeypatch.setattr(IPython, "get_ipython", lambda: object())
    monkeypatch.setattr(IPython.display, "display", lambda *objs, **kw: shown.extend(objs))
    return shown


def test_liveplot_alone_displays_once_and_updates_in_place(tiny_opt, fake_notebook):
    live = LivePlot(image_fps=1e-6, curve_fps=1e-6)  # only the first and last frames are due
    tiny_opt.set_weight(1, 0.0)  # the activation alone keeps improving: the best input is
    tiny_opt.set_weight(2, 0.0)  # a late one, so the final frame differs from the first
    image, curves = live.image, live.curves
    values = []
    image.observe(lambda change: values.append(change["new"]), names="value")
    tiny_opt.minimize(max_iter=25, callbacks=[live], verbose=False)
    assert fake_notebook == [live.widget]
    assert [step for step, _ in live.frames] == [1, 25]  # the first and last iterations
    assert len(values) == 2
    assert live.stats["image_frames"] == 2 and live.stats["curve_frames"] == 2
    assert live.progress.value == 25 == live.progress.max
    tiny_opt.minimize(max_iter=10, callbacks=[live], verbose=False)
    assert fake_notebook == [live.widget]  # a second run draws into the same widget
    assert live.image is image and live.curves is curves
    assert len(values) == 4 and live.progress.value == 10
    # the final frame is the run's result, the best input
    last = live.frames[-1][1][0]
    expected = to_display_image(tiny_opt.best_input[0], (0.0, 1.0))
    np.testing.assert_array_equal(last, expected)


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
    assert len(live.history["overall loss"]) == 100  # every iteration is recorded


def test_liveplot_needs_no_notebook(tiny_opt):
    live = LivePlot()
    tiny_opt.minimize(max_iter=3, callbacks=[live], verbose=False)  # no IPython: nothing shown
    assert not live._displayed and live.image.value[:4] == b"\x89PNG"


def test_a_rendering_error_is_raised_not_swallowed(tiny_opt):
    live = LivePlot()

    def broken(*args):
        raise OSError("disk full")

    live._plot.render = broken
    with pytest.raises(OSError, match="disk full"):
        tiny_opt.minimize(max_iter=3, callbacks=[live], verbose=False)


def test_curves_drawn_while_an_iteration_is_recorded_are_consistent(tiny_opt, monkeypatch):
    # The render thread may draw at any point of `callback`: here right when the callback
    # reads the raw losses, after the weighted values are recorded and before the raw ones.
    live = LivePlot(raw=True)
    read_raw = Optimizer.per_sample_raw_losses.fget

    def draw_then_read(opt):
        live.redraw_curves()
        return read_raw(opt)

    monkeypatch.setattr(Optimizer, "per_sample_raw_losses", property(draw_then_read))
    tiny_opt.minimize(max_iter=4, callbacks=[live], verbose=False)
    assert len(live.raw_history["TV(2.0) Loss"]) == 4


def _linear_model(shape):
    inp = keras.Input(shape)
    out = keras.layers.Activation("linear", name="ident")(inp)
    return keras.Model(inp, out)


@pytest.mark.parametrize(
    ("data_format", "shape", "mode"),
    [
        ("channels_last", (8, 8, 1), "L"),
        ("channels_last", (8, 8, 3), "RGB"),
        ("channels_first", (3, 8, 8), "RGB"),
    ],
)
def test_grayscale_rgb_and_channels_first_render(data_format, shape, mode):
    keras.config.set_image_data_format(data_format)
    model = _linear_model(shape)
    x = model.inputs[0]
    opt = Optimizer(x, [(LPNorm(x), 1.0), (TotalVariation(x), 1.0)], input_range=(0, 255))
    seed = np.random.default_rng(0).uniform(0, 255, (1, *shape)).astype(np.float32)
    seed[..., :2] += 60.0  # a brighter band, to check the orientation
    live = LivePlot()
    opt.minimize(seed, max_iter=2, callbacks=[live], verbose=False)
    picture = Image.open(io.BytesIO(live.image.value))
    assert picture.mode == mode and picture.size == (256, 256)  # 8 px upscaled x32
    expected = upscale(to_display_image(opt.best_input[0], (0, 255), data_format), 256)
    pixels = np.asarray(picture)
    np.testing.assert_array_equal(pixels.reshape(expected.shape), expected)


def test_a_batch_renders_as_a_labelled_grid(tiny_opt):
    live = LivePlot()
    live.labels = ["a", "b", "c"]
    tiny_opt.minimize(np.zeros((3, 12, 12, 3)) + 0.5, max_iter=2, callbacks=[live], verbose=False)
    picture = Image.open(io.BytesIO(live.image.value))
    # 2 columns x 2 rows of 120 px cells under 14 px captions, 4 px apart
    assert picture.size == (2 * 120 + 4, 2 * (120 + 14) + 4)
    assert live.frames[-1][1].shape == (3, 12, 12, 3)
