"""The attribution docs run: docs/attribution.md, docs/migration.md, and the docstring examples."""

import doctest
import importlib
import re
from pathlib import Path

import matplotlib
import matplotlib.cm
import numpy as np
import pytest
from PIL import Image

from vis_widgets.core import backprop_modifiers
from vis_widgets.core.attribution import (
    Attributor,
    cascading_randomization,
    random_class_check,
)
from vis_widgets.core.utils import utils
from vis_widgets.core.visualization import visualize_cam, visualize_saliency
from vis_widgets.demo import load_demo_model, load_split

DOCS = Path(__file__).resolve().parents[2] / "docs"


def python_blocks(text):
    return re.findall(r"^ *```python\n(.*?)^ *```", text, re.M | re.S)


def dedent(block):
    lines = block.splitlines()
    indent = min(len(line) - len(line.lstrip()) for line in lines if line.strip())
    return "\n".join(line[indent:] for line in lines)


@pytest.mark.parametrize("page", ["attribution.md", "migration.md"])
def test_the_pages_python_blocks_run_in_order(page):
    blocks = python_blocks((DOCS / page).read_text(encoding="utf-8"))
    assert len(blocks) >= 2
    namespace = {}
    for i, block in enumerate(blocks):
        exec(compile(block, f"{page} block {i + 1}", "exec"), namespace)
    if page == "migration.md":
        assert namespace["blended"].shape == (16, 16, 3)
        assert namespace["wrt_value"].shape == (1, 16, 16, 1)
    else:
        assert namespace["cam"].shape == (4, 16, 16)
        assert namespace["result"].maps.shape == (6, 4, 16, 16)


@pytest.mark.parametrize(
    "module",
    [
        "vis_widgets.core.visualization",
        "vis_widgets.core.backprop_modifiers",
        "vis_widgets.core.attribution.sanity",
        "vis_widgets.core.utils.utils",
        "vis_widgets.core.attribution.engine",
    ],
)
def test_doctests(module):
    mod = importlib.import_module(module)
    result = doctest.testmod(mod, extraglobs={"np": np})
    assert result.attempted > 0 and result.failed == 0


DOCSTRING_EXAMPLES = [
    Attributor,
    backprop_modifiers,
    backprop_modifiers.guided,
    backprop_modifiers.rectified,
    backprop_modifiers.report,
    utils.apply_modifications,
    utils.load_img,
    visualize_saliency,
    visualize_cam,
    cascading_randomization,
    random_class_check,
]


@pytest.mark.parametrize("obj", DOCSTRING_EXAMPLES, ids=lambda o: o.__name__)
def test_docstring_examples_run(obj, tmp_path, monkeypatch):
    blocks = python_blocks(obj.__doc__)
    assert blocks, f"{obj.__name__} has no example"
    monkeypatch.chdir(tmp_path)
    rgb = np.random.default_rng(0).integers(0, 256, (30, 40, 3), dtype=np.uint8)
    Image.fromarray(rgb).save("ouzel.jpg")
    _, (x_test, _) = load_split()
    model = load_demo_model()
    namespace = {
        "np": np,
        "matplotlib": matplotlib,
        "model": model,
        "images": x_test[:3],
        "img": x_test[0],
        "find_layer_idx": utils.find_layer_idx,
        "apply_modifications": utils.apply_modifications,
        "load_img": utils.load_img,
        "guided": backprop_modifiers.guided,
        "rectified": backprop_modifiers.rectified,
        "report": backprop_modifiers.report,
    }
    exec("import keras\nimport tensorflow as tf\n", namespace)
    for block in blocks:
        exec(compile(dedent(block), f"{obj.__name__} example", "exec"), namespace)
    assert matplotlib.cm is not None
