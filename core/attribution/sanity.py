"""Sanity checks for attribution maps (Adebayo et al., "Sanity Checks for Saliency Maps", 2018).

A map that explains the model must change when the model's learned weights
are destroyed, and a class-discriminative map must differ between classes.

- `cascading_randomization`: re-initializes the model's layers from the
  output down, one more at each step, and compares each step's maps with the
  trained model's by Spearman rank correlation. Gradients and Grad-CAM fall
  towards 0 as layers are randomized; guided backprop stays high (it acts
  like an edge detector of the input, whatever the top layers learned).
- `random_class_check`: compares each image's map for its target with the
  map for a random other class.

Both work on a copy of the model: the user's model is never changed.
"""

import dataclasses
import warnings

import keras
import numpy as np

from . import checks
from . import graph as graph_lib
from .engine import Attributor

__all__ = ["RandomizationResult", "cascading_randomization", "random_class_check", "spearman"]


def spearman(a, b):
    """Spearman rank correlation of two arrays (flattened; ties get their average rank).

    Returns 1.0 for two constant arrays and 0.0 when only one is constant.

    Example:
        >>> spearman(np.array([1, 2, 3, 4]), np.array([10, 20, 30, 40]))
        1.0
        >>> spearman(np.array([1, 2, 3, 4]), np.array([4, 3, 2, 1]))
        -1.0
    """
    ra, rb = _ranks(np.ravel(a)), _ranks(np.ravel(b))
    da, db = ra - ra.mean(), rb - rb.mean()
    norm = np.sqrt((da * da).sum() * (db * db).sum())
    if norm == 0:
        return 1.0 if (da == 0).all() and (db == 0).all() else 0.0
    return float(np.clip((da * db).sum() / norm, -1.0, 1.0))


def _ranks(values):
    order = np.argsort(values, kind="stable")
    ranks = np.empty(values.size, np.float64)
    ranks[order] = np.arange(values.size)
    sorted_values = values[order]
    # average the ranks of ties
    starts = np.flatnonzero(np.r_[True, sorted_values[1:] != sorted_values[:-1]])
    ends = np.r_[starts[1:], values.size]
    for start, end in zip(starts, ends):
        if end - start > 1:
            ranks[order[start:end]] = (start + end - 1) / 2.0
    return ranks


@dataclasses.dataclass
class RandomizationResult:
    """The maps of a cascading randomization.

    Attributes:
        method: the attribution method.
        layers: the layers re-initialized, in order (step k has the first k).
        maps: `(len(layers) + 1, N, ...)`: `maps[0]` is the trained model's.
        spearman: `(len(layers), N)`: each step's rank correlation with `maps[0]`.

    Example:
        ```python
        result = cascading_randomization(model, images, method="saliency")
        print(result.layers, result.mean_spearman)  # falling towards 0 is a pass
        ```
    """

    method: str
    layers: list
    maps: np.ndarray
    spearman: np.ndarray

    @property
    def mean_spearman(self):
        """The correlation of each step, averaged over the images, `(len(layers),)`."""
        return self.spearman.mean(axis=1)


def copy_model(model):
    """An independent copy of a model (new layers, the same weight values)."""
    clone = keras.models.clone_model(model)
    clone.set_weights(model.get_weights())
    return clone


def _reinitialize(layer):
    """Gives a layer's weights fresh values from its own initializers (a fresh build)."""
    fresh = type(layer).from_config(layer.get_config())
    fresh.build(graph_lib.single_tensor(layer.input).shape)
    layer.set_weights(fresh.get_weights())


