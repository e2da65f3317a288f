"""The explorer's controls and pictures, each `link`ed to a trait of the `ExplorerState`.

Views write settings into the state through links and read what to show
through `dlink`s; they never call the engine. Every widget a test or a
stylesheet needs carries a stable CSS class (`vw-attr-...`).
"""

import html

import ipywidgets as widgets
import numpy as np
from traitlets import dlink, link

from vis_widgets.core.attribution import Attributor
from vis_widgets.explorer.pictures import MAP_SIZE
from vis_widgets.explorer.state import (
    COLORMAPS,
    MODIFIERS,
    NUMBER_LIMITS,
    takes_modifier,
)
from vis_widgets.render import placeholder_png

TOP_K = 5


def styled(widget, *css_classes):
    """Adds CSS classes to a widget and returns it."""
    for css_class in css_classes:
        widget.add_class(css_class)
    return widget


def close_tree(root):
    """Closes a widget and every widget below it (children of boxes and tabs)."""
    stack = [root]
    while stack:
        widget = stack.pop()
        stack.extend(getattr(widget, "children", ()))
        widget.close()


def picture_widget(css_class, text="computing..."):
    """An `Image` showing a placeholder until its first picture (never a broken image)."""
    image = widgets.Image(value=placeholder_png(MAP_SIZE, MAP_SIZE, text), format="png")
    image.layout = widgets.Layout(width=f"{MAP_SIZE}px", height="auto")
    return styled(image, css_class)


class PaneView:
    """One pane's column: its method and modifier choices, its picture and caption.

    Args:
        pane: the `PaneState` it shows and sets.
        on_remove: called with the pane when its remove button is clicked.

    Attributes:
        method: the method `Dropdown` (`vw-attr-method`).
        modifier: the backprop-modifier `Dropdown` (`vw-attr-modifier`),
            disabled for methods that take none.
        image: the map's `Image` (`vw-attr-map`).
        caption: an `HTML` line under it (`vw-attr-caption`).
        remove: the pane's remove `Button` (`vw-attr-remove`).
        widget: the column (`vw-attr-pane`).

    Example:
        ```python
        view = PaneView(PaneState(method="gradcam"), on_remove=print)
        view.method.value = "layercam"  # sets the pane's method
        view.widget  # the column
        ```
    """

    def __init__(self, pane, on_remove):
        self.pane = pane
        narrow = widgets.Layout(width=f"{MAP_SIZE - 34}px")
        self.method = styled(
            widgets.Dropdown(options=Attributor.methods, layout=narrow), "vw-attr-method"
        )
        self.modifier = styled(
            widgets.Dropdown(
                options=MODIFIERS,
                description="backprop",
                style={"description_width": "initial"},
                layout=widgets.Layout(width=f"{MAP_SIZE}px"),
            ),
            "vw-attr-modifier",
        )
        self.remove = styled(
            widgets.Button(
                icon="times", tooltip="remove this method", layout=widgets.Layout(width="30px")
            ),
            "vw-attr-remove",
        )
        self.image = picture_widget("vw-attr-map")
        self.caption = styled(
            widgets.HTML(layout=widgets.Layout(width=f"{MAP_SIZE}px")), "vw-attr-caption"
        )
        self._links = [
            link((pane, "method"), (self.method, "value")),
            link((pane, "backprop_modifier"), (self.modifier, "value")),
            dlink((pane, "png"), (self.image, "value"), lambda png: png or self.image.value),
            dlink((pane, "caption"), (self.caption, "value"), _small),
            dlink((pane, "method"), (self.modifier, "disabled"), lambda m: not takes_modifier(m)),
        ]
        self.remove.on_click(lambda _: on_remove(pane))
        self.widget = styled(
            widgets.VBox(
                [widgets.HBox([self.method, self.remove]), self.modifier, self.image, self.caption]
            ),
            "vw-attr-pane",
        )

    def close(self):
        """Unlinks the pane and closes the widgets."""
        for each in self._links:
            each.unlink()
        for w in (self.method, self.modifier, self.remove, self.image, self.caption, self.widget):
            w.close()


