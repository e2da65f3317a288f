"""vis_widgets.core: a compiled TF2 / Keras 3 port of keras-vis.

Source folder `core/`, import name `vis_widgets.core` (setup.py `package_dir`).

TensorFlow, Keras and numpy only: nothing here imports ipywidgets,
traitlets, matplotlib or the `vis_widgets` UI.

Example:
    ```python
    from vis_widgets.core import ActivationMaximization, LPNorm, Optimizer, TotalVariation

    x = model.inputs[0]
    opt = Optimizer(x, [(ActivationMaximization(model.layers[-1], 3), 1.0),
                        (LPNorm(x), 10.0), (TotalVariation(x), 10.0)])
    img, grads, wrt_value = opt.minimize(max_iter=200)
    ```
"""

from . import backprop_modifiers, grad_modifiers
from .attribution import Attributor
from .callbacks import GifGenerator, History, OptimizerCallback, Print
from .input_modifiers import InputModifier, Jitter
from .losses import ActivationMaximization, Loss
from .optimizer import Optimizer
from .regularizers import LPNorm, TotalVariation
from .utils import deprocess_input, get_num_filters, normalize, stitch_images
from .visualization import (
    overlay,
    visualize_activation,
    visualize_activation_with_losses,
    visualize_cam,
    visualize_cam_with_losses,
    visualize_saliency,
    visualize_saliency_with_losses,
)

__all__ = [
    "ActivationMaximization",
    "Attributor",
    "GifGenerator",
    "History",
    "InputModifier",
    "Jitter",
    "LPNorm",
    "Loss",
    "Optimizer",
    "OptimizerCallback",
    "Print",
    "TotalVariation",
    "backprop_modifiers",
    "deprocess_input",
    "get_num_filters",
    "grad_modifiers",
    "normalize",
    "overlay",
    "stitch_images",
    "visualize_activation",
    "visualize_activation_with_losses",
    "visualize_cam",
    "visualize_cam_with_losses",
    "visualize_saliency",
    "visualize_saliency_with_losses",
]
