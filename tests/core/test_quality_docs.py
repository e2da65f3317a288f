"""docs/quality.md runs: its python blocks, in order, checked by value."""

import re
from pathlib import Path

import numpy as np
import pytest

from vis_widgets.demo import DEMO_INPUT_RANGE

PAGE = Path(__file__).resolve().parents[2] / "docs" / "quality.md"


@pytest.mark.slow
def test_the_pages_python_blocks_run_and_draw_the_digit():
    blocks = re.findall(r"^```python\n(.*?)^```", PAGE.read_text(encoding="utf-8"), re.M | re.S)
    assert len(blocks) == 1
    namespace = {}
    exec(compile(blocks[0], "quality.md block 1", "exec"), namespace)
    three, model = namespace["three"], namespace["model"]
    assert three.shape == (16, 16, 1)
    assert DEMO_INPUT_RANGE[0] <= three.min() and three.max() <= DEMO_INPUT_RANGE[1]
    probs = model.predict(three[None], verbose=0)[0]
    assert probs.argmax() == 3 and probs[3] > 0.9
    assert namespace["prepared"].recipe.max_iter == 512
    assert np.isclose(namespace["prepared"].optimizer.learning_rate, 0.001)
