"""Helpers for the widget tests: run gates and spies, and widget look-ups by class or description.

Tests find widgets as ipywidgets' own tests do, by what they are (a CSS
class, a description), never by their position in the tree, so a layout
change does not break them for the wrong reason.
"""

import io
import threading
import time
from xml.etree import ElementTree

import keras
import numpy as np
from PIL import Image

from vis_widgets.core import Optimizer, OptimizerCallback, keras_vis_losses

WAIT = 60  # seconds: generous upper bounds, never expected to be reached


def closed_after(build, finish=None):
    """A fixture body: yields `make(*args, **kwargs) -> build(...)`, then ends every one built.

    Ending is `finish(thing)` when given, else `stop()`, `wait` (which must
    return True within WAIT) and `close()`.
    """
    made = []

    def make(*args, **kwargs):
        made.append(build(*args, **kwargs))
        return made[-1]

    yield make
    for thing in made:
        if finish is not None:
            finish(thing)
            continue
        thing.stop()
        assert thing.wait(WAIT)
        thing.close()


class Gate(OptimizerCallback):
    """Blocks a run at iteration `at` until the test calls `open()`.

    Args:
        at: the 0-based iteration to hold.
        run: hold only the `run`-th run (1-based) this gate sees; None: every run.
    """

    def __init__(self, at, run=None):
        self.at, self.run, self.runs = at, run, 0
        self.reached = threading.Event()
        self._open = threading.Event()

    def on_begin(self):
        self.runs += 1

    def callback(self, i, named_losses, overall_loss, grads, wrt_value):
        if i == self.at and self.run in (None, self.runs):
            self.reached.set()
            self._open.wait(WAIT)

    def wait_reached(self):
        assert self.reached.wait(WAIT), "the run never reached the gate"

    def open(self):
        self._open.set()


class Slow(OptimizerCallback):
    """Sleeps after each iteration so a run lasts long enough to see frames."""

    def __init__(self, seconds):
        self.seconds = seconds

    def callback(self, i, named_losses, overall_loss, grads, wrt_value):
        time.sleep(self.seconds)


class CountCalls:
    """Wraps `opt.minimize` to record each call's arguments (the original still runs)."""

    def __init__(self, opt):
        self.calls = []
        self._original = opt.minimize

        def spy(*args, **kwargs):
            self.calls.append((args, kwargs))
            return self._original(*args, **kwargs)

        opt.minimize = spy


class MinimizeSpy:
    """Records the seed shape of every `Optimizer.minimize` call, any optimizer's."""

    def __init__(self, monkeypatch):
        self.shapes = []
        original = Optimizer.minimize

        def spy(opt, seed_input=None, *args, **kwargs):
            self.shapes.append(np.shape(seed_input))
            return original(opt, seed_input, *args, **kwargs)

        monkeypatch.setattr(Optimizer, "minimize", spy)


def three_losses(model, pre_activation=True):
    """keras-vis's three losses on the tiny model's class 1 (core's, weights 1 / 10 / 10)."""
    return keras_vis_losses(model, "pred", 1, pre_activation=pre_activation)


def walk(root):
    """Yields `root` and every widget below it (children of boxes and tabs)."""
    stack = [root]
    while stack:
        widget = stack.pop()
        yield widget
        stack.extend(reversed(getattr(widget, "children", ())))


def find_all(root, css_class=None, description=None, kind=None):
    """The widgets below `root` with a CSS class, a description and/or a type, in tree order."""
    found = []
    for widget in walk(root):
        if kind is not None and not isinstance(widget, kind):
            continue
        if css_class is not None and css_class not in getattr(widget, "_dom_classes", ()):
            continue
        if description is not None and getattr(widget, "description", None) != description:
            continue
        found.append(widget)
    return found


def find(root, css_class=None, description=None, kind=None):
    """The one widget below `root` with a class, a description and/or a type (asserts one)."""
    found = find_all(root, css_class, description, kind)
    assert len(found) == 1, f"{len(found)} widgets with class {css_class!r} / {description!r}"
    return found[0]


def png_size(data):
    """The `(width, height)` of PNG bytes."""
    return Image.open(io.BytesIO(data)).size


SVG = "{http://www.w3.org/2000/svg}"


def svg_tree(data):
    """The root element of SVG bytes (parsing fails on a malformed document)."""
    return ElementTree.fromstring(data)


def svg_size(data):
    """The `(width, height)` in pixels of SVG bytes."""
    root = svg_tree(data)
    return int(float(root.get("width"))), int(float(root.get("height")))


class EngineSpy:
    """An `Attributor` stand-in: records every `attribute` call, can hold one or fail some.

    Everything else is the real engine's (`top_k`, `cam_layer`, `trace_count`...).

    Args:
        engine: the real `Attributor`.
        hold: hold the `hold`-th call (1-based) until `release()`; None: never.
        fail: a method name whose calls raise `RuntimeError("out of memory")`
            while `failing` is True.
    """

    def __init__(self, engine, hold=None, fail=None):
        self._engine, self.hold, self.fail = engine, hold, fail
        self.failing = fail is not None
        self.calls = []
        self.held = threading.Event()
        self._release = threading.Event()

    def __getattr__(self, name):
        return getattr(self._engine, name)

    def attribute(self, images, targets=None, **kwargs):
        self.calls.append({"targets": targets, **kwargs})
        if self.hold is not None and len(self.calls) == self.hold:
            self.held.set()
            assert self._release.wait(WAIT), "the held call was never released"
        if self.failing and kwargs.get("method") == self.fail:
            raise RuntimeError("out of memory")
        return self._engine.attribute(images, targets, **kwargs)

    def wait_held(self):
        assert self.held.wait(WAIT), "no call was held"

    def release(self):
        self._release.set()


def explorer_model(classes=6):
    """A 12x12x3 CNN: two ReLU convolutions (the second 'conv2', 8x8), GAP, a softmax 'pred'."""
    inp = keras.Input((12, 12, 3))
    h = keras.layers.Conv2D(4, 3, activation="relu", name="conv1")(inp)
    h = keras.layers.Conv2D(6, 3, activation="relu", name="conv2")(h)
    h = keras.layers.GlobalAveragePooling2D(name="gap")(h)
    out = keras.layers.Dense(classes, activation="softmax", name="pred")(h)
    return keras.Model(inp, out)


def explorer_images(count=3, seed=0):
    """Random 12x12x3 images in [0, 1]."""
    return np.random.default_rng(seed).uniform(0, 1, (count, 12, 12, 3)).astype("float32")
