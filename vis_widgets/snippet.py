"""The losses of a dashboard as a ready-to-paste Python snippet.

The snippet is rebuilt from each loss's class and `get_config()`: layers are
referenced as `model.get_layer("name")` and the input as `model.inputs[0]`,
so it runs in any notebook where `model` is the same model.
"""

_CORE_MODULE = "vis_widgets.core"


def _import_path(cls):
    module = cls.__module__
    if module.startswith(_CORE_MODULE + ".") or module == _CORE_MODULE:
        return _CORE_MODULE
    return module


def _tensor_expression(tensor, input_tensor):
    """`model.inputs[0]` for the input, else `model.get_layer(name).output`."""
    if tensor is input_tensor:
        return "model.inputs[0]"
    history = getattr(tensor, "_keras_history", None)
    if history is None:
        raise ValueError(
            f"Cannot export a reference to tensor {tensor!r}: it is neither the model's input "
            "nor a layer's output."
        )
    return f"model.get_layer({history[0].name!r}).output"


def loss_expression(loss, input_tensor):
    """Returns the Python expression that rebuilds `loss` from `model`.

    The first constructor argument is the layer (`model.get_layer(name)`,
    when the config has a `layer` name) or the tensor the loss reads; the
    rest of `get_config()` follows as keyword arguments.

    Args:
        loss: a `Loss`.
        input_tensor: the optimizer's input tensor.

    Returns:
        A string such as `TotalVariation(model.inputs[0], beta=2.0)`.
    """
    config = dict(loss.get_config())
    if "layer" in config:
        head = f"model.get_layer({config.pop('layer')!r})"
    else:
        head = _tensor_expression(loss.tensor, input_tensor)
    args = [head, *(f"{k}={v!r}" for k, v in config.items())]
    return f"{type(loss).__name__}({', '.join(args)})"


def losses_snippet(optimizer, weights, max_iter, jitter, grad_modifier=None):
    """Returns a runnable snippet: imports, the losses list, the optimizer and its run.

    Args:
        optimizer: the `Optimizer` whose losses are exported.
        weights: one weight per loss, in the optimizer's order.
        max_iter: the `max_iter` to write in the `minimize` call.
        jitter: the jitter fraction to write.
        grad_modifier: the gradient modifier's name, or None.

    Returns:
        Python source that expects a variable `model` and defines `losses`,
        `opt` and `img`.

    Example:
        ```python
        source = losses_snippet(opt, [1.0, 10.0, 10.0], max_iter=200, jitter=0.05)
        exec(source, {"model": model})
        ```
    """
    names = {"Jitter": _CORE_MODULE, "Optimizer": _CORE_MODULE}
    for loss in optimizer.losses:
        names[type(loss).__name__] = _import_path(type(loss))
    modules = {}
    for name, module in names.items():
        if module != "__main__":
            modules.setdefault(module, []).append(name)
    lines = ["# Losses exported from the vis-widgets dashboard."]
    lines += [f"from {m} import {', '.join(sorted(n))}" for m, n in sorted(modules.items())]
    lines += ["", "losses = ["]
    for loss, weight in zip(optimizer.losses, weights):
        lines.append(f"    ({loss_expression(loss, optimizer.input_tensor)}, {float(weight)!r}),")
    lines.append("]")
    extra = "" if optimizer.norm_grads else ", norm_grads=False"
    if not optimizer.wrt_is_input:
        wrt = _tensor_expression(optimizer.wrt_tensor, optimizer.input_tensor)
        extra += f", wrt_tensor={wrt}"
    input_range = tuple(optimizer.input_range)
    lines.append(f"opt = Optimizer(model.inputs[0], losses, input_range={input_range!r}{extra})")
    if grad_modifier is None:
        modifier = ""
    elif isinstance(grad_modifier, str):
        modifier = f", grad_modifier={grad_modifier!r}"
    else:  # a function: the snippet can only name it
        name = getattr(grad_modifier, "__name__", type(grad_modifier).__name__)
        lines.append(f"# grad_modifier: the dashboard used the function {name!r}; pass it")
        lines.append("# to minimize(grad_modifier=...) yourself.")
        modifier = f", grad_modifier={name}" if name.isidentifier() else ""
    lines.append(
        f"img, grads, wrt_value = opt.minimize(max_iter={int(max_iter)}, "
        f"input_modifiers=[Jitter({float(jitter)!r})]{modifier}, verbose=False)"
    )
    return "\n".join(lines) + "\n"