def cascading_randomization(
    model, images, targets=None, method="gradcam", layers=None, seed=0, **attribute_kwargs
):
    """Re-initializes layers from the top, one more per step, and compares the maps.

    Args:
        model: the trained model (not modified: a copy is randomized).
        images: a batch (or one image) of the model's input; the maps
            always have a batch axis.
        targets: the classes to explain (None: each image's top class,
            found on the trained model and kept for every step).
        method: an `Attributor` method.
        layers: None (every layer with weights, from the output down), an
            int k (the top k of them), or a list of layer names in the
            order to randomize.
        seed: seeds the engine's noise (SmoothGrad). The layers get fresh
            values from their own initializers, reproducible under
            `keras.utils.set_random_seed`.
        **attribute_kwargs: more arguments of `Attributor.attribute`
            (`layer`, `backprop_modifier`, method parameters...).

    Returns:
        A `RandomizationResult`.

    Example:
        ```python
        from vis_widgets.core.attribution import cascading_randomization

        result = cascading_randomization(model, images, method="saliency")
        print(result.layers, result.mean_spearman)  # falls towards 0 for a faithful map
        ```
    """
    copy = copy_model(model)
    weighted = [
        (path, layer)
        for path, layer in graph_lib.iter_layers(copy)
        if layer.weights and not graph_lib.is_model(layer)
    ][::-1]
    if layers is None:
        chosen = weighted
    elif isinstance(layers, int) and not isinstance(layers, bool):
        if not 1 <= layers <= len(weighted):
            raise ValueError(
                f"`layers` must be in [1, {len(weighted)}] (the layers with weights). "
                f"Received: layers={layers}"
            )
        chosen = weighted[:layers]
    else:
        by_name = {layer.name: (path, layer) for path, layer in weighted}
        unknown = [name for name in layers if name not in by_name]
        if unknown:
            raise ValueError(
                f"`layers` must name layers with weights, among {sorted(by_name)}. "
                f"Received unknown: {unknown}"
            )
        chosen = [by_name[name] for name in layers]
    attributor = Attributor(copy, seed=seed)
    x, _ = checks.images(images, attributor.input_shape)
    if targets is None:
        targets = attributor.top_k(x, k=1)[0][:, 0]
    kwargs = {"method": method, **attribute_kwargs}
    maps = [attributor.attribute(x, targets, **kwargs)]
    for _, layer in chosen:
        _reinitialize(layer)
        with warnings.catch_warnings():  # all-zero CAMs are expected of a random model
            warnings.simplefilter("ignore", RuntimeWarning)
            maps.append(attributor.attribute(x, targets, **kwargs))
    maps = np.stack(maps)
    correlations = np.array([[spearman(s, o) for s, o in zip(step, maps[0])] for step in maps[1:]])
    return RandomizationResult(method, [layer.name for _, layer in chosen], maps, correlations)


def random_class_check(model, images, targets=None, method="gradcam", seed=0, **attribute_kwargs):
    """Compares each image's map for its target with its map for a random other class.

    Args:
        model: the model (not modified).
        images: a batch (or one image) of the model's input.
        targets: the classes to explain (None: each image's top class).
        method: an `Attributor` method.
        seed: seeds the choice of the other classes.
        **attribute_kwargs: more arguments of `Attributor.attribute`.

    Returns:
        `(spearman, other_classes)`: the rank correlation of the two maps of
        each image `(N,)` and the classes drawn `(N,)`.

    Example:
        ```python
        from vis_widgets.core.attribution import random_class_check

        rho, others = random_class_check(model, images, method="gradcam")
        ```
    """
    attributor = Attributor(model, seed=seed)
    x, _ = checks.images(images, attributor.input_shape)
    if targets is None:
        targets = attributor.top_k(x, k=1)[0][:, 0]
    targets = np.broadcast_to(np.asarray(targets), (x.shape[0],))
    rng = np.random.default_rng(seed)
    c = attributor.num_classes
    others = (targets + rng.integers(1, c, size=targets.shape)) % c
    own = attributor.attribute(x, targets, method=method, **attribute_kwargs)
    other = attributor.attribute(x, others, method=method, **attribute_kwargs)
    rho = np.array([spearman(a, b) for a, b in zip(own, other)])
    return rho, others
