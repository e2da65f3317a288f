"""Attribution: saliency maps and class activation maps, compiled and batched.

`Attributor` is the engine (one per model); `visualization.visualize_saliency`
and `visualize_cam` are keras-vis's entry points on top of it;
`cascading_randomization` and `random_class_check` are the sanity checks of
Adebayo et al. (2018); `find_cam_layer` is the Grad-CAM layer rule.
"""

from .engine import Attributor
from .layers import LayerChoice, find_cam_layer
from .sanity import RandomizationResult, cascading_randomization, random_class_check, spearman

METHODS = Attributor.methods

__all__ = [
    "METHODS",
    "Attributor",
    "LayerChoice",
    "RandomizationResult",
    "cascading_randomization",
    "find_cam_layer",
    "random_class_check",
    "spearman",
]
