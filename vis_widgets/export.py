"""Export: the returned image as PNG, a run as GIF, the losses as code; to a file or the browser.

Each export exists once as bytes (`png_bytes`, `run_gif_bytes`): the
kernel-side save writes them to a file on the kernel's machine (for
scripts), and a `DownloadLink` hands the very same bytes to the user's
browser as a file (for a remote server, Colab, a classroom hub). A download
link is a plain `<a download href="data:...">` inside an `ipywidgets.HTML`:
standard ipywidgets only, no front-end extension, no JavaScript.

Exports save the returned image (what `minimize` returns, mapped from the
input range to 0-255), never the contrast-stretched view.
"""

import base64
import html
import pathlib

import ipywidgets as widgets

from vis_widgets.controls import button
from vis_widgets.render import compose_frame, encode_png, gif_bytes

MAX_DOWNLOAD_BYTES = 32 * 2**20  # a data: link larger than this is left to the kernel-side save
DEFAULT_NAMES = {
    "code": "vis_widgets_losses.py",
    "png": "vis_widgets_image.png",
    "gif": "vis_widgets_run.gif",
}
DASHBOARD_NOTE = (
    "<small>The losses with the current weights, ready to paste (expects a variable "
    "<code>model</code>). PNG and GIF hold the image <i>as returned</i> by "
    "<code>minimize</code>, not the contrast-stretched view. <i>Download</i> saves "
    "in your browser; <i>Save</i> writes on the kernel's machine.</small>"
)


def png_bytes(images, labels=None, min_size=256):
    """Encodes uint8 images `(N, H, W, C)` as one PNG (a labelled grid when N > 1).

    Args:
        images: the images, as returned (`Returned.as_returned()`).
        labels: captions for a grid.
        min_size: the picture is nearest-neighbour upscaled to this long side
            (0 keeps the native size of a single image).

    Returns:
        The PNG file's bytes.
    """
    return encode_png(compose_frame(images, labels, min_size=min_size), 6)


def run_gif_bytes(frames, labels=None, duration=80):
    """Encodes `(iteration, images)` frames as an animated GIF captioned "Step n".

    Raises:
        ValueError: when there is no frame.
    """
    if not frames:
        raise ValueError(
            "There is no frame to write: run first (frames are kept by LivePlot with "
            "keep_frames=True)."
        )
    steps = [step for step, _ in frames]
    return gif_bytes([f for _, f in frames], steps, labels, duration)


def write_bytes(path, data):
    """Writes `data` to `path`; returns the `pathlib.Path`."""
    path = pathlib.Path(path)
    path.write_bytes(data)
    return path


def write_gif(path, frames, labels=None, duration=80):
    """Writes `(iteration, images)` frames as an animated GIF; returns the path.

    Raises:
        ValueError: when there is no frame.
    """
    return write_bytes(path, run_gif_bytes(frames, labels, duration))


def download_html(data, filename, mime, text):
    """Returns an `<a download>` link that saves `data` as `filename` in the browser."""
    encoded = base64.b64encode(data).decode("ascii")
    return (
        f'<a download="{html.escape(pathlib.Path(filename).name)}" '
        f'href="data:{mime};base64,{encoded}" class="vw-download-link" '
        f'title="save {html.escape(pathlib.Path(filename).name)} in your browser">'
        f"{html.escape(text)}</a>"
    )


class DownloadLink:
    """A browser download of some bytes: an `ipywidgets.HTML` holding an `<a download>` link.

    Its CSS classes are `vw-download` and `vw-download-<kind>`. Before there
    is anything to download (or when it is too large for a `data:` link) it
    shows `empty_text` without a link.

    Args:
        kind: what it downloads (`"png"`, `"gif"`, `"code"`), used in its
            CSS class.
        mime: the MIME type of the bytes.
        text: the link's text.
        empty_text: what it says while there is nothing to download.

    Attributes:
        widget: the `HTML` widget.
        data: the bytes offered (None before any).
        filename: the name the browser saves them under.

    Example:
        ```python
        link = DownloadLink("png", "image/png", "Download PNG")
        link.update(png_bytes(images), "dream.png")
        link.widget  # <a download="dream.png" href="data:image/png;base64,...">
        ```
    """

    def __init__(self, kind, mime, text, empty_text=""):
        self.kind, self.mime, self.text, self.empty_text = kind, mime, text, empty_text
        self.data = None
        self.filename = None
        self.widget = widgets.HTML(self._empty())
        self.widget.add_class("vw-download")
        self.widget.add_class(f"vw-download-{kind}")

    def _empty(self, reason=None):
        return f"<span style='color:#888'>{html.escape(reason or self.empty_text)}</span>"

    def update(self, data, filename):
        """Offers `data` (bytes, or None for nothing) under `filename`."""
        self.data, self.filename = data, pathlib.Path(filename).name
        if data is None:
            self.widget.value = self._empty()
        elif len(data) > MAX_DOWNLOAD_BYTES:
            self.widget.value = self._empty(
                f"{self.kind.upper()} too large to download here ({len(data) / 2**20:.0f} MB): "
                "use the Save button"
            )
        else:
            self.widget.value = download_html(data, self.filename, self.mime, self.text)


