"""Finished runs: what each one kept (`RunRecord`) and the gallery that shows them (`RunGallery`).

The gallery's cards are created on the UI thread when a run starts and only
filled afterwards, so the run thread that records a run changes widget
values but never creates widgets. Each card is a thumbnail and one line of
facts (a button: one click restores the run's settings).
"""

import dataclasses
import threading

import ipywidgets as widgets
import numpy as np

from vis_widgets.display import Returned, shown
from vis_widgets.render import compose_frame, encode_png, placeholder_png

THUMBNAIL_SIZE = 96
CARD_WIDTH = "200px"


@dataclasses.dataclass
class RunRecord:
    """One finished run (completed or stopped) of a `Dashboard`.

    Attributes:
        number: the run's 1-based number in this dashboard.
        kind: `"run"`, `"continue"` or `"sweep"`.
        recipe: the recipe's name (empty for a dashboard over an optimizer).
        image: the result of `minimize`, as it returned it
            (`(N, ...)` for a sweep).
        returned: the same images laid out for display (a `Returned`).
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
        best_input: the best input (batch axis kept), `Optimizer.best_input`.
        result_input: the input state of the result (`image` before
            `as_returned`): the best input on keras-vis's path, the returned
            image on the parameterized one. Continue and restore start from it.
        frames: the images rendered live, as returned: `(iteration, images)`.
        warnings: the engine's warnings of the run (`Optimizer.run_warnings`),
            e.g. a loss that became NaN.
        labels: the per-sample captions (a sweep), or None.
        sweep: `(loss key, values)` for a sweep, else None.

    Example:
        ```python
        record = dash.runs[-1]
        print(record.summary(), record.weights)
        dash.restore(record)
        ```
    """

    number: int
    kind: str
    image: np.ndarray
    returned: Returned = dataclasses.field(repr=False)
    weights: dict
    max_iter: int
    jitter: float
    iterations: int
    stopped: bool
    named_losses: dict
    raw_losses: dict
    overall_loss: float
    seconds: float
    seed: np.ndarray = dataclasses.field(repr=False)
    last_input: np.ndarray = dataclasses.field(repr=False)
    best_input: np.ndarray = dataclasses.field(repr=False)
    result_input: np.ndarray = dataclasses.field(repr=False)
    frames: list = dataclasses.field(default_factory=list, repr=False)
    warnings: list = dataclasses.field(default_factory=list)
    labels: list = None
    sweep: tuple = None
    recipe: str = ""

    def facts(self):
        """One line: number, kind, iterations and the final overall loss."""
        return (
            f"#{self.number} {self.kind} · {self.iterations}/{self.max_iter} it · "
            f"{self.overall_loss:.3g}"
        )

    def details(self):
        """Every setting of the run, one per line (a card's tooltip)."""
        lines = [self.summary(), *(f"{k}: {v:.4g}" for k, v in self.weights.items())]
        lines.append(f"jitter: {self.jitter:.4g}")
        if self.sweep is not None:
            key, values = self.sweep
            lines.append(f"swept {key}: {', '.join(f'{v:.4g}' for v in values)}")
        return "\n".join(lines)

    def summary(self):
        """The status line of the finished run."""
        verb = "stopped at" if self.stopped else "done:"
        text = (
            f"#{self.number} {self.kind} {verb} {self.iterations}/{self.max_iter} "
            f"iterations in {self.seconds:.1f} s · overall loss {self.overall_loss:.4g}"
        )
        if self.warnings:
            count = len(self.warnings)
            text += f" · {count} warning{'s' if count > 1 else ''}, see below"
        return text


def thumbnail(images, labels=None):
    """Returns the PNG thumbnail of uint8 images (a small labelled grid for a batch)."""
    return encode_png(
        compose_frame(images, labels, min_size=THUMBNAIL_SIZE, cell_size=THUMBNAIL_SIZE // 2)
    )


class RunGallery:
    """The latest runs as compact cards, newest first: a thumbnail and one line of facts.

    The line is a button that restores the run's settings; its tooltip lists
    them. Thumbnails follow `settings.display` (stretched or as returned).
    Cards are created by `ensure_cards` (on the UI thread, when a run
    starts) and only filled by `add` (possibly from the run thread).

    Args:
        size: how many runs are kept and shown.
        on_restore: called with the `RunRecord` whose card was clicked.
        settings: a `HasTraits` with the `display` trait (the dashboard's state).

    Attributes:
        records: the kept `RunRecord`s, oldest first (at most `size`).
        cards: the card widgets (`vw-history-item`), newest record first.
        widget: the gallery (`vw-history`).

    Example:
        ```python
        gallery = RunGallery(10, on_restore=dash.restore, settings=dash.state)
        gallery.ensure_cards(len(gallery.records) + 1)
        gallery.add(record)
        ```
    """

    def __init__(self, size, on_restore, settings):
        self.size = size
        self._on_restore = on_restore
        self._settings = settings
        self.records = []
        self._shown = []  # the record in each card, as displayed
        self._fill_lock = threading.Lock()  # the run thread and a display toggle both fill
        self.cards = []
        self.empty = widgets.HTML("<i>Finished runs appear here.</i>")
        self.widget = widgets.HBox([self.empty], layout=widgets.Layout(flex_flow="row wrap"))
        self.widget.add_class("vw-history")
        settings.observe(lambda _: self._fill(), names="display")

    def ensure_cards(self, count):
        """Creates hidden cards up to `count` (at most `size`); call it from the UI thread."""
        while len(self.cards) < min(count, self.size):
            k = len(self.cards)
            image = widgets.Image(
                format="png",
                value=placeholder_png(THUMBNAIL_SIZE, THUMBNAIL_SIZE),
                layout=widgets.Layout(width=f"{THUMBNAIL_SIZE}px"),
            )
            facts = widgets.Button(icon="undo", layout=widgets.Layout(width=CARD_WIDTH))
            facts.add_class("vw-restore")
            facts.on_click(lambda _, k=k: self._clicked(k))
            card = widgets.VBox(
                [image, facts],
                layout=widgets.Layout(display="none", margin="0 8px 8px 0", width=CARD_WIDTH),
            )
            card.add_class("vw-history-item")
            self.cards.append(card)
        if len(self.widget.children) != len(self.cards) + 1:
            self.widget.children = (self.empty, *self.cards)

    def add(self, record):
        """Keeps `record` and shows it first; the oldest record beyond `size` is dropped."""
        self.records.append(record)
        del self.records[: -self.size]
        self._fill()

    def _fill(self):
        with self._fill_lock:
            self._fill_locked()

    def _fill_locked(self):
        newest_first = self.records[::-1]
        self._shown = []
        mode = self._settings.display
        for card, record in zip(self.cards, newest_first):  # records never outnumber cards
            image, facts = card.children
            image.value = thumbnail(shown(record.returned, mode).images, record.labels)
            facts.description = record.facts()
            facts.tooltip = f"{record.details()}\n(click: restore these settings)"
            card.layout.display = ""
            self._shown.append(record)
        if self.records:
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
        shown_records = self._shown
        if k < len(shown_records):
            self._on_restore(shown_records[k])