def _small(text):
    return f"<small>{text}</small>"


class ImagePicker:
    """The image chooser (`vw-attr-pick`, hidden for a single image) and the input picture.

    Attributes:
        slider: the `IntSlider` over the image index (`vw-attr-pick`).
        image: the input's `Image` (`vw-attr-image`).
        caption: what the image is (its name, its true label).
        widget: the column.

    Example:
        ```python
        picker = ImagePicker(explorer.state, explorer.images)
        picker.slider.value = 1  # shows image 1: the explorer recomputes
        ```
    """

    def __init__(self, state, images):
        self.slider = styled(
            widgets.IntSlider(
                min=0,
                max=max(0, len(images) - 1),
                description="image",
                continuous_update=True,  # the worker keeps only the latest value
                layout=widgets.Layout(width="320px"),
            ),
            "vw-attr-pick",
        )
        if len(images) == 1:
            self.slider.layout.display = "none"
        self.image = picture_widget("vw-attr-image", "")
        self.caption = styled(widgets.HTML(), "vw-attr-image-caption")
        self._links = [
            link((state, "index"), (self.slider, "value")),
            dlink(
                (state, "image_png"), (self.image, "value"), lambda png: png or self.image.value
            ),
            dlink(
                (state, "index"), (self.caption, "value"), lambda i: _small(_describe(images, i))
            ),
        ]
        header = widgets.HTML(_small("<b>image</b>"), layout=widgets.Layout(height="58px"))
        self.widget = widgets.VBox([header, self.image, self.caption])


def _describe(images, index):
    text = html.escape(images.names[index])
    if images.labels is not None:
        text += f" · label {html.escape(images.class_name(int(images.labels[index])))}"
    return text


def percent(probability):
    """A probability as the class picker shows it: `"97.3%"`, or `"<0.1%"` below 0.05%.

    Example:
        >>> percent(0.9731), percent(0.0004)
        ('97.3%', '<0.1%')
    """
    return f"{probability:.1%}" if probability >= 0.0005 else "<0.1%"


class ClassPicker:
    """The class choice: the image's top 5 with probabilities, or any class typed in.

    The dropdown (`vw-attr-class`) lists the model's 5 most probable classes
    for the image shown; a class typed into the box (`vw-attr-class-index`)
    that is not among them is added to the list, marked "typed".

    Args:
        state: the `ExplorerState`.
        images: the `ExplorerImages` (for class names).
        probabilities: `(N, C)` the model's probabilities for every image.

    Example:
        ```python
        picker = ClassPicker(explorer.state, explorer.images, explorer.probabilities)
        picker.dropdown.options[0]  # ('2 · 99.7%', 2): the top class and its probability
        picker.typed.value = 7  # any class: added to the list, marked "typed"
        ```
    """

    def __init__(self, state, images, probabilities):
        self.state, self.images, self.probabilities = state, images, probabilities
        self.dropdown = styled(
            widgets.Dropdown(description="class", layout=widgets.Layout(width="260px")),
            "vw-attr-class",
        )
        self.typed = styled(
            widgets.BoundedIntText(
                min=0,
                max=state.num_classes - 1,
                description="any class",
                layout=widgets.Layout(width="170px"),
            ),
            "vw-attr-class-index",
        )
        self._link = link((state, "target"), (self.typed, "value"))
        self._syncing = False
        state.observe(self._sync, names=["index", "target"])
        self.dropdown.observe(self._picked, names="value")
        self._sync()
        self.widget = widgets.HBox([self.dropdown, self.typed])

    def top(self, index):
        """The `TOP_K` classes of image `index`, most probable first."""
        return np.argsort(-self.probabilities[index], kind="stable")[:TOP_K]

    def options(self, index, target):
        """The dropdown's `(label, class)` options for an image and the chosen class."""
        p = self.probabilities[index]
        name = self.images.class_name
        options = [(f"{name(c)} · {percent(p[c])}", int(c)) for c in self.top(index)]
        if target not in [c for _, c in options]:
            options.append((f"{name(target)} · {percent(p[target])} (typed)", target))
        return options

    def _sync(self, change=None):
        self._syncing = True
        try:
            self.dropdown.options = self.options(self.state.index, self.state.target)
            self.dropdown.value = self.state.target
        finally:
            self._syncing = False

    def _picked(self, change):
        if not self._syncing and change["new"] is not None:
            self.state.target = change["new"]


