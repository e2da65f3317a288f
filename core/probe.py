"""The probe model: one functional Keras model from the input to every tensor the losses read.

The optimizer builds it once; the compiled step calls it in inference mode
(`training=False`) and hands each loss its tensor's value.
"""

import keras

__all__ = ["build_probe"]


def build_probe(input_tensor, losses, wrt_tensor):
    """Builds the probe model.

    Args:
        input_tensor: the model's symbolic input.
        losses: the `Loss` objects (each reads `loss.tensor`).
        wrt_tensor: the tensor gradients are taken against (may be the input).

    Returns:
        `(probe, slots, wrt_slot)`: the model (None when every loss reads the
        input), each loss's output index in it and `wrt_tensor`'s (None
        means the input itself).

    Raises:
        ValueError: naming the first tensor that is not connected to the
            input, and how to fix it.
    """
    outputs, slot_of = [], {}

    def slot(tensor):
        if tensor is input_tensor:
            return None
        if id(tensor) not in slot_of:
            slot_of[id(tensor)] = len(outputs)
            outputs.append(tensor)
        return slot_of[id(tensor)]

    slots = [slot(loss.tensor) for loss in losses]
    wrt_slot = slot(wrt_tensor)
    if not outputs:
        return None, slots, wrt_slot
    try:
        probe = keras.Model(input_tensor, outputs, name="vis_widgets_probe")
    except ValueError:
        _raise_disconnected(input_tensor, losses, wrt_tensor, outputs)
        raise
    return probe, slots, wrt_slot


def _raise_disconnected(input_tensor, losses, wrt_tensor, outputs):
    """Names the first tensor that cannot be reached from the input."""
    readers = {id(loss.tensor): f"loss '{loss.name}'" for loss in losses}
    readers.setdefault(id(wrt_tensor), "`wrt_tensor`")
    for tensor in outputs:
        try:
            keras.Model(input_tensor, tensor)
        except ValueError:
            raise ValueError(
                f"The tensor {tensor.name!r} read by {readers[id(tensor)]} is not connected "
                f"to `input_tensor` ({input_tensor.name!r}). It may belong to a nested "
                "sub-model (use that sub-model's `inputs[0]` as `input_tensor` and its own "
                "layers), to another model (a layer called in several models reports its "
                "first call as `.output`), or to a model with several inputs (only "
                "single-input models are supported)."
            ) from None
