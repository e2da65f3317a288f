"""The attribution pages run: docs/attribution.md and docs/migration.md, block after block.

The docstring examples of the attribution modules run in test_docstrings.py.
"""

import re
from pathlib import Path

import pytest

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
