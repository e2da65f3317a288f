"""Numpy and model helpers, at keras-vis's module path (`vis.utils`).

keras-vis code imports them as `from vis.utils import utils` and calls
`utils.find_layer_idx(...)`; here the same line reads
`from vis_widgets.core.utils import utils`. Every public helper is also
importable from this package directly.
"""

from . import utils
from .utils import *  # noqa: F403
from .utils import __all__ as _utils_all

__all__ = ["utils", *_utils_all]
