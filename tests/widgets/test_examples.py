"""Every docstring example of the UI runs: the doctests, and each `Example:` code block.

Sub-packages (the attribution explorer) are walked too. The examples see every
public name of the UI's modules, the demo `model`, a finished `dash`, its
`record`, and `explorer`: an `AttributionExplorer` of three held-out digits.
"""

import doctest
import importlib
import inspect
import pkgutil
import re
import textwrap
import threading
import time

import numpy as np
import pytest
import tensorflow as tf
from widgetkit import WAIT

import vis_widgets
from vis_widgets.core import Jitter, Optimizer, keras_vis_losses
from vis_widgets.dashboard import Dashboard
from vis_widgets.demo import load_demo_model, load_split
from vis_widgets.explorer import AttributionExplorer
from vis_widgets.liveplot import LivePlot

MODULES = sorted(
    m.name
    for m in pkgutil.walk_packages(vis_widgets.__path__, "vis_widgets.")
    if not m.name.rsplit(".", 1)[-1].startswith("_") and not m.name.startswith("vis_widgets.core")
)
EXPLORER = [name for name in MODULES if name.startswith("vis_widgets.explorer")]
BLOCK = re.compile(r"```python\n(.*?)```", re.S)


def _documented(module):
    """`(qualified name, docstring)` of the module and its own classes, functions and methods."""
    yield module.__name__, inspect.getdoc(module) or ""
    for name, obj in vars(module).items():
        if getattr(obj, "__module__", None) != module.__name__:
            continue
        if inspect.isclass(obj) or inspect.isfunction(obj):
            yield f"{module.__name__}.{name}", inspect.getdoc(obj) or ""
        if inspect.isclass(obj):
            for attr, member in vars(obj).items():
                function = getattr(member, "__func__", member)
                if inspect.isfunction(function):
                    yield f"{module.__name__}.{name}.{attr}", inspect.getdoc(function) or ""


EXAMPLES = [
    pytest.param(block, id=f"{where}-{k}")
    for module in MODULES
    for where, doc in _documented(importlib.import_module(module))
    for k, block in enumerate(BLOCK.findall(doc))
]


@pytest.mark.parametrize("module", MODULES)
def test_doctests(module):
    result = doctest.testmod(importlib.import_module(module), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0


def test_there_are_examples_to_run():
    assert len(EXAMPLES) >= 25


@pytest.mark.parametrize("module", EXPLORER)
def test_every_public_explorer_class_has_an_example(module):
    mod = importlib.import_module(module)
    missing = [
        name
        for name, obj in vars(mod).items()
        if inspect.isclass(obj)
        and obj.__module__ == module
        and not name.startswith("_")
        and "Example:" not in (inspect.getdoc(obj) or "")
    ]
    assert missing == []


@pytest.fixture(scope="module")
def context():
    """What the examples call `model`, `opt`, `dash`, `record`...: the demo model's."""
    model = load_demo_model()
    dash = Dashboard.from_model(model, "predictions", 3, tv_weight=0.0, max_iter=3)
    assert dash.run() and dash.wait(WAIT)
    explorer = AttributionExplorer(model, load_split()[1][0][:3], methods=["saliency"])
    assert explorer.wait(WAIT)
    yield {"model": model, "dash": dash, "record": dash.result, "explorer": explorer}
    dash.close()
    assert explorer.wait(WAIT) and explorer.sanity.wait(WAIT)
    explorer.close()


@pytest.mark.slow
@pytest.mark.parametrize("block", EXAMPLES)
def test_example_runs(block, context, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # an example may write a file
    model = context["model"]
    opt = Optimizer(model.inputs[0], keras_vis_losses(model, "predictions", 3), (0.0, 255.0))
    namespace = {}
    for module in MODULES:  # the names an example's module would have imported
        mod = importlib.import_module(module)
        namespace.update({k: v for k, v in vars(mod).items() if not k.startswith("_")})
    namespace.update(
        context,
        np=np,
        tf=tf,
        time=time,
        threading=threading,
        opt=opt,
        live=LivePlot(auto_display=False),
        state=context["dash"].state,
        runner=context["dash"].runner,
        jitter=Jitter(0.05),
        seed=opt.make_seed(),
        images=np.zeros((1, 16, 16, 1), np.uint8),
    )
    code = re.sub(r"max_iter=\d+", "max_iter=3", textwrap.dedent(block))
    exec(compile(code, "example", "exec"), namespace)
    context["dash"].wait(WAIT)
    context["explorer"].wait(WAIT)
