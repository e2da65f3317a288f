"""Recipes: the three ways the dashboard offers to draw what a filter responds to.

A recipe is data (a frozen `Recipe`), and `build_recipe` turns one into an
`Optimizer` plus its input modifiers for a model, a layer and its filters:

- `"keras-vis"`: keras-vis's recipe, today's path: pixel space, keras-vis's
  RMSProp with no step size, L-6 norm 10 and total variation 10, `Jitter`,
  the best input de-processed (`deprocess_input`);
- `"robust pixel"`: a sigmoid pixel image (`PixelImage`) optimized with Adam
  under Lucid's standard transforms (a larger pad and jitter), returned as
  it is;
- `"fourier"`: Lucid's decorrelated Fourier image (`FourierImage`) with Adam
  under the same transforms; on small images (up to 32 px) a decay of 2
  and a step size of 0.001.

The new recipes keep the L-6 norm and total variation losses at weight 0
(the sigmoid bounds the image already; Lucid has neither), so a dashboard
still has their sliders. The defaults were tuned with
`bench/bench_quality.py` (docs/quality.md has the measurements); change
them with `dataclasses.replace` or by `build_recipe(..., **overrides)`.
"""

import dataclasses
import types

import keras

from .input_modifiers import Jitter
from .optimizer import Optimizer
from .parameterizations import FourierImage, PixelImage
from .random_transforms import LUCID_TRANSFORMS, standard_transforms
from .validation import check_int, check_range
from .visualization.activation_maximization import keras_vis_losses

__all__ = ["RECIPES", "TUNED_TRANSFORMS", "PreparedRecipe", "Recipe", "build_recipe", "get_recipe"]


@dataclasses.dataclass(frozen=True)
class Recipe:
    """One recipe's settings (data: no behaviour).

    Attributes:
        name: the recipe's name (a key of `RECIPES`).
        description: one sentence for a menu or a tooltip.
        parameterization: None (keras-vis's path), `"pixel"` or `"fourier"`.
        learning_rate: Adam's step size (None on keras-vis's path).
        small_image_learning_rate: Adam's step size for images of at most
            `small_image_size` pixels (None: `learning_rate`). The Fourier
            recipe's decay of 2 on small images multiplies the lowest
            frequencies' steps by up to `size ** 2`, so it wants a smaller step.
        sd: the random starting parameter's standard deviation.
        decay_power: the Fourier decay for images larger than
            `small_image_size`.
        small_image_decay_power: the Fourier decay for images of at most
            `small_image_size` pixels (a larger decay suits small images).
        small_image_size: the side, in pixels, up to which an image is small.
        jitter: keras-vis's `Jitter` amount (0: none).
        transforms: use `standard_transforms` with `transform_amounts`.
        transform_amounts: the transforms' amounts, keyword arguments of
            `standard_transforms` (pixel amounts for `reference_size` px).
        act_max_weight: the activation loss's weight.
        lp_norm_weight: the L-6 norm's weight.
        tv_weight: the total variation's weight.
        pre_activation: `keras_vis_losses`'s (None: True for softmax layers).
        max_iter: the iterations of one run.

    Example:
        ```python
        longer = dataclasses.replace(RECIPES["fourier"], max_iter=1024)
        prepared = build_recipe(model, "predictions", 3, longer, input_range=(0, 255))
        ```
    """

    name: str
    description: str
    parameterization: str | None = None
    learning_rate: float | None = None
    small_image_learning_rate: float | None = None
    sd: float = 0.01
    decay_power: float = 1.0
    small_image_decay_power: float = 2.0
    small_image_size: int = 32
    jitter: float = 0.0
    transforms: bool = False
    transform_amounts: types.MappingProxyType = dataclasses.field(
        default_factory=lambda: types.MappingProxyType(dict(LUCID_TRANSFORMS))
    )
    act_max_weight: float = 1.0
    lp_norm_weight: float = 0.0
    tv_weight: float = 0.0
    pre_activation: bool | None = None
    max_iter: int = 256


# The new recipes' transforms: Lucid's set with a larger pad and first jitter (Lucid: 12 and
# 8 px for 128 px). Measured by bench/bench_quality.py on the digits (16 px; also checked at
# 32 and 64 px): the pictures transfer better to models that never saw the optimization.
TUNED_TRANSFORMS = types.MappingProxyType({**LUCID_TRANSFORMS, "pad": 16.0, "jitter": 32.0})

RECIPES = types.MappingProxyType(
    {
        "keras-vis": Recipe(
            name="keras-vis",
            description=(
                "keras-vis: pixels, no step size, L-6 norm and total variation, "
                "the best input de-processed."
            ),
            jitter=0.05,
            lp_norm_weight=10.0,
            tv_weight=10.0,
            max_iter=200,
        ),
        "robust pixel": Recipe(
            name="robust pixel",
            description="Sigmoid pixels with Adam under random pad, jitter, scale and rotation.",
            parameterization="pixel",
            learning_rate=0.05,
            transforms=True,
            transform_amounts=TUNED_TRANSFORMS,
            max_iter=256,
        ),
        "fourier": Recipe(
            name="fourier",
            description=(
                "Lucid's decorrelated Fourier image with Adam under random pad, jitter, "
                "scale and rotation."
            ),
            parameterization="fourier",
            learning_rate=0.05,
            small_image_learning_rate=0.001,
            transforms=True,
            transform_amounts=TUNED_TRANSFORMS,
            max_iter=512,
        ),
    }
)


