"""The attribution explorer: saliency maps and class activation maps, live, side by side.

`AttributionExplorer` is the widget; `ExplorerState` the one state its
controls are linked to; `LatestWorker` the background worker where the
latest request wins.
"""

from vis_widgets.explorer.state import ExplorerState, PaneState
from vis_widgets.explorer.widget import AttributionExplorer
from vis_widgets.explorer.worker import LatestWorker

__all__ = ["AttributionExplorer", "ExplorerState", "LatestWorker", "PaneState"]
