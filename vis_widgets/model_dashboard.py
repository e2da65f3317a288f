"""ModelDashboard: a dashboard that knows its model, layer and filters, so it offers recipes.

A `Dashboard` drives one given optimizer. Knowing the model, a dashboard
can build the optimizer itself, through the engine's `build_recipe`, for
any recipe (`"keras-vis"`, `"robust pixel"`, `"fourier"`); so it shows a
recipe choice (`vw-recipe`) with the chosen recipe's live sliders
(`vw-recipe-controls`), and a Layers tab (a `LayerBrowser` of the model).
`Dashboard.from_model` makes one.

Switching recipes happens between runs: each recipe's optimizer is built
once (`RecipeBook`), the weight sliders are rebound to it, the recipe's
weights, `max_iter` and jitter are loaded, and a new seed is drawn for it.
"""

from traitlets import dlink, link

from vis_widgets.core import get_recipe
from vis_widgets.dashboard import Dashboard
from vis_widgets.recipe_panel import RecipeBook, RecipePanel, image_size, transforms_of


class ModelDashboard(Dashboard):
    """A `Dashboard` over a model's filters, with a recipe choice and a Layers tab.

    Args:
        model: a single-input Keras model.
        layer: the layer, its name, or its index in `model.layers`.
        filter_indices: an int, a list of ints, or None.
        input_range: the input's `(min, max)`.
        recipe: the first recipe's name (or a `Recipe`), see
            `vis_widgets.core.RECIPES`.
        act_max_weight: the activation loss's initial weight (None: the
            recipe's). The three weights, `max_iter` and `jitter` given here
            apply to the first recipe; another recipe brings its own.
        lp_norm_weight: the L-6 norm's initial weight (None: the recipe's).
        tv_weight: the total variation's initial weight (None: the recipe's).
        pre_activation: maximize the values before the layer's activation;
            None: True for a softmax layer (the usual trap).
        layers_tab: add the Layers tab.
        **kwargs: more `Dashboard` arguments (`max_iter` and `jitter`
            default to the recipe's).

    Attributes:
        recipe_panel: the `RecipePanel` (the choice and the live sliders).
        layers: the `LayerBrowser` of the Layers tab, or None.
        model: the model.

    Example:
        ```python
        dash = ModelDashboard(model, "predictions", 3, recipe="fourier")
        dash.run(); dash.wait()
        dash.set_recipe("keras-vis")
        ```
    """

    def __init__(
        self,
        model,
        layer,
        filter_indices=None,
        input_range=(0, 255),
        recipe="keras-vis",
        act_max_weight=None,
        lp_norm_weight=None,
        tv_weight=None,
        pre_activation=None,
        layers_tab=True,
        **kwargs,
    ):
        weights = {
            "act_max_weight": act_max_weight,
            "lp_norm_weight": lp_norm_weight,
            "tv_weight": tv_weight,
        }
        overrides = {k: v for k, v in weights.items() if v is not None}
        overrides.update({k: kwargs[k] for k in ("max_iter", "jitter") if k in kwargs})
        book = RecipeBook(model, layer, filter_indices, input_range, pre_activation)
        prepared = book.prepare(recipe, **overrides)
        kwargs.setdefault("max_iter", prepared.max_iter)
        kwargs.setdefault("jitter", prepared.recipe.jitter)
        super().__init__(prepared.optimizer, input_modifiers=transforms_of(prepared), **kwargs)
        self.model = model
        self._recipes = book
        self._reverting = False
        self._adopt_recipes(prepared)
        if layers_tab:
            layer = prepared.optimizer.losses[0].layer
            self._add_layers_tab(layer, prepared.recipe, pre_activation)

    # ------------------------------------------------------------------ recipes
    def set_recipe(self, name):
        """Switches to another recipe (`"keras-vis"`, `"robust pixel"`, `"fourier"`).

        The recipe's weights, `max_iter` and jitter replace the current ones
        and a new seed is drawn for it; the runs so far stay (restoring one
        switches back to its recipe).

        Returns:
            True if it switched (or is that recipe), False while a run goes.

        Raises:
            ValueError: for an unknown recipe.
        """
        recipe = get_recipe(name)
        if self.runner.running:
            return False
        self.state.recipe = recipe.name
        return True

    def _adopt_recipes(self, prepared):
        """Shows the recipe choice; the state's `recipe` switches what runs (between runs)."""
        self.recipe_panel = RecipePanel(prepared.recipe.name)
        self.state.recipe = prepared.recipe.name
        link((self.state, "recipe"), (self.recipe_panel.choice, "value"))
        dlink((self.runner, "running"), (self.recipe_panel.choice, "disabled"))
        column = self.controls.widget
        column.children = (self.recipe_panel.widget, *column.children)
        self._show_recipe(prepared)
        self.state.observe(self._recipe_changed, names="recipe")

    def _show_recipe(self, prepared):
        size = image_size(self.model)
        self.recipe_panel.show(prepared.optimizer, self.input_modifiers, size)
        controls = self.recipe_panel.controls.state
        controls.observe(lambda _: self.export_panel.refresh_code())
        self.export_panel.refresh_code()

    def _recipe_changed(self, change):
        if self._reverting:
            return
        if self.runner.running:  # the dropdown is disabled then; the API is refused
            self._reverting = True
            try:
                self.state.recipe = change["old"]
            finally:
                self._reverting = False
            return
        prepared = self._recipes.prepare(change["new"])
        recipe = prepared.recipe
        self.optimizer = prepared.optimizer
        self.input_modifiers = transforms_of(prepared)
        self._binding.rebind(prepared.optimizer)
        weights = (recipe.act_max_weight, recipe.lp_norm_weight, recipe.tv_weight)
        with self.state.hold_trait_notifications():
            for key, weight in zip(self.state.loss_keys, weights):
                self.state.set_weight(key, weight)
            self.state.max_iter = prepared.max_iter
            self.state.jitter = recipe.jitter
        self._show_recipe(prepared)
        self._seed = prepared.optimizer.make_seed(samples=1)
        self._set_current(self._seed)
        self.state.status = f"Recipe {recipe.name}: its settings and a new seed."

    # ------------------------------------------------------------------ layers
    def _add_layers_tab(self, layer, recipe, pre_activation):
        from vis_widgets.layers import LayerBrowser  # the browser builds dashboards itself

        self.layers = LayerBrowser(
            self.model,
            layer=layer,
            input_range=self.optimizer.input_range,
            recipe=recipe,
            jitter=self.state.jitter,
            pre_activation=pre_activation,
            settings=self.state,
        )
        children = list(self.tabs.children)
        titles = list(self.tabs.titles)
        self.tabs.children = (*children[:2], self.layers.widget, children[2])
        self.tabs.titles = (*titles[:2], "Layers", titles[2])
