"""The dashboard's state: validation, weights from the optimizer, the binding to the engine."""

import numpy as np
import pytest
from traitlets import TraitError

from vis_widgets.core import Jitter
from vis_widgets.state import DashboardState, EngineBinding

TV = "TV(2.0) Loss"


def test_state_validation_names_the_value():
    state = DashboardState.create(["A", TV], [1.0, 10.0])
    with pytest.raises(TraitError, match=r"TV\(2.0\) Loss.*>= 0. Received: -1.0"):
        state.set_weight(TV, -1)
    with pytest.raises(TraitError, match="finite"):
        state.set_weight("A", float("nan"))
    with pytest.raises(TraitError, match="max_iter"):
        state.max_iter = 0
    with pytest.raises(TraitError, match=r"jitter.*\[0, 1\)"):
        state.jitter = 1.5
    with pytest.raises(ValueError, match="nope"):
        state.set_weight("nope", 1.0)
    with pytest.raises(TraitError):
        state.display = "brighter"
    assert state.weights == {"A": 1.0, TV: 10.0}
    assert state.display == "stretched" and state.iteration == 0 and state.current is None


def test_state_from_optimizer_and_the_binding_write_the_engine(tiny_opt):
    state = DashboardState.from_optimizer(tiny_opt, max_iter=7, jitter=0.1)
    assert state.weights == dict(zip(tiny_opt.loss_keys, [1.0, 10.0, 10.0]))
    assert state.max_iter == 7 and state.get_weight(2) == 10.0
    jitter = Jitter(0.0)
    binding = EngineBinding(state, tiny_opt, jitter)
    assert jitter.jitter == pytest.approx(0.1)
    state.set_weight(TV, 3.5)
    assert tiny_opt.get_weight(TV) == 3.5
    with binding.sweeping(2, [1.0, 2.0]):
        np.testing.assert_array_equal(tiny_opt.get_weight(TV), [1.0, 2.0])
        state.set_weight(TV, 4.0)  # held: the engine keeps the sweep's weights
        assert isinstance(tiny_opt.get_weight(TV), np.ndarray)
    assert tiny_opt.get_weight(TV) == 4.0  # then the state's scalar is back
    tiny_opt.set_weight(TV, [1.0, 2.0])
    with pytest.raises(ValueError, match="one weight per sample"):
        DashboardState.from_optimizer(tiny_opt)
