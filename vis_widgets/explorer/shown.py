"""What the explorer shows for one request: each pane's overlay, caption and error, the export.

`ShownMaps` is made on the worker thread from the engine's results: it draws
every overlay (plain numpy, no widget), writes each pane's picture and
caption into its `PaneState`, and composes the exported PNG. What it holds
is exactly what the explorer displays, so tests and the export read it.
"""

import html

from vis_widgets.explorer.pictures import MAP_SIZE, overlay_picture, picture_png, row_picture
from vis_widgets.render import encode_png, placeholder_png


class ShownMaps:
    """The maps and pictures shown for one `Request`.

    Args:
        request: the `Request` computed.
        results: one `MapResult` per pane, in order.
        images: the explorer's `ExplorerImages`.

    Attributes:
        request, results: as given.
        picture: the input image as shown, uint8 `(H, W, 1|3)`.
        maps: each pane's `(H, W)` map in [0, 1], None for a pane whose
            computation failed.
        overlays: each pane's uint8 RGB overlay (None after an error).
        errors: one line per failed pane, `"gradcam: RuntimeError: ..."`.

    Example:
        ```python
        explorer.wait()
        shown = explorer.shown
        shown.maps[0].shape, shown.errors  # ((16, 16), [])
        png = shown.png_bytes()  # the image and every pane, captioned
        ```
    """

    def __init__(self, request, results, images):
        self.request, self.results, self.images = request, results, images
        self.picture = images.picture(request.index)
        self.maps = [r.map for r in results]
        self.overlays, self.errors = [], []
        for spec, result in zip(request.panes, results):
            if result.error is None:
                over = overlay_picture(result.map, self.picture, request.colormap, request.alpha)
                self.overlays.append(over)
            else:
                self.overlays.append(None)
                error = result.error
                self.errors.append(f"{spec.label()}: {type(error).__name__}: {error}")

    def write_panes(self):
        """Writes each pane's picture (PNG bytes), caption and map into its `PaneState`."""
        panes = zip(self.request.pane_states, self.request.panes, self.results, self.overlays)
        for pane, spec, result, over in panes:
            label = html.escape(spec.label())
            if over is None:
                pane.map = None
                pane.png = placeholder_png(MAP_SIZE, MAP_SIZE, "error: see below")
                pane.caption = f"{label}: <b>error</b>"
                continue
            pane.map = result.map
            pane.png = picture_png(over)
            timing = "cached" if result.cached else f"{result.seconds * 1000:.0f} ms"
            notes = "".join(f"<br><i>{html.escape(w)}</i>" for w in result.warnings)
            pane.caption = f"{label} · {timing}{notes}"

    def describe(self):
        """`"class 3 of image #0"`: what the maps explain."""
        names = self.images
        request = self.request
        return f"class {names.class_name(request.target)} of image {names.names[request.index]}"

    def status(self):
        """The status line: what is explained, and whether some pane failed."""
        if self.errors:
            return f"{len(self.errors)} error(s), shown below · {self.describe()}"
        return f"{self.describe()} · ready"

    def png_bytes(self):
        """The image and each pane's overlay side by side, captioned, as PNG bytes."""
        pictures, labels = [self.picture], [self.describe()]
        for spec, over in zip(self.request.panes, self.overlays):
            if over is not None:
                pictures.append(over)
                labels.append(spec.label())
        return encode_png(row_picture(pictures, labels), 6)
