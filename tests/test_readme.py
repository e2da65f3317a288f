"""The README's Python examples run as written (offline substitutions only)."""

import re
from pathlib import Path

import numpy as np
import pytest

README = Path(__file__).resolve().parents[1] / "README.md"

# Offline and fast: no ImageNet download, and a few iterations instead of hundreds.
SUBSTITUTIONS = [
    ('weights="imagenet"', "weights=None"),
    (re.compile(r"max_iter=\d+"), "max_iter=3"),
]


def python_blocks():
    return re.findall(r"^```python\n(.*?)^```", README.read_text(encoding="utf-8"), re.M | re.S)


def offline(code):
    for old, new in SUBSTITUTIONS:
        code = old.sub(new, code) if isinstance(old, re.Pattern) else code.replace(old, new)
    return code


def test_the_readme_has_the_three_examples():
    blocks = python_blocks()
    assert len(blocks) == 3, [b.splitlines()[0] for b in blocks]
    assert "Dashboard.from_model" in blocks[0]
    assert "Optimizer(x, losses" in blocks[1] and "visualize_activation" in blocks[1]
    assert "class MeanActivation(Loss)" in blocks[2]


@pytest.mark.slow
@pytest.mark.parametrize("index", range(3))
def test_readme_example_runs(index, capsys):
    namespace = {}
    exec(compile(offline(python_blocks()[index]), f"README block {index + 1}", "exec"), namespace)
    if index == 0:
        dash = namespace["dash"]
        assert list(dash.weight_sliders) == [
            "ActivationMax Loss",
            "L-6.0 Norm Loss",
            "TV(2.0) Loss",
        ]
        assert dash.optimizer.input_range == (0.0, 255.0)
        dash.close()
    elif index == 1:
        assert namespace["opt"].get_weight("TV(2.0) Loss") == 50.0
        assert namespace["img"].shape == (224, 224, 3)
        assert "Iteration: 1, named_losses: [('ActivationMax Loss'" in capsys.readouterr().out
    else:
        img = namespace["img"]
        assert img.shape == (16, 16, 1) and np.all(np.isfinite(img))
