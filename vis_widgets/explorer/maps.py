"""The explorer's calls into the engine: maps (cached), class probabilities, the CAM layers.

`MapSource` asks the `Attributor` for one image's map at a time (the engine
compiles one function per kind of map, so a new class or image never
retraces) and keeps the latest maps in a small least-recently-used cache: a
colormap or alpha change redraws without recomputing, and going back to
earlier settings is instant. SmoothGrad's maps are random: a cached one is
shown again as it was. `class_probabilities`, `cam_candidates` and
`cam_rule` are what the class picker and the CAM-layer choice list.
"""

import collections
import dataclasses
import threading
import time

import keras
import numpy as np


@dataclasses.dataclass(frozen=True, eq=False)
class MapResult:
    """One pane's map, or its error.

    Attributes:
        map: float32 `(H, W)` in [0, 1], or None after an error.
        seconds: the engine's time (0 for a cached map).
        warnings: the engine's warnings for this map (e.g. an all-zero CAM).
        error: the exception raised, or None.
        cached: whether the map came from the cache.

    Example:
        ```python
        result = MapSource(Attributor(model), images).get(0, 3, PaneSpec("saliency"))
        result.error is None and result.map.shape  # (16, 16)
        ```
    """

    map: np.ndarray = None
    seconds: float = 0.0
    warnings: tuple = ()
    error: BaseException = None
    cached: bool = False


class MapSource:
    """Maps from an `Attributor`, one image at a time, with an LRU cache.

    Args:
        attributor: the engine (or any object with its `attribute` method
            and `last_warnings`).
        batch: the explorer's images, float32 `(N, ...)`.
        cache_size: how many maps are kept.

    Attributes:
        calls: how many times the engine was called.

    Example:
        ```python
        source = MapSource(Attributor(model), images)
        result = source.get(0, 3, PaneSpec("saliency"))
        result.map.shape  # (H, W)
        ```
    """

    def __init__(self, attributor, batch, cache_size=64):
        self.attributor, self.batch = attributor, batch
        self.cache_size = cache_size
        self._cache = collections.OrderedDict()
        self._lock = threading.Lock()
        self.calls = 0

    def get(self, index, target, spec):
        """Returns the `MapResult` of image `index`, class `target`, pane `spec`; never raises.

        Errors are returned (and not cached), so the next call tries again.
        """
        key = (index, target, spec)
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return dataclasses.replace(self._cache[key], seconds=0.0, cached=True)
        started = time.perf_counter()
        try:
            self.calls += 1
            maps = self.attributor.attribute(
                self.batch[index : index + 1], target, **spec.kwargs()
            )
            warnings = tuple(getattr(self.attributor, "last_warnings", ()))
        except Exception as err:
            return MapResult(error=err, seconds=time.perf_counter() - started)
        result = MapResult(
            np.asarray(maps[0], dtype=np.float32), time.perf_counter() - started, warnings
        )
        with self._lock:
            self._cache[key] = result
            while len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)
        return result

    def clear(self):
        """Forgets every cached map (e.g. after the model was trained further)."""
        with self._lock:
            self._cache.clear()


def class_probabilities(attributor, batch, chunk=64):
    """Every image's class probabilities `(N, C)`, from the engine's `top_k` (`chunk` a call).

    Example:
        ```python
        probabilities = class_probabilities(Attributor(model), images)
        probabilities.sum(axis=1)  # ones
        ```
    """
    n, c = len(batch), attributor.num_classes
    out = np.zeros((n, c), np.float32)
    for start in range(0, n, chunk):
        indices, values = attributor.top_k(batch[start : start + chunk], k=c)
        np.put_along_axis(out[start : start + chunk], indices, values, axis=-1)
    return out


def cam_candidates(model, data_format):
    """The names of the top-level layers whose output has a spatial extent > 1 (CAM layers).

    Example:
        ```python
        cam_candidates(model, "channels_last")  # ['rescale', 'conv1', 'conv2', 'pool1', ...]
        ```
    """
    names = []
    for layer in model.layers:
        shape = getattr(getattr(layer, "output", None), "shape", None)
        if isinstance(layer, keras.layers.InputLayer) or shape is None or len(shape) != 4:
            continue
        spatial = shape[2:] if data_format == "channels_first" else shape[1:3]
        if all(d is None or d > 1 for d in spatial):
            names.append(layer.name)
    return names


def cam_rule(attributor):
    """`(layer name, text)` of the layer the engine's rule picks for CAMs.

    The name is None (and the text says why) for a model without a spatial layer.

    Example:
        ```python
        cam_rule(Attributor(model))  # ('pool2', "pool2 (4, 4, 24), rule: input of 'flatten'")
        ```
    """
    try:
        choice = attributor.cam_layer()
    except ValueError as err:  # no spatial layer: the CAM panes will show the error
        return None, f"none ({err})"
    return choice.name, f"{choice.name} {tuple(choice.shape[1:])}, {choice.how}"
