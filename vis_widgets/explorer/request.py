"""What a computation works from: a frozen, hashable snapshot of the explorer's settings.

A `Request` is taken from the `ExplorerState` when a setting changes and handed
to the background worker: a control moved during a computation never changes
the computation under way, two equal requests are one computation, and a
`PaneSpec` is the key of the map cache.
"""

import dataclasses


@dataclasses.dataclass(frozen=True)
class PaneSpec:
    """What one pane computes: everything `Attributor.attribute` needs besides image and class.

    Attributes:
        method: the method name.
        backprop_modifier: None, `"guided"` or `"rectified"` (None where the
            method takes none).
        params: the method's own number parameters, `((name, value), ...)`.
        layer: the CAM layer's name, or None (the engine's rule, and for
            gradient maps).

    Example:
        ```python
        spec = PaneSpec("smoothgrad", params=(("samples", 8), ("noise", 0.1)))
        spec.kwargs(), spec.label()  # ({'method': 'smoothgrad', 'samples': 8, ...}, '...')
        ```
    """

    method: str
    backprop_modifier: str = None
    params: tuple = ()
    layer: str = None

    def kwargs(self):
        """The keyword arguments of `Attributor.attribute` for this pane."""
        kwargs = {"method": self.method, **dict(self.params)}
        if self.backprop_modifier is not None:
            kwargs["backprop_modifier"] = self.backprop_modifier
        if self.layer is not None:
            kwargs["layer"] = self.layer
        return kwargs

    def label(self):
        """A short caption, e.g. `"saliency (guided)"` or `"smoothgrad samples=16 noise=0.2"`."""
        text = self.method
        if self.backprop_modifier is not None:
            text += f" ({self.backprop_modifier})"
        if self.params:
            text += " " + " ".join(f"{k}={v:g}" for k, v in self.params)
        return text


@dataclasses.dataclass(frozen=True)
class Request:
    """A snapshot of the settings: what to compute and how to draw it.

    Attributes:
        index: the image's index in the explorer's batch.
        target: the class explained.
        panes: one `PaneSpec` per pane, in order.
        colormap: a matplotlib colormap name.
        alpha: the heatmap's weight in the overlay, in [0, 1].
        pane_states: the `PaneState` each result is drawn into (not part
            of the request's equality).

    Example:
        ```python
        state = ExplorerState(num_images=2, num_classes=10, panes=["gradcam"])
        assert state.request() == state.request()  # equal settings, one computation
        ```
    """

    index: int
    target: int
    panes: tuple
    colormap: str
    alpha: float
    pane_states: tuple = dataclasses.field(default=(), compare=False, repr=False)
