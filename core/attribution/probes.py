"""The model as an Attributor runs it: rebuilt once per backprop modifier, and probed.

`rebuild` calls the model's own layers on a new input (the model itself is
never modified; guided backprop wraps its layers), reading the target before
its activation when the engine says so; one rebuild per backprop modifier,
cached in the engine's `_rebuilds`. `probe` is the forward function from the
input to the target and the chosen feature maps of a rebuild (XLA-compiled
where this CPU cannot differentiate channels_first convolutions).
"""

import keras

from .. import backprop_modifiers as bm
from ..compilation import model_call
from . import graph as graph_lib

__all__ = []  # implementation of the Attributor


def rebuild(engine, modifier):
    """The model's layers called on a new input, with a backprop modifier (cached per modifier)."""
    key = ("callable", id(modifier)) if callable(modifier) else modifier
    if key not in engine._rebuilds:
        pre = (engine._target_path,) if engine.pre_activation else ()
        if modifier in bm.MODES:
            rebuilt, report = bm.rewrite(engine.model, modifier, pre_activation=pre)
            bm.warn_report(report, stacklevel=4)
        else:
            source = engine.model if modifier is None else modifier(engine.model)
            rebuilt = graph_lib.Rebuild(source, pre_activation=pre)
        engine._rebuilds[key] = (modifier, rebuilt)
    return engine._rebuilds[key][1]


def probe(engine, modifier, extra=()):
    """The forward function `x -> [target, *extra]` over the rebuild of a backprop modifier."""
    rebuilt = rebuild(engine, modifier)
    role = "pre" if engine.pre_activation else engine.target.role
    outputs = [rebuilt.tensor(engine.target.path, role)]
    outputs += [rebuilt.tensor(c.path, c.role) for c in extra]
    probe = keras.Model(rebuilt.input, outputs, name="vis_widgets_attribution_probe")
    probe = model_call(probe)  # XLA where this CPU cannot differentiate NCHW convolutions

    def forward(x):
        out = probe(x, training=False)
        return list(out) if isinstance(out, (list, tuple)) else [out]

    return forward
