"""What shares a compiled step: trace keys, stand-in modifiers and the bounded step cache."""

import gc
import weakref

import numpy as np
from enginekit import Recorder

from vis_widgets.core import InputModifier, Jitter, LPNorm, Optimizer
from vis_widgets.core.input_modifiers import IdentityKey
from vis_widgets.core.steps import STEP_CACHE_SIZE


class Scale(InputModifier):
    """A custom modifier that keeps its setting in a plain Python attribute."""

    def __init__(self, factor):
        self.factor = factor

    def pre(self, x):
        return x * self.factor

    def post(self, x):
        return x / self.factor


def _zero_opt(identity_model):
    x = identity_model.inputs[0]
    return Optimizer(x, [(LPNorm(x), 0.0)])  # zero gradient: only the modifiers act


def test_a_second_custom_modifier_is_not_replaced_by_the_first_traced(identity_model, rng):
    opt = _zero_opt(identity_model)
    seed = rng.normal(size=(1, 4, 4, 2)).astype(np.float32)
    for factor in (2.0, 3.0):
        rec = Recorder()
        opt.minimize(seed, max_iter=1, input_modifiers=[Scale(factor)], callbacks=[rec])
        np.testing.assert_allclose(rec.calls[0]["wrt"], seed * factor, rtol=1e-6)
    assert opt.trace_count == 2  # one trace per instance: safe, not shared


def test_the_same_custom_instance_reuses_its_trace(identity_model, rng):
    opt = _zero_opt(identity_model)
    scale = Scale(2.0)
    for _ in range(3):
        opt.minimize(max_iter=1, input_modifiers=[scale], verbose=False)
    assert opt.trace_count == 1


def test_default_trace_key_is_the_instance_and_jitter_opts_in_to_sharing():
    a, b = Scale(1.0), Scale(1.0)
    assert a.trace_key() == a.trace_key() and a.trace_key() != b.trace_key()
    assert Jitter(1).trace_key() == Jitter(3).trace_key()
    key = IdentityKey(a)
    assert key.obj is a and hash(key) == id(a)


def test_the_step_cache_is_bounded_for_a_new_lambda_per_call(identity_model):
    opt = _zero_opt(identity_model)
    refs = []
    for k in range(STEP_CACHE_SIZE + 6):
        fn = lambda g, k=k: g * 1.0  # noqa: E731 (a new callable per call, as in a loop)
        refs.append(weakref.ref(fn))
        opt.minimize(max_iter=1, grad_modifier=fn, verbose=False)
        del fn
    gc.collect()
    alive = sum(r() is not None for r in refs)
    assert alive == STEP_CACHE_SIZE  # the oldest steps (and their lambdas) were dropped
    assert refs[-1]() is not None and refs[0]() is None
    assert opt.trace_count == STEP_CACHE_SIZE + 6


def test_a_recently_used_step_survives_eviction(identity_model):
    opt = _zero_opt(identity_model)
    keep = Scale(1.0)
    opt.minimize(max_iter=1, input_modifiers=[keep], verbose=False)
    for _ in range(STEP_CACHE_SIZE + 2):
        opt.minimize(max_iter=1, input_modifiers=[keep], verbose=False)  # used: moves to the end
        opt.minimize(max_iter=1, input_modifiers=[Scale(1.0)], verbose=False)
    before = opt.trace_count
    opt.minimize(max_iter=1, input_modifiers=[keep], verbose=False)
    assert opt.trace_count == before  # still cached
