"""vis-widgets: interactive activation maximization for Jupyter.

The engine is `vis_widgets.core` (TensorFlow only); its source is the `core/`
folder at the repository root, installed under this package by setup.py's
`package_dir`. The UI names below are imported lazily, so
`import vis_widgets.core` never loads ipywidgets.
"""

from vis_widgets._version import __version__

_LAZY = {
    "AttributionExplorer": ".explorer",
    "Dashboard": ".dashboard",
    "DashboardState": ".state",
    "LayerBrowser": ".layers",
    "LivePlot": ".liveplot",
    "ModelDashboard": ".model_dashboard",
    "RunRecord": ".runs",
}

__all__ = ["__version__", *_LAZY]


def __getattr__(name):
    if name in _LAZY:
        import importlib

        module = importlib.import_module(_LAZY[name], __name__)
        return getattr(module, name)
    raise AttributeError(f"module 'vis_widgets' has no attribute {name!r}")


def __dir__():
    return sorted([*globals(), *_LAZY])
