"""vis-widgets: interactive activation maximization for Jupyter.

The engine is `vis_widgets.core` (TensorFlow only). The UI names below are
imported lazily, so `import vis_widgets.core` never loads ipywidgets.
"""

__version__ = "0.1.0"

_LAZY = {
    "Dashboard": ".dashboard",
    "DashboardState": ".state",
    "LivePlot": ".liveplot",
    "RunRecord": ".history",
}


def __getattr__(name):
    if name in _LAZY:
        import importlib

        module = importlib.import_module(_LAZY[name], __name__)
        return getattr(module, name)
    raise AttributeError(f"module 'vis_widgets' has no attribute {name!r}")


def __dir__():
    return sorted([*globals(), *_LAZY])
