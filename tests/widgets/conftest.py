"""Tiny models, optimizers and dashboards for the widget tests (headless, no browser)."""

import keras
import pytest
from widgetkit import WAIT, closed_after, three_losses

from vis_widgets.core import Optimizer
from vis_widgets.dashboard import Dashboard


@pytest.fixture
def tiny_model():
    """A 12x12x3 CNN with a 4-way softmax named "pred"."""
    inp = keras.Input((12, 12, 3))
    h = keras.layers.Conv2D(4, 3, activation="relu", name="conv")(inp)
    h = keras.layers.GlobalAveragePooling2D()(h)
    out = keras.layers.Dense(4, activation="softmax", name="pred")(h)
    return keras.Model(inp, out)


@pytest.fixture
def tiny_opt(tiny_model):
    return Optimizer(tiny_model.inputs[0], three_losses(tiny_model), input_range=(0.0, 1.0))


@pytest.fixture
def make_dashboard():
    """Builds dashboards (fast frame rates unless given) and always stops and closes them."""

    def make(opt, **kwargs):
        kwargs.setdefault("live_options", {"image_fps": 50, "curve_fps": 20})
        kwargs.setdefault("max_iter", 30)
        return Dashboard(opt, **kwargs)

    yield from closed_after(make)


@pytest.fixture
def make_explorer():
    """Builds attribution explorers, waits for their first maps, and closes them."""
    from vis_widgets.explorer import AttributionExplorer

    def finish(explorer):
        assert explorer.wait(WAIT) and explorer.sanity.wait(WAIT)
        explorer.close()

    def make(model, images=None, **kwargs):
        return AttributionExplorer(model, images, **kwargs)

    yield from closed_after(make, finish)
