"""Print, History, GifGenerator and the callback lifecycle."""

import keras
import numpy as np
import pytest
from enginekit import Recorder
from PIL import Image, ImageSequence

from vis_widgets.core import (
    GifGenerator,
    History,
    LPNorm,
    Optimizer,
    OptimizerCallback,
    PixelImage,
    Print,
    ignores_arrays,
)
from vis_widgets.core.callbacks import CallbackList, format_iteration, reads_arrays
from vis_widgets.core.utils import deprocess_input


def _opt(model, **kwargs):
    x = model.inputs[0]
    return Optimizer(x, [(LPNorm(x), 1.0), (LPNorm(x, 2), 2.0)], **kwargs)


def test_format_iteration_uses_pformat_and_python_floats():
    named = [("A", 0.0853), ("B", 1.5)]
    assert format_iteration(4, named, 1.5853) == (
        "Iteration: 5, named_losses: [('A', 0.0853), ('B', 1.5)], overall loss: 1.5853"
    )


def test_print_interval(identity_model, capsys):
    opt = _opt(identity_model)
    opt.minimize(max_iter=7, callbacks=[Print(interval=3)], verbose=False)
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(",")[0] for line in lines] == ["Iteration: 3", "Iteration: 6"]
    assert "np.float32" not in "".join(lines)
    with pytest.raises(ValueError, match="interval"):
        Print(interval=0)


def test_verbose_prints_after_user_callbacks(identity_model, capsys):
    order = []

    class Mark(OptimizerCallback):
        def callback(self, i, named_losses, overall_loss, grads, wrt_value):
            print("user")

    _opt(identity_model).minimize(max_iter=2, callbacks=[Mark()], verbose=True)
    lines = capsys.readouterr().out.splitlines()
    order = ["user" if line == "user" else "print" for line in lines]
    assert order == ["user", "print", "user", "print"]


def test_history_records_each_iteration_and_resets_per_run(identity_model):
    opt = _opt(identity_model)
    history = History()
    opt.minimize(max_iter=4, callbacks=[history], verbose=False)
    assert history.iterations == [0, 1, 2, 3]
    assert set(history.history) == {"L-6.0 Norm Loss", "L-2 Norm Loss", "overall loss"}
    assert all(len(v) == 4 for v in history.history.values())
    total = np.add(history.history["L-6.0 Norm Loss"], history.history["L-2 Norm Loss"])
    np.testing.assert_allclose(total, history.history["overall loss"], rtol=1e-5)
    opt.minimize(max_iter=2, callbacks=[history], verbose=False)
    assert history.iterations == [0, 1]


class Arrays(OptimizerCallback):
    """Records what `grads` and `wrt_value` each iteration handed over."""

    def __init__(self):
        self.seen = []

    def callback(self, i, named_losses, overall_loss, grads, wrt_value):
        self.seen.append((grads, wrt_value))


class Ignoring(Arrays):
    @ignores_arrays
    def callback(self, i, named_losses, overall_loss, grads, wrt_value):
        self.seen.append((grads, wrt_value))


def test_arrays_are_skipped_only_when_no_callback_reads_them(identity_model):
    opt = _opt(identity_model)
    ignoring = Ignoring()
    _, grads, wrt_value = opt.minimize(max_iter=3, callbacks=[ignoring, History()], verbose=False)
    assert ignoring.seen == [(None, None)] * 3
    assert isinstance(grads, np.ndarray) and isinstance(wrt_value, np.ndarray)  # minimize's own
    reading, ignoring = Arrays(), Ignoring()
    opt.minimize(max_iter=3, callbacks=[ignoring, reading], verbose=False)
    for seen in (reading.seen, ignoring.seen):  # one reader: every callback gets the arrays
        assert all(isinstance(g, np.ndarray) and isinstance(w, np.ndarray) for g, w in seen)
    np.testing.assert_array_equal(ignoring.seen[-1][0], reading.seen[-1][0])


def test_the_mark_belongs_to_the_method_not_the_class():
    class Overriding(History):  # overrides a marked method without marking its own
        def callback(self, i, named_losses, overall_loss, grads, wrt_value):
            pass

    assert not reads_arrays(History()) and not reads_arrays(Print())
    assert not reads_arrays(OptimizerCallback()) and not reads_arrays(Ignoring())
    assert reads_arrays(Overriding()) and reads_arrays(Arrays())
    assert reads_arrays(object())  # duck-typed: assumed to read them
    assert not CallbackList([History(), Print()]).reads_arrays
    assert CallbackList([History(), Arrays()]).reads_arrays


