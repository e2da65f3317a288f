"""The recipe choice and the live controls of the chosen recipe.

A recipe (`vis_widgets.core.RECIPES`: keras-vis, robust pixel, fourier) is
built by the engine's `build_recipe` into an optimizer and input modifiers.
Its tunable values live in `tf.Variable`s: the learning rate, the Fourier
decay, the transforms' amounts. `recipe_controls` describes each as a
`Control` (read and write through the engine's own properties, which
validate and assign), and `RecipePanel` shows the choice (`vw-recipe`) and
the sliders of the chosen recipe (`vw-recipe-controls`, each slider
`vw-control-<name>`); moving one changes the running run at its next
iteration, without retracing.
"""

import html

import ipywidgets as widgets
import keras

from vis_widgets.core import (
    RECIPES,
    FourierImage,
    Jitter,
    Pad,
    RandomJitter,
    RandomRotate,
    RandomScale,
    build_recipe,
    get_recipe,
)
from vis_widgets.live_controls import Control, LiveControls

MAX_LEARNING_RATE = 1.0
MIN_LEARNING_RATE = 1e-3


def _amount_control(name, label, transform, high, tooltip):
    return Control(
        name,
        label,
        lambda: float(transform.amount),
        lambda value: setattr(transform, "amount", float(value)),
        0.0,
        max(high, float(transform.amount)),
        step=0.1,
        tooltip=tooltip,
    )


def _scale_control(transform):
    def spread():
        lo, hi = transform.amount
        return (hi - lo) / 2

    return Control(
        "scale",
        "scale ± (fraction)",
        spread,
        lambda value: setattr(transform, "amount", float(value)),
        0.0,
        max(0.5, spread()),
        step=0.01,
        tooltip="zoom by a random factor in [1 - s, 1 + s] per sample and iteration",
    )


def recipe_controls(optimizer, input_modifiers, size):
    """The live `Control`s of a built recipe: learning rate, decay, transform amounts.

    Args:
        optimizer: the recipe's `Optimizer`.
        input_modifiers: its modifiers (a `Jitter` among them is left to the
            dashboard's own jitter slider).
        size: the image's side in pixels (the transforms' ranges scale with it).

    Returns:
        A list of `Control`s (empty for keras-vis's recipe).
    """
    controls = []
    if optimizer.parameterization is not None:
        controls.append(
            Control(
                "learning_rate",
                "learning rate",
                lambda: optimizer.learning_rate,
                lambda value: setattr(optimizer, "learning_rate", float(value)),
                MIN_LEARNING_RATE,
                max(MAX_LEARNING_RATE, optimizer.learning_rate),
                log=True,
                tooltip="Adam's step size",
            )
        )
    parameterization = optimizer.parameterization
    if isinstance(parameterization, FourierImage):
        controls.append(
            Control(
                "decay",
                "Fourier decay",
                lambda: parameterization.decay_power,
                lambda value: setattr(parameterization, "decay_power", float(value)),
                0.0,
                max(4.0, parameterization.decay_power),
                step=0.1,
                tooltip="how fast the spectrum's scale falls with frequency: larger is smoother",
            )
        )
    jitters = 0
    for modifier in input_modifiers:
        if isinstance(modifier, Jitter):
            continue
        if isinstance(modifier, Pad):
            controls.append(
                _amount_control("pad", "pad (px)", modifier, size / 2, "grow the canvas")
            )
        elif isinstance(modifier, RandomJitter):
            jitters += 1
            name, label = (
                ("jitter", "jitter (px)") if jitters == 1 else ("jitter2", "jitter 2 (px)")
            )
            tip = "crop by up to this many pixels at a random offset"
            controls.append(_amount_control(name, label, modifier, size / 2, tip))
        elif isinstance(modifier, RandomScale):
            controls.append(_scale_control(modifier))
        elif isinstance(modifier, RandomRotate):
            tip = "turn by a random angle up to this many degrees"
            controls.append(_amount_control("rotate", "rotate (°)", modifier, 45.0, tip))
    return controls


class RecipePanel:
    """The recipe dropdown, its one-line description, and the chosen recipe's live sliders.

    Args:
        value: the recipe shown first (a name of `RECIPES`).

    Attributes:
        choice: the `Dropdown` of recipe names (`vw-recipe`).
        description: an `HTML` line saying what the recipe does.
        controls: the `LiveControls` of the recipe shown (None before `show`).
        widget: a `VBox` of the three (`vw-recipe-controls` holds the sliders).

    Example:
        ```python
        panel = RecipePanel("fourier")
        prepared = build_recipe(model, "predictions", 3, "fourier", input_range=(0, 255))
        panel.show(prepared.optimizer, prepared.input_modifiers, 16)
        ```
    """

    def __init__(self, value):
        self.choice = widgets.Dropdown(
            options=list(RECIPES),
            value=value,
            description="recipe",
            style={"description_width": "150px"},
            layout=widgets.Layout(width="340px"),
        )
        self.choice.add_class("vw-recipe")
        self.description = widgets.HTML()
        self.controls = None
        self.sliders = widgets.VBox([])
        self.sliders.add_class("vw-recipe-controls")
        self.widget = widgets.VBox([self.choice, self.description, self.sliders])

    def show(self, optimizer, input_modifiers, size):
        """Shows the sliders of a built recipe (call it on the kernel thread, between runs)."""
        recipe = RECIPES[self.choice.value]
        self.description.value = f"<small>{html.escape(recipe.description)}</small>"
        self.controls = LiveControls(recipe_controls(optimizer, input_modifiers, size))
        old = self.sliders.children
        self.sliders.children = tuple(self.controls.sliders.values())
        for slider in old:
            slider.close()


def image_size(model):
    """The larger spatial side of a model's image input, in pixels (0 when unknown)."""
    shape = tuple(model.inputs[0].shape)
    if len(shape) != 4:
        return 0
    dims = shape[2:] if keras.config.image_data_format() == "channels_first" else shape[1:3]
    return 0 if None in dims else int(max(dims))


def transforms_of(prepared):
    """A built recipe's modifiers other than `Jitter` (the dashboard brings its own)."""
    return [m for m in prepared.input_modifiers if not isinstance(m, Jitter)]


class RecipeBook:
    """The recipes of one model's filters, each built once by the engine when first asked for.

    Args:
        model: a single-input Keras model.
        layer: the layer (object, name or index).
        filter_indices: an int, a list of ints, or None.
        input_range: the input's `(min, max)`.
        pre_activation: passed to every recipe (None: True for a softmax layer).

    Example:
        ```python
        book = RecipeBook(model, "predictions", 3, (0, 255), None)
        fourier = book.prepare("fourier")  # a PreparedRecipe
        ```
    """

    def __init__(self, model, layer, filter_indices, input_range, pre_activation):
        self.model, self.layer, self.filter_indices = model, layer, filter_indices
        self.input_range, self.pre_activation = input_range, pre_activation
        self._prepared = {}

    def prepare(self, name, **overrides):
        """Returns the `PreparedRecipe` of `name`, built at the first call.

        Args:
            name: a recipe name of `RECIPES` (or a `Recipe`).
            **overrides: `Recipe` fields for its first build (later calls
                return the recipe as first built).
        """
        recipe = get_recipe(name)
        if recipe.name not in self._prepared:
            if self.pre_activation is not None:
                overrides.setdefault("pre_activation", self.pre_activation)
            self._prepared[recipe.name] = build_recipe(
                self.model, self.layer, self.filter_indices, recipe, self.input_range, **overrides
            )
        return self._prepared[recipe.name]