class ExportPanel:
    """The Export tab: the code snippet, PNG and GIF, each as a download and a kernel-side save.

    Args:
        snippet: returns the current snippet.
        png: returns the PNG bytes of the current image.
        gif: returns the GIF bytes of the latest run (raises ValueError
            when there is none), or None for a panel without a GIF row.
        save_png: called as `save_png(path)`, returns the written path.
        save_gif: called as `save_gif(path)`, returns the written path.
        note: the HTML line above the snippet (None: the dashboard's).
        names: the default file names, `{"code", "png", "gif"}` (the
            dashboard's for those not given).

    Attributes:
        code: the `Textarea` with the snippet (`vw-export-code`).
        download_code, download_png, download_gif: the `DownloadLink`s
            (`vw-download-code`, `vw-download-png`, `vw-download-gif`;
            `download_gif` is None without `gif`).
        png_path, gif_path: the file names (`Text`), for both ways.
        save_png_button, save_gif_button: `vw-save-png`, `vw-save-gif`.
        status: a `Label` saying what was saved, or why not.
        widget: the tab's `VBox`.

    Example:
        ```python
        panel = ExportPanel(dash.export_code, dash.png_bytes, dash.gif_bytes,
                            dash.save_png, dash.save_gif)
        panel.refresh_code(); panel.refresh_png(); panel.refresh_gif()
        ```
    """

    def __init__(self, snippet, png, gif, save_png, save_gif=None, note=None, names=None):
        self._snippet, self._png, self._gif = snippet, png, gif
        names = {**DEFAULT_NAMES, **(names or {})}
        self.code = widgets.Textarea(layout=widgets.Layout(width="98%", height="170px"))
        self.code.add_class("vw-export-code")
        self.download_code = DownloadLink("code", "text/x-python", "Download .py")
        self.download_png = DownloadLink("png", "image/png", "Download PNG")
        self.code_path = names["code"]
        self.png_path = widgets.Text(names["png"], description="PNG file")
        self.save_png_button = button("Save PNG", "vw-save-png", "Save on the kernel's machine")
        self.save_png_button.on_click(lambda _: self._save(save_png, self.png_path))
        self.png_path.observe(lambda _: self.refresh_png(), names="value")
        files = [widgets.HBox([self.png_path, self.download_png.widget, self.save_png_button])]
        self.download_gif = self.gif_path = self.save_gif_button = None
        if gif is not None:
            self.download_gif = DownloadLink("gif", "image/gif", "Download GIF", "no run yet")
            self.gif_path = widgets.Text(names["gif"], description="GIF file")
            self.save_gif_button = button(
                "Save GIF", "vw-save-gif", "Save on the kernel's machine"
            )
            self.save_gif_button.on_click(lambda _: self._save(save_gif, self.gif_path))
            self.gif_path.observe(lambda _: self.refresh_gif(), names="value")
            files.append(
                widgets.HBox([self.gif_path, self.download_gif.widget, self.save_gif_button])
            )
        self.status = widgets.Label()
        note = widgets.HTML(DASHBOARD_NOTE if note is None else note)
        for row in files:
            row.layout.align_items = "center"
            row.children[1].layout.margin = "0 12px"
        self.widget = widgets.VBox(
            [note, self.code, self.download_code.widget, *files, self.status]
        )

    def refresh_code(self):
        """Shows the current snippet and offers it as a download."""
        self.code.value = source = self._snippet()
        self.download_code.update(source.encode("utf-8"), self.code_path)

    def refresh_png(self):
        """Offers the current image's PNG as a download (nothing while `png` raises ValueError)."""
        self.download_png.update(_bytes_or_none(self._png), self.png_path.value)

    def refresh_gif(self):
        """Offers the latest run's GIF as a download (nothing before a run, or without GIF)."""
        if self._gif is not None:
            self.download_gif.update(_bytes_or_none(self._gif), self.gif_path.value)

    def _save(self, save, path_widget):
        try:
            path = save(path_widget.value)
            self.status.value = f"Saved {pathlib.Path(path).resolve()}"
        except Exception as err:
            self.status.value = f"Could not save: {type(err).__name__}: {err}"


def _bytes_or_none(make):
    """`make()`, or None when it raises ValueError (there is nothing to export yet)."""
    try:
        return make()
    except ValueError:
        return None
