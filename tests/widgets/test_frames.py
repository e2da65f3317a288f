"""The latest-frame mailbox and its render thread, without widgets."""

import threading

import pytest
from widgetkit import WAIT

from vis_widgets.frames import Frame, InlineRenderer, RenderThread


def test_only_the_latest_frame_waits_and_it_inherits_what_an_older_one_had():
    drawing = threading.Event()
    release = threading.Event()
    drawn = []

    def render(frame):
        drawn.append((frame.iteration, frame.image, frame.curves))
        drawing.set()
        release.wait(WAIT)

    mailbox = RenderThread(render)
    mailbox.submit(Frame(0, 0.0, "image 0", True))
    assert drawing.wait(WAIT)  # frame 0 is being drawn, held
    mailbox.submit(Frame(1, 1.0, "image 1", False))
    mailbox.submit(Frame(2, 2.0, None, True))  # replaces 1, inherits its undrawn image
    mailbox.submit(Frame(3, 3.0, None, False))  # replaces 2, inherits image 1 and the curves
    release.set()
    assert mailbox.finish(Frame(9, 9.0, "final", True, final=True), timeout=WAIT)
    assert drawn[0] == (0, "image 0", True)
    # 3 was replaced by the final frame before it was drawn, or drawn with what it inherited
    assert drawn[-1] == (9, "final", True)
    assert all(step in (3, 9) for step, _, _ in drawn[1:])
    if len(drawn) == 3:
        assert drawn[1] == (3, "image 1", True)


def test_the_first_frame_is_never_replaced_by_a_newer_one():
    drawing, release = threading.Event(), threading.Event()
    drawn = []

    def render(frame):
        drawing.set()
        release.wait(WAIT)
        drawn.append(frame.iteration)

    mailbox = RenderThread(render)
    mailbox.submit(Frame(1, 0.0, "held", True, keep=False))
    assert drawing.wait(WAIT)  # being drawn, held
    mailbox.submit(Frame(0, 0.0, "first", True))  # kept: the first iteration
    mailbox.submit(Frame(5, 0.0, "later", True))  # waits behind it
    release.set()
    assert mailbox.finish(Frame(9, 9.0, "final", True, final=True), timeout=WAIT)
    assert drawn[0] == 1 and 0 in drawn and drawn[-1] == 9  # 5 merged into the final
    assert 5 not in drawn or drawn.index(5) > drawn.index(0)


def test_a_render_error_is_kept_and_later_frames_are_skipped():
    drawn = []
    failed = threading.Event()

    def render(frame):
        drawn.append(frame.iteration)
        if frame.iteration == 0:
            failed.set()
            raise OSError("disk full")

    mailbox = RenderThread(render)
    mailbox.submit(Frame(0, 0.0, None, True))
    assert failed.wait(WAIT)
    assert mailbox.finish(Frame(1, 1.0, None, True, final=True), timeout=WAIT)
    assert isinstance(mailbox.error, OSError) and drawn == [0]


def test_the_inline_renderer_draws_at_once_and_raises_where_it_happens():
    drawn = []
    inline = InlineRenderer(lambda frame: drawn.append(frame.iteration))
    inline.submit(Frame(0, 0.0, None, True))
    assert inline.finish(Frame(1, 0.0, None, True, final=True), timeout=0) and drawn == [0, 1]

    def broken(frame):
        raise OSError("disk full")

    with pytest.raises(OSError):
        InlineRenderer(broken).submit(Frame(0, 0.0, None, True))
