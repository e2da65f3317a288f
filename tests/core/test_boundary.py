"""core/ stays a TensorFlow + numpy engine: it never reaches for the UI."""

import ast
import json
import pathlib
import subprocess
import sys

CORE = pathlib.Path(__file__).resolve().parents[2] / "core"
FORBIDDEN = {"ipywidgets", "traitlets", "matplotlib", "IPython", "ipykernel", "vis_widgets"}


def _imported_modules(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            yield node.module


def test_core_sources_import_no_ui_module():
    files = sorted(CORE.glob("*.py"))
    assert len(files) >= 8
    offenders = {
        (path.name, name)
        for path in files
        for name in _imported_modules(path)
        if name.split(".")[0] in FORBIDDEN
    }
    assert offenders == set()


def test_importing_core_loads_no_project_ui_module():
    code = (
        "import sys, vis_widgets.core\n"
        "ours = sorted(m for m in sys.modules if m.startswith('vis_widgets')"
        " and not m.startswith('vis_widgets.core'))\n"
        "print(ours)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"TF_CPP_MIN_LOG_LEVEL": "3", "PATH": "/usr/bin:/bin"},
    )
    assert out.stdout.strip() == "['vis_widgets']"


def test_importing_core_loads_no_ui_library_beyond_what_tensorflow_loads():
    # `import tensorflow, keras` itself loads IPython, traitlets and matplotlib (TF 2.21,
    # Keras 3.15: keras.visualization, keras.src.saving.file_editor), so their mere
    # presence in sys.modules says nothing. What core adds on top of that must hold
    # none of them, and ipywidgets is never loaded at all.
    code = (
        "import sys, json\n"
        "import tensorflow, keras\n"
        "before = set(sys.modules)\n"
        "import vis_widgets.core\n"
        "added = sorted(set(sys.modules) - before)\n"
        "print(json.dumps({'added': added, 'ipywidgets': 'ipywidgets' in sys.modules,"
        f" 'tf_loaded': sorted({{m.split('.')[0] for m in before}} & {set(FORBIDDEN)!r})}}))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"TF_CPP_MIN_LOG_LEVEL": "3", "PATH": "/usr/bin:/bin"},
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["ipywidgets"] is False
    added_ui = [m for m in result["added"] if m.split(".")[0] in FORBIDDEN - {"vis_widgets"}]
    assert added_ui == []
    assert any(m.startswith("vis_widgets.core") for m in result["added"])
    print("UI modules tensorflow/keras load by themselves:", result["tf_loaded"])
