"""core/ stays a TensorFlow + numpy engine: it never reaches for the UI."""

import ast
import json
import pathlib
import subprocess
import sys

CORE = pathlib.Path(__file__).resolve().parents[2] / "core"
FORBIDDEN = {"ipywidgets", "traitlets", "matplotlib", "IPython", "ipykernel", "vis_widgets"}


def _module_name(path):
    """The module name of a file in core/, e.g. vis_widgets.core.utils.utils."""
    parts = path.relative_to(CORE).with_suffix("").parts
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(["vis_widgets", "core", *parts])


def _imported_modules(path):
    """Every module a file imports, relative imports resolved to absolute names."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = _module_name(path).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0:
                yield node.module
                continue
            base = package[: len(package) - (node.level - 1)]
            if node.level - 1 > len(package) - 1:
                base = []  # beyond the top package: certainly not inside core
            target = ".".join([*base, *([node.module] if node.module else [])])
            yield target or "."
            if node.module is None:  # from . import a, b
                yield from (f"{target}.{alias.name}" for alias in node.names)


def _forbidden(name):
    if name.split(".")[0] in FORBIDDEN - {"vis_widgets"}:
        return True
    # The project's own modules are allowed only inside vis_widgets.core.
    return name.split(".")[0] == "vis_widgets" and not (
        name == "vis_widgets.core" or name.startswith("vis_widgets.core.")
    )


def test_core_sources_import_no_ui_module():
    files = sorted(CORE.rglob("*.py"))
    assert len(files) >= 10
    offenders = {
        (str(path.relative_to(CORE)), name)
        for path in files
        for name in _imported_modules(path)
        if _forbidden(name)
    }
    assert offenders == set()


def test_the_import_check_sees_relative_imports_of_every_level(tmp_path):
    """The check itself: `from ..x import y` in core/*.py resolves to vis_widgets.x."""
    cases = {
        "from ..dashboard import Dashboard": "vis_widgets.dashboard",
        "from ...vis_widgets import liveplot": "vis_widgets",
        "from .. import dashboard": "vis_widgets.dashboard",
        "import matplotlib.pyplot": "matplotlib.pyplot",
        "from .losses import Loss": "vis_widgets.core.losses",
    }
    source = CORE / "_probe_for_test.py"
    for line, expected in cases.items():
        source.write_text(line + "\n", encoding="utf-8")
        try:
            names = list(_imported_modules(source))
        finally:
            source.unlink()
        assert expected in names, (line, names)
        assert _forbidden(expected) == (not expected.startswith("vis_widgets.core.")), line


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
    assert out.stdout.strip() == "['vis_widgets', 'vis_widgets._version']"


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