def get_recipe(recipe):
    """Returns a `Recipe`: given by name (a key of `RECIPES`) or as one.

    Raises:
        ValueError: for an unknown name (the message lists the known ones).
        TypeError: for anything else.
    """
    if isinstance(recipe, Recipe):
        return recipe
    if isinstance(recipe, str):
        if recipe not in RECIPES:
            raise ValueError(
                f"Unknown `recipe`. Expected one of {', '.join(map(repr, RECIPES))}. "
                f"Received: recipe={recipe!r}"
            )
        return RECIPES[recipe]
    raise TypeError(f"`recipe` must be a name or a Recipe. Received: recipe={recipe!r}")


@dataclasses.dataclass(frozen=True)
class PreparedRecipe:
    """An optimizer and input modifiers built from a recipe, ready to `minimize`.

    Attributes:
        optimizer: the `Optimizer`.
        input_modifiers: the list to pass to `minimize` (its amounts are
            live: change them during a run).
        max_iter: the recipe's number of iterations.
        recipe: the `Recipe` it was built from (overrides applied).

    Example:
        ```python
        prepared = build_recipe(model, "predictions", 3, "robust pixel")
        img, grads, wrt_value = prepared.minimize(verbose=False)
        ```
    """

    optimizer: Optimizer
    input_modifiers: list
    max_iter: int
    recipe: Recipe

    def minimize(self, **kwargs):
        """`optimizer.minimize` with the recipe's `max_iter` and `input_modifiers` as defaults."""
        kwargs = {"max_iter": self.max_iter, "input_modifiers": self.input_modifiers, **kwargs}
        return self.optimizer.minimize(**kwargs)


def _image_size(input_tensor, data_format):
    shape = tuple(input_tensor.shape)
    if len(shape) != 4:
        return None
    dims = shape[2:] if data_format == "channels_first" else shape[1:3]
    return None if None in dims else max(dims)


def build_recipe(
    model, layer, filter_indices=None, recipe="fourier", input_range=(0, 255), **overrides
):
    """Builds the optimizer and input modifiers of a recipe for some filters of a layer.

    The losses are `keras_vis_losses(model, layer, filter_indices, ...)` with
    the recipe's weights. Transforms get amounts scaled to the input's image
    size; for images of at most `small_image_size` pixels the Fourier decay
    is `small_image_decay_power` (else `decay_power`) and the step size
    `small_image_learning_rate` when set (else `learning_rate`).

    Args:
        model: a single-input Keras model.
        layer: the layer, its name, or its index in `model.layers`.
        filter_indices: an int, a list of ints, or None.
        recipe: a name in `RECIPES` (`"keras-vis"`, `"robust pixel"`,
            `"fourier"`) or a `Recipe`.
        input_range: the model input's `(min, max)`.
        **overrides: `Recipe` fields to change, e.g. `learning_rate=0.1`.

    Returns:
        A `PreparedRecipe`.

    Raises:
        ValueError: for an unknown recipe, a transform recipe on an input
            that is not a batch of 2-D images, or bad settings.
        TypeError: for an unknown override (the message names it).

    Example:
        ```python
        prepared = build_recipe(model, "predictions", 3, "fourier", input_range=(0, 255))
        img, _, _ = prepared.minimize(verbose=False)
        prepared.optimizer.learning_rate = 0.1  # live, as the transforms' amounts are
        ```
    """
    recipe = get_recipe(recipe)
    try:
        recipe = dataclasses.replace(recipe, **overrides)
    except TypeError:
        unknown = sorted(set(overrides) - {f.name for f in dataclasses.fields(Recipe)})
        raise TypeError(
            f"Unknown recipe setting(s) {unknown}. Expected fields of Recipe: "
            f"{[f.name for f in dataclasses.fields(Recipe)]}"
        ) from None
    input_range = check_range(input_range)
    losses = keras_vis_losses(
        model,
        layer,
        filter_indices,
        recipe.act_max_weight,
        recipe.lp_norm_weight,
        recipe.tv_weight,
        recipe.pre_activation,
    )
    x = model.inputs[0]
    optimizer = Optimizer(
        x,
        losses,
        input_range=input_range,
        parameterization=_parameterization(recipe, x),
        learning_rate=_learning_rate(recipe, x),
    )
    modifiers = []
    if recipe.jitter:
        modifiers.append(Jitter(recipe.jitter, data_format=optimizer.data_format))
    if recipe.transforms:
        size = _image_size(x, optimizer.data_format)
        if size is None:
            raise ValueError(
                f"Recipe {recipe.name!r} uses transforms, which need a batch of 2-D images of "
                f"known size. Received: input shape {tuple(x.shape)}"
            )
        modifiers.extend(standard_transforms(size, **recipe.transform_amounts))
    return PreparedRecipe(
        optimizer=optimizer,
        input_modifiers=modifiers,
        max_iter=check_int(recipe.max_iter, "max_iter", min_value=1),
        recipe=recipe,
    )


def _is_small(recipe, x):
    size = _image_size(x, keras.config.image_data_format())
    return size is not None and size <= recipe.small_image_size


def _learning_rate(recipe, x):
    if recipe.parameterization is None:
        return None
    if recipe.small_image_learning_rate is not None and _is_small(recipe, x):
        return recipe.small_image_learning_rate
    return recipe.learning_rate


def _parameterization(recipe, x):
    if recipe.parameterization is None:
        return None
    if recipe.parameterization == "pixel":
        return PixelImage(sd=recipe.sd)
    if recipe.parameterization == "fourier":
        small = _is_small(recipe, x)
        decay = recipe.small_image_decay_power if small else recipe.decay_power
        return FourierImage(decay_power=decay, sd=recipe.sd)
    raise ValueError(
        "`parameterization` must be None, 'pixel' or 'fourier'. "
        f"Received: parameterization={recipe.parameterization!r}"
    )
