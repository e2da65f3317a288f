"""The dashboard's exports: the code of the current settings, PNG and GIF bytes and files.

`DashboardExport` is a mixin of `Dashboard`: the Export tab's panel calls
these methods for its browser downloads, and they write the same bytes to
files on the kernel's machine. Images are exported as returned (not
stretched), at least `min_size` pixels on their long side.
"""

from vis_widgets.export import png_bytes, run_gif_bytes, write_bytes
from vis_widgets.snippet import losses_snippet


class DashboardExport:
    """The `Dashboard` methods behind the Export tab (a mixin).

    Example:
        ```python
        code = dash.export_code()       # defines `losses`, `opt` and `img` from `model`
        dash.save_png("digit.png")      # the current image, as returned
        dash.save_gif("run.gif")        # the latest run's live frames
        ```
    """

    def export_code(self):
        """Returns the losses with the current weights as a ready-to-paste Python snippet.

        The snippet expects a variable `model` (the same model) and defines
        `losses`, `opt` and `img`.
        """
        return losses_snippet(
            self.optimizer,
            list(self.state.weights.values()),
            self.state.max_iter,
            self.state.jitter,
            self.grad_modifier,
            self.input_modifiers,
            self.state.recipe,
        )

    def png_bytes(self, record=None, min_size=256):
        """The PNG of the current image (or a record's result), as returned (not stretched).

        Args:
            record: a `RunRecord` to encode instead of the current image (a
                sweep gives a labelled grid).
            min_size: nearest-neighbour upscale to this long side (0: native).

        Returns:
            The PNG file's bytes (the browser download offers the same bytes).
        """
        if record is None:
            return png_bytes(self._returned(self.state.current).as_returned(), None, min_size)
        return png_bytes(record.returned.as_returned(), record.labels, min_size)

    def save_png(self, path="vis_widgets_image.png", record=None, min_size=256):
        """Writes `png_bytes(record, min_size)` to `path` on the kernel's machine; returns it."""
        return write_bytes(path, self.png_bytes(record, min_size))

    def gif_bytes(self, record=None, duration=80):
        """The animated GIF of a run's live frames (default: the latest run), as returned.

        Args:
            record: the `RunRecord` (default: `result`).
            duration: milliseconds per frame.

        Raises:
            ValueError: when there is no finished run yet.
        """
        record = record if record is not None else self.result
        if record is None:
            raise ValueError("There is no finished run to save yet: run first.")
        return run_gif_bytes(record.frames, record.labels, duration)

    def save_gif(self, path="vis_widgets_run.gif", record=None, duration=80):
        """Writes `gif_bytes(record, duration)` to `path` on the kernel's machine; returns it.

        Raises:
            ValueError: when there is no finished run yet.
        """
        return write_bytes(path, self.gif_bytes(record, duration))
