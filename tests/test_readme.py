"""The README's Python examples run as written (offline substitutions only).

Each block is recognised by a line it must contain and checked by value
after it runs; a block the test does not know fails, so a new README
example needs its check here.
"""

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


def check_dashboard(ns, out):
    dash = ns["dash"]
    assert list(dash.weight_sliders) == ["ActivationMax Loss", "L-6.0 Norm Loss", "TV(2.0) Loss"]
    assert dash.optimizer.input_range == (0.0, 255.0)
    dash.close()


def check_engine(ns, out):
    assert ns["opt"].get_weight("TV(2.0) Loss") == 50.0
    assert ns["img"].shape == (224, 224, 3)
    assert "Iteration: 1, named_losses: [('ActivationMax Loss'" in out


def check_parameterized(ns, out):
    assert ns["opt"].parameterization is not None
    img = ns["img"]
    assert img.shape == (16, 16, 1) and img.min() >= 0 and img.max() <= 255


def check_custom_loss(ns, out):
    img = ns["img"]
    assert img.shape == (16, 16, 1) and np.all(np.isfinite(img))


def check_attribution(ns, out):
    for name in ("saliency", "cam", "guided", "smooth"):
        maps = ns[name]
        assert maps.shape == (4, 16, 16), name
        assert maps.min() >= 0 and maps.max() <= 1 and maps.max() > 0, name
    assert ns["classes"].shape == ns["probabilities"].shape == (4, 5)


def check_migration(ns, out):
    assert ns["grads"].shape == (16, 16)
    assert ns["cam"].shape == (16, 16)
    assert ns["blended"].shape == (16, 16, 3) and ns["blended"].dtype == np.uint8


CHECKS = {
    "dashboard": ("Dashboard.from_model(", check_dashboard),
    "engine": ("opt.set_weight(", check_engine),
    "parameterized": ("parameterization=FourierImage()", check_parameterized),
    "custom loss": ("class MeanActivation(Loss)", check_custom_loss),
    "attribution": ("attributor = Attributor(model)", check_attribution),
    "migration": ("utils.apply_modifications(model)", check_migration),
}


def kind(block):
    kinds = [name for name, (marker, _) in CHECKS.items() if marker in block]
    assert len(kinds) == 1, f"no single check for README block {block.splitlines()[0]!r}"
    return kinds[0]


def test_every_readme_example_is_known_and_every_check_has_its_example():
    kinds = [kind(block) for block in python_blocks()]
    assert sorted(kinds) == sorted(CHECKS)


@pytest.mark.slow
@pytest.mark.parametrize("index", range(len(CHECKS)))
def test_readme_example_runs(index, capsys):
    block = python_blocks()[index]
    namespace = {}
    exec(compile(offline(block), f"README block {index + 1}", "exec"), namespace)
    CHECKS[kind(block)][1](namespace, capsys.readouterr().out)
