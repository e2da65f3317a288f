"""Every docstring example in the engine runs: `>>>` blocks by doctest, fenced blocks by exec.

Modules are imported by their installed name (`vis_widgets.core....`), never by
path. Fenced ```python examples run in a namespace with every public engine
name (the package's and each module's `__all__`), the demo digits model
(`model`, 16x16x1 pixels 0..255, its last layer "predictions" a 10-way
softmax), its input `x`, its conv `layer` "conv2", keras-vis's `losses` and an
`opt` built from them, three held-out digits `images` and one `img`, and an
RGB picture `ouzel.jpg` in the working directory (a temporary one); `minimize`
runs at most 3 iterations (the examples' `max_iter` values are for real use).
"""

import dataclasses
import doctest
import importlib
import inspect
import pkgutil
import re
import textwrap

import keras
import matplotlib
import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

import vis_widgets.core as core
from vis_widgets.core import Optimizer
from vis_widgets.demo import load_demo_model, load_split

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
                yield pytest.param(module_name, textwrap.dedent(block), id=f"{name}[{k}]")


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


@pytest.fixture(scope="module")
def digits():
    _, (x_test, _) = load_split()
    return load_demo_model(), x_test[:3]


@pytest.fixture
def namespace(digits, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    rgb = np.random.default_rng(0).integers(0, 256, (30, 40, 3), dtype=np.uint8)
    Image.fromarray(rgb).save("ouzel.jpg")
    original = Optimizer.minimize

    def short(self, *args, **kwargs):
        kwargs["max_iter"] = min(kwargs.get("max_iter", 200), 3)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Optimizer, "minimize", short)
    model, images = digits
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
        "matplotlib": matplotlib,
        "np": np,
        "tf": tf,
        "model": model,
        "x": x,
        "layer": model.get_layer("conv2"),
        "losses": losses,
        "opt": Optimizer(x, losses),
        "images": images,
        "img": images[0],
    }


@pytest.mark.parametrize(("module_name", "block"), EXAMPLES)
def test_fenced_examples_run(module_name, block, namespace):
    module = importlib.import_module(module_name)
    own = {n: v for n, v in vars(module).items() if not n.startswith("_")}
    exec(compile(block, "<docstring example>", "exec"), {**namespace, **own})
