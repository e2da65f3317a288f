"""The dashboard's one validated state, and its single binding to the engine.

Widgets are `link`ed to `DashboardState` traits; `EngineBinding` is the
only code that writes the engine's runtime variables (loss weights through
`Optimizer.set_weight`, the jitter amount through `Jitter.jitter`), so a
change from a slider, a typed value, a restore or the API all take the same
path and reach the compiled step at its next iteration, without retracing.

Who writes which trait (each has one writer at a time):

- the weights, `max_iter`, `jitter`, `raw_curves`, `display`, `recipe`:
  the kernel thread (controls and API calls; the run thread only reads
  them; the recipe changes only between runs);
- `current` and `labels`: the kernel thread while no run is going, the run
  thread at the end of its run (the dashboard refuses to change them while
  a run is going);
- `iteration`: nobody directly; it follows the live view's count
  (`LivePlot.iteration`, the render thread);
- `status`: the kernel thread, and the run thread when its run ends.
"""

import contextlib
import functools
import math
import numbers

from traitlets import Any, Bool, Enum, Float, HasTraits, Int, TraitError, Unicode, validate

from vis_widgets.display import DISPLAY_MODES, STRETCHED

MAX_ITER_LIMIT = 1_000_000


def _is_real(value):
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def check_weight(value, key):
    """Returns `value` as a float if it is a finite number >= 0, else raises TraitError."""
    if not _is_real(value) or not math.isfinite(value) or value < 0:
        raise TraitError(
            f"The weight of loss '{key}' must be a finite number >= 0. Received: {value!r}"
        )
    return float(value)


class DashboardState(HasTraits):
    """Everything the dashboard's controls can change, validated.

    Build one with `DashboardState.create`: it adds one float trait per
    loss, `weight_0`, `weight_1`, ... (in the optimizer's loss order), next
    to the fixed traits below.

    Attributes:
        max_iter: iterations of the next run, an int in [1, 1e6].
        jitter: the jitter amount, a fraction of the image size in [0, 1).
        raw_curves: show unweighted loss values in the curves.
        display: how every view shows images, `"stretched"` (contrast-
            stretched for the eye) or `"as returned"` (see
            `vis_widgets.display`).
        current: the raw input batch the next Continue starts from, shown
            between runs.
        labels: the captions of the batch the live view shows, or None.
        iteration: the iterations done by the latest run, as of its latest
            frame.
        recipe: the name of the recipe that runs (a `Dashboard.from_model`
            dashboard), or "" (a dashboard over a given optimizer).
        status: the status line's text.

    Example:
        ```python
        state = DashboardState.create(["ActivationMax Loss", "TV(2.0) Loss"], [1.0, 10.0])
        state.set_weight("TV(2.0) Loss", 50.0)
        state.weights  # {"ActivationMax Loss": 1.0, "TV(2.0) Loss": 50.0}
        ```
    """

    max_iter = Int(200)
    jitter = Float(0.05)
    raw_curves = Bool(False)
    display = Enum(DISPLAY_MODES, STRETCHED)
    current = Any(None)
    labels = Any(None)
    iteration = Int(0)
    recipe = Unicode("")
    status = Unicode("Ready")

    loss_keys = ()

    @classmethod
    def create(cls, loss_keys, weights, max_iter=200, jitter=0.05):
        """Returns a state with one weight trait per loss.

        Args:
            loss_keys: the optimizer's unique loss keys, in order.
            weights: one initial weight per loss (finite, >= 0).
            max_iter: the initial `max_iter`.
            jitter: the initial jitter fraction.

        Raises:
            TraitError: for an invalid value (the message names it).
        """
        keys = tuple(loss_keys)
        names = [f"weight_{k}" for k in range(len(keys))]
        namespace = {name: Float(0.0).tag(loss_index=k) for k, name in enumerate(names)}
        namespace["loss_keys"] = keys
        namespace["_validate_weight"] = validate(*names)(cls._validate_weight_trait)
        subclass = type(cls.__name__, (cls,), namespace)
        initial = {name: check_weight(w, key) for name, w, key in zip(names, weights, keys)}
        return subclass(max_iter=max_iter, jitter=jitter, **initial)

    @classmethod
    def from_optimizer(cls, optimizer, max_iter=200, jitter=0.05):
        """Returns a state with the optimizer's loss keys and current (scalar) weights.

        Raises:
            ValueError: when a loss has one weight per sample (the state
                needs one number per loss).
            TraitError: for an invalid value.
        """
        weights = []
        for index, key in enumerate(optimizer.loss_keys):
            weight = optimizer.get_weight(index)
            if not _is_real(weight):
                raise ValueError(
                    f"Loss '{key}' has one weight per sample ({weight.tolist()}); the "
                    f"dashboard needs one number per loss: call opt.set_weight({index}, value) "
                    "first."
                )
            weights.append(weight)
        return cls.create(optimizer.loss_keys, weights, max_iter, jitter)

    @property
    def weight_traits(self):
        """The weight trait names, in the optimizer's loss order."""
        return [f"weight_{k}" for k in range(len(self.loss_keys))]

    def index_for(self, key):
        """Returns the loss index of a loss key or index.

        Raises:
            ValueError: for neither a loss key nor a valid index.
        """
        if isinstance(key, numbers.Integral) and not isinstance(key, bool):
            if 0 <= key < len(self.loss_keys):
                return int(key)
        elif key in self.loss_keys:
            return self.loss_keys.index(key)
        raise ValueError(
            f"`key` must be one of {list(self.loss_keys)} or an index below "
            f"{len(self.loss_keys)}. Received: key={key!r}"
        )

    def trait_for(self, key):
        """Returns the weight trait name of a loss key or index."""
        return f"weight_{self.index_for(key)}"

    def key_for(self, key):
        """Returns the loss key of a loss key or index (ValueError for neither)."""
        return self.loss_keys[self.index_for(key)]

    def get_weight(self, key):
        """Returns a loss's weight by key or index."""
        return getattr(self, self.trait_for(key))

    def set_weight(self, key, value):
        """Sets a loss's weight by key or index (validated)."""
        setattr(self, self.trait_for(key), float(value) if _is_real(value) else value)

    @property
    def weights(self):
        """`{loss key: weight}` in the optimizer's loss order."""
        return {key: getattr(self, name) for key, name in zip(self.loss_keys, self.weight_traits)}

    def _validate_weight_trait(self, proposal):
        index = proposal["trait"].metadata["loss_index"]
        return check_weight(proposal["value"], self.loss_keys[index])

    @validate("max_iter")
    def _validate_max_iter(self, proposal):
        value = proposal["value"]
        if not 1 <= value <= MAX_ITER_LIMIT:
            raise TraitError(
                f"`max_iter` must be an int in [1, {MAX_ITER_LIMIT}]. Received: max_iter={value}"
            )
        return value

    @validate("jitter")
    def _validate_jitter(self, proposal):
        value = proposal["value"]
        if not (math.isfinite(value) and 0 <= value < 1):
            raise TraitError(
                "`jitter` must be a fraction of the image size in [0, 1). "
                f"Received: jitter={value!r}"
            )
        return value


