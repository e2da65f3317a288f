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
from .callbacks import GifGenerator, History, OptimizerCallback, Print, ignores_arrays
from .input_modifiers import InputModifier, Jitter
from .losses import ActivationMaximization, Diversity, Loss
from .optimizer import Optimizer
from .parameterizations import FourierImage, Parameterization, PixelImage
from .random_transforms import Pad, RandomJitter, RandomRotate, RandomScale, standard_transforms
from .recipes import RECIPES, TUNED_TRANSFORMS, PreparedRecipe, Recipe, build_recipe, get_recipe
from .regularizers import LPNorm, TotalVariation
from .run import RunResult
from .seeds import make_seed
from .transforms import Transform
from .utils import deprocess_input, get_num_filters, normalize, stitch_images
from .visualization import (
    keras_vis_losses,
    overlay,
    visualize_activation,
    visualize_activation_with_losses,
    visualize_cam,
    visualize_cam_with_losses,
    visualize_saliency,
    visualize_saliency_with_losses,
)

__all__ = [
    "RECIPES",
    "TUNED_TRANSFORMS",
    "ActivationMaximization",
    "Attributor",
    "Diversity",
    "FourierImage",
    "GifGenerator",
    "History",
    "InputModifier",
    "Jitter",
    "LPNorm",
    "Loss",
    "Optimizer",
    "OptimizerCallback",
    "Pad",
    "Parameterization",
    "PixelImage",
    "PreparedRecipe",
    "Print",
    "RandomJitter",
    "RandomRotate",
    "RandomScale",
    "Recipe",
    "RunResult",
    "TotalVariation",
    "Transform",
    "backprop_modifiers",
    "build_recipe",
    "deprocess_input",
    "get_num_filters",
    "get_recipe",
    "grad_modifiers",
    "ignores_arrays",
    "keras_vis_losses",
    "make_seed",
    "normalize",
    "overlay",
    "standard_transforms",
    "stitch_images",
    "visualize_activation",
    "visualize_activation_with_losses",
    "visualize_cam",
    "visualize_cam_with_losses",
    "visualize_saliency",
    "visualize_saliency_with_losses",
]
