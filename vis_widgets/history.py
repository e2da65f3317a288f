"""Run history: what each finished run kept, and the gallery that shows it.

The gallery's slots are created on the UI thread when a run starts and only
filled afterwards, so the run thread that records a run changes widget
values but never creates widgets.
"""

import dataclasses
import html

import ipywidgets as widgets
import numpy as np

from vis_widgets.render import compose_frame, encode_png

THUMBNAIL_SIZE = 96


@dataclasses.dataclass
class RunRecord:
    """One finished run (completed or stopped) of a `Dashboard`.

    Attributes:
        number: the run's 1-based number in this dashboard.
        kind: `"run"`, `"continue"` or `"sweep"`.
        image: the result of `minimize`: the best input de-processed into
            `input_range` (`(N, ...)` for a sweep).
        weights: `{loss key: weight}` at the end of the run (scalars; a
            sweep's swept loss has its scalar weight here).
        max_iter: the run's `max_iter`.
        jitter: the jitter fraction at the end of the run.
        iterations: the iterations done (fewer than `max_iter` if stopped).
        stopped: whether Stop ended it early.
        named_losses: `{loss key: weighted value}` of the last iteration
            (mean over samples).
        raw_losses: `{loss key: unweighted value}` of the last iteration.
        overall_loss: the last iteration's overall loss (mean over samples).
        seconds: the wall-clock duration.
        seed: the raw seed input (batch axis kept).
        last_input: the raw input after the last iteration (batch axis kept).
        best_input: the raw best input (batch axis kept).
        frames: the display frames rendered live, `(step, images)` pairs.
        warnings: the engine's warnings of the run (`Optimizer.run_warnings`),
            e.g. a loss that became NaN.
        labels: the per-sample captions (a sweep), or None.
        sweep: `(loss key, values)` for a sweep, else None.

    Example:
        ```python
        record = dash.history[-1]
        print(record.weights, record.named_losses)
        dash.restore(record)
        ```
    """

    number: int
    kind: str
    image: np.ndarray
    weights: dict
    max_iter: int
    jitter: float
    iterations: int
    stopped: bool
    named_losses: dict
    raw_losses: dict
    overall_loss: float
    seconds: float
    seed: np.ndarray
    last_input: np.ndarray
    best_input: np.ndarray
    frames: list = dataclasses.field(default_factory=list, repr=False)
    warnings: list = dataclasses.field(default_factory=list)
    labels: list = None
    sweep: tuple = None

    def caption(self):
        """A short HTML caption: number, kind, iterations and final overall loss."""
        state = " (stopped)" if self.stopped else ""
        weights = ", ".join(f"{k}: {v:.3g}" for k, v in self.weights.items())
        return (
            f"<b>#{self.number}</b> {self.kind}{state}<br>"
            f"{self.iterations}/{self.max_iter} it · loss {self.overall_loss:.3g}"
            f"<br><span title='{html.escape(weights)}'>jitter {self.jitter:.3g}</span>"
        )


class HistoryGallery:
    """The latest runs, kept and shown as thumbnails, newest first, each with a Restore button.

    Slots are created by `ensure_slots` (on the UI thread, when a run
    starts) and only filled by `add` (possibly from the run thread).

    Args:
        size: how many runs are kept and shown.
        on_restore: called with the `RunRecord` whose button was clicked.

    Attributes:
        records: the kept `RunRecord`s, oldest first (at most `size`).

    Example:
        ```python
        gallery = HistoryGallery(10, on_restore=dash.restore)
        gallery.ensure_slots(len(gallery.records) + 1)
        gallery.add(record, display_images)
        ```
    """

    def __init__(self, size, on_restore):
        self.size = size
        self._on_restore = on_restore
        self.records = []
        self._thumbnails = []
        self._shown = []  # the record in each slot, as displayed
        self.slots = []
        self.empty = widgets.HTML("<i>Finished runs appear here.</i>")
        self.widget = widgets.HBox([self.empty], layout=widgets.Layout(flex_flow="row wrap"))
        self.widget.add_class("vw-history")

    def ensure_slots(self, count):
        """Creates hidden slots up to `count` (at most `size`); call it from the UI thread."""
        while len(self.slots) < min(count, self.size):
            k = len(self.slots)
            image = widgets.Image(format="png", layout=widgets.Layout(width=f"{THUMBNAIL_SIZE}px"))
            caption = widgets.HTML(layout=widgets.Layout(width="130px"))
            restore = widgets.Button(description="restore", layout=widgets.Layout(width="96px"))
            restore.add_class("vw-restore")
            restore.on_click(lambda _, k=k: self._clicked(k))
            slot = widgets.VBox(
                [image, caption, restore],
                layout=widgets.Layout(display="none", margin="0 8px 8px 0"),
            )
            slot.add_class("vw-history-item")
            self.slots.append(slot)
        if len(self.widget.children) != len(self.slots) + 1:
            self.widget.children = (self.empty, *self.slots)

    def add(self, record, images):
        """Keeps `record` with a thumbnail of its display images `(N, H, W, C)`; shows the latest.

        The oldest record beyond `size` is dropped.
        """
        self.records.append(record)
        self._thumbnails.append(thumbnail(images, record.labels))
        del self.records[: -self.size], self._thumbnails[: -self.size]
        newest_first = list(zip(self.records, self._thumbnails))[::-1]
        self._shown = []
        for slot, (kept, png) in zip(self.slots, newest_first):  # records never shrink
            image, caption, _ = slot.children
            image.value, caption.value = png, kept.caption()
            slot.layout.display = ""
            self._shown.append(kept)
        self.empty.layout.display = "none"

    def find(self, number):
        """Returns the kept record with this run number.

        Raises:
            KeyError: when no kept record has it.
        """
        for record in self.records:
            if record.number == number:
                return record
        kept = [r.number for r in self.records]
        raise KeyError(f"No run #{number} in the history (kept: {kept}).")

    def _clicked(self, k):
        shown = self._shown
        if k < len(shown):
            self._on_restore(shown[k])


def thumbnail(images, labels=None):
    """Returns the PNG thumbnail of display images (a small labelled grid for a batch)."""
    return encode_png(
        compose_frame(images, labels, min_size=THUMBNAIL_SIZE, cell_size=THUMBNAIL_SIZE // 2)
    )