class EngineBinding:
    """The one place where the state reaches the engine.

    Observes every weight trait and the jitter trait and writes them to the
    optimizer (`set_weight`, by loss index, so repeated loss names work) and
    to the `Jitter` instance. Both writes are thread-safe and take effect at
    the next iteration of a running `minimize` without retracing.

    Args:
        state: the `DashboardState`.
        optimizer: the engine's `Optimizer`.
        jitter: the `Jitter` the dashboard passes to `minimize`.

    Example:
        ```python
        binding = EngineBinding(state, opt, jitter)
        state.weight_1 = 50.0  # opt.get_weight(1) == 50.0 from now on
        ```
    """

    def __init__(self, state, optimizer, jitter):
        self.state = state
        self.optimizer = optimizer
        self.jitter = jitter
        self._held = set()
        for index, name in enumerate(state.weight_traits):
            optimizer.set_weight(index, getattr(state, name))
            state.observe(functools.partial(self._weight_changed, index), names=name)
        jitter.jitter = state.jitter
        state.observe(self._jitter_changed, names="jitter")

    def rebind(self, optimizer):
        """Drives another optimizer (same loss keys): writes every weight to it from now on."""
        self.optimizer = optimizer
        for index, name in enumerate(self.state.weight_traits):
            optimizer.set_weight(index, getattr(self.state, name))

    def _weight_changed(self, index, change):
        if index not in self._held:
            self.optimizer.set_weight(index, change["new"])

    def _jitter_changed(self, change):
        self.jitter.jitter = change["new"]

    @contextlib.contextmanager
    def sweeping(self, index, values):
        """Gives loss `index` one weight per sample for a sweep, then restores the scalar.

        While held, changes of that loss's slider are kept in the state and
        written to the engine when the context ends.

        Args:
            index: the loss's index.
            values: one weight per sample.
        """
        self._held.add(index)
        try:
            self.optimizer.set_weight(index, list(values))
            yield
        finally:
            self._held.discard(index)
            self.optimizer.set_weight(index, self.state.get_weight(index))
