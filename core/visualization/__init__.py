"""keras-vis's one-call entry points, at keras-vis's module path (`vis.visualization`)."""

from .activation_maximization import (
    keras_vis_losses,
    visualize_activation,
    visualize_activation_with_losses,
)

__all__ = ["keras_vis_losses", "visualize_activation", "visualize_activation_with_losses"]
