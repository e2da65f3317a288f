"""core/ stays a TensorFlow + numpy engine: it never reaches for the UI."""

import ast
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


def test_importing_core_loads_no_widget_library():
    # tensorflow/keras may pull in IPython, traitlets and matplotlib on their own
    # (checked here); ipywidgets is never among them, so its absence is meaningful.
    code = "import sys, vis_widgets.core\nprint('ipywidgets' in sys.modules)\n"
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"TF_CPP_MIN_LOG_LEVEL": "3", "PATH": "/usr/bin:/bin"},
    )
    assert out.stdout.strip() == "False"