class ParameterControls:
    """The method parameters, the CAM layer, the colormap and the overlay alpha.

    A parameter's slider (`vw-attr-samples`, `vw-attr-noise`,
    `vw-attr-steps`, `vw-attr-max-n`) is shown only while a pane's method
    takes it (`Attributor.parameters`); the CAM layer (`vw-attr-layer`, with
    the engine's rule shown) only while a pane is a class activation map.

    Args:
        state: the `ExplorerState`.
        layers: the layer names a CAM may read.
        rule_text: what the engine's rule picks, e.g. `"pool2 (4, 4, 24)"`.

    Example:
        ```python
        controls = ParameterControls(explorer.state, ["conv2", "pool2"], "pool2 (4, 4, 24)")
        controls.sliders["noise"].value = 0.1  # SmoothGrad's noise, for every pane
        ```
    """

    def __init__(self, state, layers, rule_text):
        self.state = state
        self.sliders = {}
        for name, (low, high, step) in NUMBER_LIMITS.items():
            kind = widgets.FloatSlider if isinstance(step, float) else widgets.IntSlider
            slider = kind(
                min=low,
                max=high,
                step=step,
                description=name.replace("_", " "),
                continuous_update=True,  # the worker keeps only the latest value
                layout=widgets.Layout(width="300px"),
            )
            self.sliders[name] = styled(slider, f"vw-attr-{name.replace('_', '-')}")
        options = [(f"auto: {rule_text}", ""), *((name, name) for name in layers)]
        self.layer = styled(
            widgets.Dropdown(
                options=options, description="CAM layer", layout=widgets.Layout(width="380px")
            ),
            "vw-attr-layer",
        )
        self.colormap = styled(
            widgets.Dropdown(
                options=sorted({*COLORMAPS, state.colormap}),
                description="colormap",
                layout=widgets.Layout(width="220px"),
            ),
            "vw-attr-colormap",
        )
        self.alpha = styled(
            widgets.FloatSlider(
                min=0.0,
                max=1.0,
                step=0.05,
                description="map alpha",
                continuous_update=True,  # the worker keeps only the latest value
                layout=widgets.Layout(width="300px"),
            ),
            "vw-attr-alpha",
        )
        self._links = [link((state, name), (s, "value")) for name, s in self.sliders.items()]
        self._links += [
            link((state, "cam_layer"), (self.layer, "value")),
            link((state, "colormap"), (self.colormap, "value")),
            link((state, "alpha"), (self.alpha, "value")),
        ]
        self.widget = widgets.VBox(
            [
                widgets.HBox(
                    list(self.sliders.values()), layout=widgets.Layout(flex_flow="row wrap")
                ),
                self.layer,
                widgets.HBox([self.colormap, self.alpha]),
            ]
        )
        self.update_visibility()

    def update_visibility(self, has_cam=None):
        """Shows the controls the panes' methods use, hides the others."""
        used = self.state.used_parameters()
        for name, slider in self.sliders.items():
            slider.layout.display = "" if name in used else "none"
        if has_cam is not None:
            self.layer.layout.display = "" if has_cam else "none"


def add_button():
    """The `+ method` button (`vw-attr-add`)."""
    return styled(
        widgets.Button(
            description="+ method",
            tooltip="add a method side by side",
            layout=widgets.Layout(width="90px"),
        ),
        "vw-attr-add",
    )
