"""Every docstring example in the engine runs: `>>>` blocks by doctest, fenced blocks by exec.

Modules are imported by their installed name (`vis_widgets.core....`), never by
path. Fenced ```python examples run in a namespace with every public engine
name (the package's and each module's `__all__`), a tiny model (`model`, a
16x16x3 CNN whose last layer "predictions" is a 5-way softmax), its input `x`,
a conv `layer`, keras-vis's `losses` and an `opt` built from them; `minimize`
runs at most 3 iterations (the examples' `max_iter` values are for real use),
in a temporary directory.
"""

import dataclasses
import doctest
import importlib
import inspect
import pkgutil
import re
import textwrap

import keras
import numpy as np
import pytest
import tensorflow as tf

import vis_widgets.core as core
from vis_widgets.core import Optimizer

MODULES = sorted(
    name
    for _, name, _ in pkgutil.walk_packages(core.__path__, prefix="vis_widgets.core.")
    if not name.rsplit(".", 1)[-1].startswith("_")
)
FENCE = re.compile(r"```python\n(.*?)```", re.S)


def _documented(module):
    """`(qualified name, docstring)` of the module and everything it defines."""
    yield module.__name__, module.__doc__ or ""
    for name, obj in vars(module).items():
        if name.startswith("_") or getattr(obj, "__module__", None) != module.__name__:
            continue
        yield f"{module.__name__}.{name}", inspect.getdoc(obj) or ""
        if inspect.isclass(obj):
            for attr, member in vars(obj).items():
                if not attr.startswith("_") and (
                    inspect.isfunction(member) or isinstance(member, property)
                ):
                    yield f"{module.__name__}.{name}.{attr}", inspect.getdoc(member) or ""


def _examples():
    for module_name in MODULES:
        for name, doc in _documented(importlib.import_module(module_name)):
            for k, block in enumerate(FENCE.findall(doc)):
                yield pytest.param(textwrap.dedent(block), id=f"{name}[{k}]")


EXAMPLES = list(_examples())


def test_every_public_class_has_an_example():
    missing = []
    for module_name in MODULES:
        module = importlib.import_module(module_name)
        public = getattr(module, "__all__", [n for n in vars(module) if not n.startswith("_")])
        for name in public:
            obj = getattr(module, name)
            if inspect.isclass(obj) and obj.__module__ == module_name:
                doc = inspect.getdoc(obj) or ""
                if "Example:" not in doc:
                    missing.append(f"{module_name}.{name}")
    assert missing == []
    assert len(EXAMPLES) >= 25  # the collector sees them


@pytest.mark.parametrize("module_name", MODULES)
def test_doctests(module_name):
    module = importlib.import_module(module_name)
    globs = {"np": np, "tf": tf, "keras": keras, **vars(module)}
    result = doctest.testmod(module, globs=globs, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0


@pytest.fixture
def namespace(small_cnn, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    original = Optimizer.minimize

    def short(self, *args, **kwargs):
        kwargs["max_iter"] = min(kwargs.get("max_iter", 200), 3)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Optimizer, "minimize", short)
    model = small_cnn
    x = model.inputs[0]
    losses = core.keras_vis_losses(model, "predictions", 3)
    names = {}
    for module_name in MODULES:  # every module's public names, then the package's
        module = importlib.import_module(module_name)
        names.update({n: getattr(module, n) for n in getattr(module, "__all__", [])})
    names.update({name: getattr(core, name) for name in core.__all__})
    return {
        **names,
        "dataclasses": dataclasses,
        "keras": keras,
        "np": np,
        "tf": tf,
        "model": model,
        "x": x,
        "layer": model.get_layer("conv2"),
        "losses": losses,
        "opt": Optimizer(x, losses),
    }


@pytest.mark.parametrize("block", EXAMPLES)
def test_fenced_examples_run(block, namespace, capsys):
    exec(compile(block, "<docstring example>", "exec"), dict(namespace))