def test_callbacks_get_the_optimizer_and_params(identity_model):
    seen = {}

    class Peek(OptimizerCallback):
        def on_begin(self):
            seen["opt"], seen["params"] = self.optimizer, self.params

    opt = _opt(identity_model)
    opt.minimize(np.zeros((3, 4, 4, 2)), max_iter=2, callbacks=[Peek()], verbose=False)
    assert seen == {"opt": opt, "params": {"max_iter": 2, "batch_size": 3}}


def test_on_end_is_called_when_on_begin_raises(identity_model):
    ended = []

    class BadBegin(OptimizerCallback):
        def on_begin(self):
            raise OSError("disk")

        def on_end(self):
            ended.append("bad")

    class Good(OptimizerCallback):
        def on_end(self):
            ended.append("good")

    with pytest.raises(OSError, match="disk"):
        _opt(identity_model).minimize(max_iter=2, callbacks=[Good(), BadBegin()], verbose=False)
    assert ended == ["good", "bad"]


def test_an_on_end_error_is_raised_after_every_on_end_ran(identity_model):
    ended = []

    class BadEnd(OptimizerCallback):
        def on_end(self):
            raise OSError("full")

    class Good(OptimizerCallback):
        def on_end(self):
            ended.append("good")

    with pytest.raises(OSError, match="full"):
        _opt(identity_model).minimize(max_iter=1, callbacks=[BadEnd(), Good()], verbose=False)
    assert ended == ["good"]


def test_gif_generator_writes_one_captioned_frame_per_iteration(identity_model, tmp_path):
    gif = GifGenerator(tmp_path / "run", input_range=(-1, 1))
    assert gif.path.endswith("run.gif")
    _opt(identity_model).minimize(max_iter=5, callbacks=[gif], verbose=False)
    with Image.open(gif.path) as img:
        frames = [np.asarray(f.convert("RGB")) for f in ImageSequence.Iterator(img)]
    assert len(frames) == 5
    assert frames[0].shape[0] >= 160  # 4x4 upscaled so the caption fits
    assert frames[0].dtype == np.uint8 and frames[0].max() > 200  # caption in white


def _gif_pixels(path, size):
    """Each frame's pixel values: the centre of every upscaled cell, as `(frames, size, size)`."""
    with Image.open(path) as img:
        frames = [np.asarray(f.convert("L"), np.float32) for f in ImageSequence.Iterator(img)]
    cell = frames[0].shape[0] // size
    centres = np.arange(size) * cell + cell // 2
    return np.stack([f[np.ix_(centres, centres)] for f in frames])


@pytest.mark.parametrize("parameterized", [False, True])
def test_gif_frames_show_what_the_run_returns(tmp_path, parameterized):
    # A dim, low-contrast seed (values 150..180 of 0..255): de-processing it would stretch it to
    # a standard deviation of 0.1 of the range about mid-grey; the parameterized path returns it
    # as it is, so its frames must show it as it is.
    inp = keras.Input((4, 4, 1))
    model = keras.Model(inp, keras.layers.Activation("linear")(inp))
    seed = np.linspace(150.0, 180.0, 16, dtype=np.float32).reshape(1, 4, 4, 1)
    kwargs = {"parameterization": PixelImage(), "learning_rate": 0.01} if parameterized else {}
    opt = _opt(model, **kwargs)
    gif, recorder = GifGenerator(tmp_path / "run.gif"), Recorder()
    opt.minimize(seed, max_iter=3, callbacks=[gif, recorder], verbose=False)
    frames = _gif_pixels(gif.path, 4)
    assert len(frames) == 3
    for frame, call in zip(frames, recorder.calls):
        shown = call["wrt"][0, ..., 0]
        if not parameterized:
            shown = deprocess_input(shown, (0, 255))  # keras-vis's frames, unchanged
        np.testing.assert_allclose(frame, np.round(shown), atol=1.5)
    if parameterized:  # the first frame is the seed itself, as a returned image would be
        np.testing.assert_allclose(frames[0], np.round(seed[0, ..., 0]), atol=1.5)


@pytest.mark.parametrize("duration", ["x", 0, -5, True])
def test_gif_generator_rejects_a_bad_duration(duration):
    with pytest.raises(ValueError, match="`duration` must be a positive number"):
        GifGenerator("run.gif", duration=duration)


def test_gif_generator_closes_its_file_when_the_run_fails(identity_model, tmp_path):
    class Boom(OptimizerCallback):
        def callback(self, i, named_losses, overall_loss, grads, wrt_value):
            if i == 2:
                raise ValueError("boom")

    gif = GifGenerator(str(tmp_path / "fail.gif"))
    with pytest.raises(ValueError, match="boom"):
        _opt(identity_model).minimize(max_iter=10, callbacks=[gif, Boom()], verbose=False)
    with Image.open(gif.path) as img:
        assert img.n_frames == 3
    (tmp_path / "fail.gif").unlink()  # not held open
