"""What a dashboard runs, as a ready-to-paste Python snippet.

The snippet is rebuilt from each object's class and `get_config()` (the
losses, the parameterization, the input modifiers): layers are referenced
as `model.get_layer("name")` and the input as `model.inputs[0]`, so it runs
in any notebook where `model` is the same model. Live values (the weights,
the learning rate, the Fourier decay, the transforms' amounts) are written
as they are when the snippet is made.
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


def _value(value):
    """A config value as it should read in code: floats to 7 significant digits (float32)."""
    if isinstance(value, float):
        return float(f"{value:.7g}")
    if isinstance(value, (tuple, list)):
        return type(value)(_value(v) for v in value)
    return value


def object_expression(obj):
    """Returns `ClassName(key=value, ...)` from an object's `get_config()`."""
    config = obj.get_config()
    return f"{type(obj).__name__}({', '.join(f'{k}={_value(v)!r}' for k, v in config.items())})"


def losses_snippet(
    optimizer, weights, max_iter, jitter, grad_modifier=None, input_modifiers=(), recipe=""
):
    """Returns a runnable snippet: imports, the losses, the optimizer, its modifiers and its run.

    The optimizer's parameterization and learning rate, and the modifiers'
    current amounts (a recipe's transforms), are written as they are now.

    Args:
        optimizer: the `Optimizer` whose losses are exported.
        weights: one weight per loss, in the optimizer's order.
        max_iter: the `max_iter` to write in the `minimize` call.
        jitter: the jitter fraction to write.
        grad_modifier: the gradient modifier's name, or None.
        input_modifiers: more modifiers after the `Jitter` (a recipe's
            transforms), each rebuilt from its `get_config()`.
        recipe: the recipe's name, for a comment.

    Returns:
        Python source that expects a variable `model` and defines `losses`,
        `opt`, `input_modifiers` and `img`.

    Example:
        ```python
        source = losses_snippet(opt, [1.0, 10.0, 10.0], max_iter=200, jitter=0.05)
        exec(source, {"model": model})
        ```
    """
    names = {"Jitter": _CORE_MODULE, "Optimizer": _CORE_MODULE}
    parameterization = optimizer.parameterization
    for obj in [*optimizer.losses, *input_modifiers, parameterization]:
        if obj is not None:
            names[type(obj).__name__] = _import_path(type(obj))
    modules = {}
    for name, module in names.items():
        if module != "__main__":
            modules.setdefault(module, []).append(name)
    lines = [
        "# Exported from the vis-widgets dashboard" + (f" (recipe: {recipe})." if recipe else ".")
    ]
    lines += [f"from {m} import {', '.join(sorted(n))}" for m, n in sorted(modules.items())]
    lines += ["", "losses = ["]
    for loss, weight in zip(optimizer.losses, weights):
        lines.append(f"    ({loss_expression(loss, optimizer.input_tensor)}, {float(weight)!r}),")
    lines.append("]")
    extra = "" if optimizer.norm_grads else ", norm_grads=False"
    if not optimizer.wrt_is_input:
        wrt = _tensor_expression(optimizer.wrt_tensor, optimizer.input_tensor)
        extra += f", wrt_tensor={wrt}"
    if parameterization is not None:
        extra += f",\n                parameterization={object_expression(parameterization)}"
        extra += f", learning_rate={_value(optimizer.learning_rate)!r}"
    input_range = tuple(optimizer.input_range)
    lines.append(f"opt = Optimizer(model.inputs[0], losses, input_range={input_range!r}{extra})")
    lines.append(f"input_modifiers = [Jitter({float(jitter)!r})]")
    for modifier in input_modifiers:
        lines.append(f"input_modifiers.append({object_expression(modifier)})")
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
        f"input_modifiers=input_modifiers{modifier}, verbose=False)"
    )
    return "\n".join(lines) + "\n"
