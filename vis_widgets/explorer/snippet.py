"""The explorer's code export: Python that recomputes and redraws what the explorer shows.

The snippet calls the engine with the explorer's exact settings (image,
class, each pane's method, modifier, parameters and CAM layer) and draws
each overlay with the same colormap expression and keras-vis's `overlay`,
so running it gives the maps and pictures the explorer shows (SmoothGrad's
noise aside: it draws new noise).
"""

import json

from vis_widgets.core.attribution.checks import CAM_METHODS

_RANDOM = ("smoothgrad", "squaregrad", "vargrad")


def _literal(value):
    """A Python literal, strings in double quotes (as the project's formatter writes them)."""
    return json.dumps(value) if isinstance(value, str) else repr(value)


def _call(spec):
    args = [f"method={_literal(spec.method)}"]
    if spec.backprop_modifier is not None:
        args.append(f"backprop_modifier={_literal(spec.backprop_modifier)}")
    if spec.layer is not None:
        args.append(f"layer={_literal(spec.layer)}")
    args += [f"{name}={value!r}" for name, value in spec.params]
    return f"attributor.attribute(image, target, {', '.join(args)})[0]"


def _picture_lines(images, colormap):
    """Lines that define `picture` (the image as shown, uint8 RGB) and `colormap`."""
    lo, hi = (float(v) for v in images.input_range)
    x = 'np.asarray(image[0], dtype="float32")'
    if images.data_format == "channels_first":
        x = f"np.moveaxis({x}, 0, -1)"
    channels = images.batch.shape[1 if images.data_format == "channels_first" else -1]
    lines = [f"x = {x}"]
    if channels not in (1, 3):
        lines.append("x = x.mean(axis=-1, keepdims=True)")
    lines.append(
        f"picture = np.uint8(np.clip(np.round((x - {lo!r}) / {hi - lo!r} * 255.0), 0, 255))"
    )
    if channels != 3:
        lines.append("picture = np.repeat(picture, 3, axis=-1)  # grey as RGB")
    lines.append(f"colormap = matplotlib.colormaps[{_literal(colormap)}]")
    return lines


def explorer_snippet(request, images, cam_layer_name=None, own_attributor=True):
    """Returns Python source that recomputes the explorer's maps and overlays.

    Args:
        request: the `Request` shown (image, class, panes, colormap, alpha).
        images: the explorer's `ExplorerImages`.
        cam_layer_name: the layer the engine's rule picks (for a comment).
        own_attributor: whether the explorer made its `Attributor` (the
            snippet then makes one); else the snippet expects `attributor`.

    Returns:
        Source that expects `model` (and `images` when the explorer was
        given a numpy batch, `attributor` when it was given an engine), and
        defines `image`, `target`, `maps` (one `(H, W)` map per pane),
        `picture` and `overlays` (one uint8 RGB picture per pane).

    Example:
        ```python
        source = explorer_snippet(explorer.state.request(), explorer.images)
        exec(source, {"model": model, "images": images})
        ```
    """
    needs = ["model"]
    if images.source is None:
        needs.append("images (the batch the explorer shows)")
    if not own_attributor:
        needs.append("attributor (the explorer's engine)")
    lines = [
        "# The maps of the vis-widgets attribution explorer, recomputed.",
        f"# Expects: {', '.join(needs)}.",
        "import matplotlib",
        "import numpy as np",
        "",
        "from vis_widgets.core.attribution import Attributor",
        "from vis_widgets.core.visualization import overlay",
        "",
    ]
    if images.source is not None:
        lines += [images.source, ""]
    if own_attributor:
        lines.append("attributor = Attributor(model)")
    index, target = request.index, request.target
    lines += [
        f"image = images[{index}:{index + 1}]  # image {images.names[index]}",
        f"target = {target}  # class {images.class_name(target)}",
    ]
    if any(s.method in CAM_METHODS and s.layer is None for s in request.panes) and cam_layer_name:
        lines.append(f"# The class activation maps read {cam_layer_name!r} (the engine's rule).")
    if any(s.method in _RANDOM for s in request.panes):
        lines.append("# SmoothGrad draws new noise: its map is another draw of the same average.")
    lines.append("maps = [")
    lines += [f"    {_call(spec)}," for spec in request.panes]
    lines += [
        "]",
        *_picture_lines(images, request.colormap),
        "overlays = [",
        "    overlay(np.uint8(colormap(np.clip(m, 0, 1))[..., :3] * 255), picture, "
        f"alpha={request.alpha!r})",
        "    for m in maps",
        "]",
    ]
    return "\n".join(lines) + "\n"
