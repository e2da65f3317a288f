"""The explorer's one validated state; `ExplorerState.request()` freezes it for a computation.

Every control of the explorer is `link`ed to a trait of `ExplorerState`
(the image, the class, each pane's method and backprop modifier, the method
parameters, the CAM layer, the colormap and the overlay alpha), and the
computation writes what it draws back into traits (each pane's PNG and
caption, the input picture, the status line). `ExplorerState.request()`
snapshots the settings into a `Request`: a hashable value the background
worker computes from, so a control moved during a computation never changes
the computation under way.
"""

import math
import numbers

import matplotlib
from traitlets import Any, Bool, Bytes, Float, HasTraits, Int, List, TraitError, Unicode, validate

from vis_widgets.core.attribution import Attributor
from vis_widgets.core.attribution.checks import CAM_METHODS, GRADIENT_FREE
from vis_widgets.explorer.request import PaneSpec, Request

MODIFIERS = ("none", "guided", "rectified")
COLORMAPS = ("jet", "viridis", "inferno", "magma", "turbo", "gray")
MAX_PANES = 4
# The number parameters a control can set; the engine's defaults (`Attributor.parameters`).
NUMBER_PARAMETERS = ("samples", "noise", "steps", "max_n")
# (low, high, step) of each, as the explorer's sliders allow (the state validates the same bounds).
NUMBER_LIMITS = {
    "samples": (1, 128, 1),
    "noise": (0.0, 1.0, 0.01),
    "steps": (1, 256, 1),
    "max_n": (1, 256, 1),
}
_DEFAULTS = {
    name: value
    for method in Attributor.methods
    for name, value in Attributor.parameters(method).items()
    if name in NUMBER_PARAMETERS
}


class SettingError(TraitError, ValueError):
    """An explorer setting out of its range or an unknown name (a `ValueError` too).

    Example:
        ```python
        try:
            ExplorerState(num_images=2, num_classes=10, target=10)
        except ValueError as err:
            print(err)  # `target` must be in [0, 10) (the model has 10 classes). ...
        ```
    """


def takes_modifier(method):
    """Whether `backprop_modifier` applies to `method` (not to Score-CAM nor Guided Grad-CAM)."""
    return method not in GRADIENT_FREE and method != "guided_gradcam"


def check_method(value):
    """Returns `value` if it is a method of `Attributor.methods`, else raises TraitError."""
    if value not in Attributor.methods:
        raise SettingError(
            f"`method` must be one of {', '.join(Attributor.methods)}. Received: method={value!r}"
        )
    return value


def check_modifier(value):
    """Returns the modifier's name (`"none"` for None) if it is one of `MODIFIERS`."""
    value = "none" if value is None else value
    if value not in MODIFIERS:
        raise SettingError(
            f"`backprop_modifier` must be one of {list(MODIFIERS)} (or None). "
            f"Received: backprop_modifier={value!r}"
        )
    return value


class PaneState(HasTraits):
    """One pane: its method and modifier (set by its controls), and what it shows.

    Attributes:
        method: the method name.
        backprop_modifier: `"none"`, `"guided"` or `"rectified"` (ignored by
            methods that take none, see `takes_modifier`).
        png: the picture shown (the overlay), PNG bytes; written by the
            computation.
        caption: the line under it (method, time, or the error).
        map: the map shown, a float32 `(H, W)` array in [0, 1], or None.

    Example:
        ```python
        pane = PaneState(method="gradcam")
        pane.backprop_modifier = "guided"
        ```
    """

    method = Unicode("saliency")
    backprop_modifier = Unicode("none")
    png = Bytes(b"")
    caption = Unicode("")
    map = Any(None)

    @validate("method")
    def _validate_method(self, proposal):
        return check_method(proposal["value"])

    @validate("backprop_modifier")
    def _validate_modifier(self, proposal):
        return check_modifier(proposal["value"])


