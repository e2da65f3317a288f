"""The explorer's calls into the engine: one map per (image, class, pane settings), cached.

`MapSource` asks the `Attributor` for one image's map at a time (the engine
compiles one function per kind of map, so a new class or image never
retraces) and keeps the latest maps in a small least-recently-used cache: a
colormap or alpha change redraws without recomputing, and going back to
earlier settings is instant. SmoothGrad's maps are random: a cached one is
shown again as it was.
"""

import collections
import dataclasses
import threading
import time

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
        result = source.get(0, 3, PaneSpec("gradcam"))
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
