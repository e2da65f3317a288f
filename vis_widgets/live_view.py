"""LiveView: the widgets that show a `LivePlot`, each following one of its traits.

The picture (`vw-image`) and the line saying which values it shows
(`vw-display-range`), the display toggle (`vw-display`), the curve panels
(`vw-curves`), the weighted / unweighted toggle (`vw-curves-mode`), the
latest values (`vw-curves-values`) and the progress (a `ProgressView`).
The pictures follow the live plot through `dlink`s; the toggles are linked
to the settings (a dashboard's state, or the live plot itself), which the
live plot follows. Nothing here writes to the live plot's outputs.
"""

import ipywidgets as widgets
from traitlets import dlink, link

from vis_widgets.display import DISPLAY_MODES
from vis_widgets.progress import ProgressView


def image_view(source, trait, css_class, format="png"):
    """Returns an `ipywidgets.Image` that follows `source.<trait>` (bytes of `format`)."""
    image = widgets.Image(format=format, value=getattr(source, trait))
    image.add_class(css_class)
    dlink((source, trait), (image, "value"))
    return image


def html_view(source, trait, css_class, **layout):
    """Returns an `ipywidgets.HTML` that follows `source.<trait>`."""
    view = widgets.HTML(getattr(source, trait), layout=widgets.Layout(**layout))
    view.add_class(css_class)
    dlink((source, trait), (view, "value"))
    return view


def toggle(css_class, options, tooltips):
    """Returns small `ToggleButtons` with a CSS class."""
    buttons = widgets.ToggleButtons(
        options=options, tooltips=tooltips, style={"button_width": "auto"}
    )
    buttons.add_class(css_class)
    return buttons


class LiveView:
    """The live picture, its display toggle and value range, the curves and the progress.

    Args:
        live: the `LivePlot` to show.
        settings: a `HasTraits` with `display` and the curves mode
            (`raw_trait`) the toggles are linked to; default: the live plot.
        raw_trait: the name of the curves-mode trait on `settings`.

    Attributes:
        image, range_text, display_toggle, curves, curves_mode, values: the
            widgets; progress: the `ProgressView`.
        pictures: a `VBox` of the picture, its toggle and its range line.
        curve_panel: a `VBox` of the curves and their toggle.
        widget: an `HBox` of the pictures, the curves and the values.

    Example:
        ```python
        view = LiveView(live)
        view.widget  # follows every run of `live`
        ```
    """

    def __init__(self, live, settings=None, raw_trait="raw"):
        settings = live if settings is None else settings
        self.image = image_view(live, "image_png", "vw-image")
        self.range_text = html_view(live, "range_text", "vw-display-range", width="256px")
        self.display_toggle = toggle(
            "vw-display", [(m, m) for m in DISPLAY_MODES], ["for the eye", "what minimize returns"]
        )
        link((settings, "display"), (self.display_toggle, "value"))
        self.curves = image_view(live, "curves_svg", "vw-curves", format="svg+xml")
        self.curves_mode = toggle(
            "vw-curves-mode",
            [("weighted", False), ("unweighted", True)],
            ["losses times their weights", "raw loss values (for tuning weights)"],
        )
        link((settings, raw_trait), (self.curves_mode, "value"))
        self.values = html_view(live, "values_html", "vw-curves-values", min_width="230px")
        self.progress = ProgressView(live)
        self.pictures = widgets.VBox([self.image, self.display_toggle, self.range_text])
        self.curve_panel = widgets.VBox([self.curves, widgets.HBox([self.curves_mode])])
        self.widget = widgets.HBox(
            [self.pictures, self.curve_panel, self.values],
            layout=widgets.Layout(align_items="flex-start"),
        )