class ExplorerState(HasTraits):
    """Everything the explorer's controls can change, validated, and what it shows.

    Args:
        num_images: how many images the explorer holds (`index` is below it).
        num_classes: the model's number of classes (`target` is below it).
        panes: the initial methods, each a name or a `(method, modifier)` pair.
        cam_layers: the layer names `cam_layer` may take besides `""` (None: any).
        **traits: initial values of the other traits.

    Attributes:
        index: the image shown, in [0, num_images).
        target: the class explained, in [0, num_classes).
        panes: the `PaneState`s shown side by side (1 to `MAX_PANES`).
        samples, noise: SmoothGrad's (and SquareGrad's, VarGrad's) noisy
            copies and noise level (a fraction of the image's value range).
        steps: Integrated Gradients' steps.
        max_n: Faster-Score-CAM's channels.
        cam_layer: the CAM layer's name; `""` is the engine's rule.
        colormap: the heatmaps' matplotlib colormap.
        alpha: the heatmap's weight over the image, in [0, 1] (1: the map alone).
        image_png: the input picture shown (written by the explorer).
        status: the status line (written by the computation).
        computing: whether a computation is going.

    Example:
        ```python
        state = ExplorerState(num_images=4, num_classes=10, panes=["saliency", "gradcam"])
        state.target = 3
        state.panes[1].method = "gradcam++"
        state.request().panes[1].method  # 'gradcam++'
        ```
    """

    index = Int(0)
    target = Int(0)
    panes = List()
    samples = Int(_DEFAULTS["samples"])
    noise = Float(_DEFAULTS["noise"])
    steps = Int(_DEFAULTS["steps"])
    max_n = Int(_DEFAULTS["max_n"])
    cam_layer = Unicode("")
    colormap = Unicode("jet")
    alpha = Float(0.5)
    image_png = Bytes(b"")
    status = Unicode("")
    computing = Bool(False)

    def __init__(self, num_images, num_classes, panes=("saliency",), cam_layers=None, **traits):
        self.num_images, self.num_classes = int(num_images), int(num_classes)
        self.cam_layers = None if cam_layers is None else tuple(cam_layers)
        panes = [panes] if isinstance(panes, (str, PaneState)) else list(panes)
        super().__init__(panes=[self.make_pane(p) for p in panes], **traits)

    @staticmethod
    def make_pane(spec):
        """Returns a `PaneState` from a method name, a `(method, modifier)` pair or a pane."""
        if isinstance(spec, PaneState):
            return spec
        if isinstance(spec, str):
            return PaneState(method=check_method(spec))
        if isinstance(spec, (tuple, list)) and len(spec) == 2:
            return PaneState(
                method=check_method(spec[0]), backprop_modifier=check_modifier(spec[1])
            )
        raise TypeError(
            "Each of `methods` must be a method name or a (method, backprop_modifier) pair. "
            f"Received: {spec!r}"
        )

    def add_pane(self, method="saliency", backprop_modifier="none"):
        """Adds a pane at the end (at most `MAX_PANES`); returns it."""
        pane = PaneState(method=check_method(method), backprop_modifier=backprop_modifier)
        self.panes = [*self.panes, pane]
        return pane

    def remove_pane(self, pane):
        """Removes a pane (the last one stays)."""
        self.panes = [p for p in self.panes if p is not pane]

    def parameters(self, method):
        """The number parameters of `method` with the state's values, `((name, value), ...)`."""
        return tuple(
            (name, getattr(self, name))
            for name in Attributor.parameters(method)
            if name in NUMBER_PARAMETERS
        )

    def pane_spec(self, pane):
        """The `PaneSpec` of a pane under the current settings."""
        method = pane.method
        modifier = pane.backprop_modifier if takes_modifier(method) else "none"
        layer = (self.cam_layer or None) if method in CAM_METHODS else None
        return PaneSpec(
            method, None if modifier == "none" else modifier, self.parameters(method), layer
        )

    def request(self):
        """Returns the `Request` of the current settings."""
        panes = tuple(self.panes)
        return Request(
            self.index,
            self.target,
            tuple(self.pane_spec(p) for p in panes),
            self.colormap,
            self.alpha,
            panes,
        )

    def used_parameters(self):
        """The number parameters some pane's method takes, in `NUMBER_PARAMETERS` order."""
        used = {name for pane in self.panes for name in Attributor.parameters(pane.method)}
        return [name for name in NUMBER_PARAMETERS if name in used]

    # ------------------------------------------------------------------ validation
    def _in_range(self, proposal, limit, what):
        value = proposal["value"]
        name = proposal["trait"].name
        if not 0 <= value < limit:
            raise SettingError(
                f"`{name}` must be in [0, {limit}) ({what}). Received: {name}={value}"
            )
        return value

    @validate("index")
    def _validate_index(self, proposal):
        return self._in_range(
            proposal, self.num_images, f"the explorer has {self.num_images} images"
        )

    @validate("target")
    def _validate_target(self, proposal):
        return self._in_range(
            proposal, self.num_classes, f"the model has {self.num_classes} classes"
        )

    @validate("panes")
    def _validate_panes(self, proposal):
        panes = list(proposal["value"])
        if not 1 <= len(panes) <= MAX_PANES or not all(isinstance(p, PaneState) for p in panes):
            raise SettingError(
                f"`panes` must hold 1 to {MAX_PANES} PaneState objects. Received: {panes!r}"
            )
        return panes

    @validate("samples", "noise", "steps", "max_n")
    def _validate_number(self, proposal):
        value, name = proposal["value"], proposal["trait"].name
        low, high, _ = NUMBER_LIMITS[name]
        if not (math.isfinite(value) and low <= value <= high):
            raise SettingError(f"`{name}` must be in [{low}, {high}]. Received: {name}={value!r}")
        return value

    @validate("cam_layer")
    def _validate_cam_layer(self, proposal):
        value = proposal["value"]
        if value and self.cam_layers is not None and value not in self.cam_layers:
            raise SettingError(
                f"`cam_layer` must be '' (the engine's rule) or one of {list(self.cam_layers)}. "
                f"Received: cam_layer={value!r}"
            )
        return value

    @validate("alpha")
    def _validate_alpha(self, proposal):
        value = proposal["value"]
        if not (isinstance(value, numbers.Real) and 0.0 <= value <= 1.0):
            raise SettingError(f"`alpha` must be in [0, 1]. Received: alpha={value!r}")
        return value

    @validate("colormap")
    def _validate_colormap(self, proposal):
        value = proposal["value"]
        if value not in matplotlib.colormaps:
            raise SettingError(
                f"`colormap` must be a matplotlib colormap name, e.g. one of {list(COLORMAPS)}. "
                f"Received: colormap={value!r}"
            )
        return value
