"""CurrentInput: an input modifier that records the un-jittered input of each iteration.

Callbacks receive `wrt_value`, the input *after* the `pre` of the input
modifiers: with a `Jitter`, a live view of it shakes by the jitter offsets
every frame. Placed first in `input_modifiers`, this modifier's `post` runs
last, after the jitter is rolled back, and stores the updated input in a
variable the live view reads when it renders a frame (one small on-device
copy per iteration, no retrace).
"""

import weakref

import tensorflow as tf

from vis_widgets.core.input_modifiers import InputModifier

_BY_OPTIMIZER = weakref.WeakKeyDictionary()


class CurrentInput(InputModifier):
    """Keeps the input after each iteration's update, with the jitter undone.

    Use `for_optimizer` so every view of one optimizer shares one instance
    (and therefore one traced step).

    Example:
        ```python
        current = CurrentInput.for_optimizer(opt)
        opt.minimize(input_modifiers=[current, Jitter(0.05)], verbose=False)
        x = current.read()  # equals opt.last_input
        ```
    """

    def __init__(self):
        self._value = tf.Variable(
            tf.zeros([0]), shape=tf.TensorShape(None), trainable=False, name="current_input"
        )

    @classmethod
    def for_optimizer(cls, optimizer):
        """Returns the instance shared by every view of `optimizer`."""
        if optimizer not in _BY_OPTIMIZER:
            _BY_OPTIMIZER[optimizer] = cls()
        return _BY_OPTIMIZER[optimizer]

    def post(self, x):
        """Stores `x` (traced: runs every iteration) and returns it unchanged."""
        self._value.assign(x)
        return x

    def trace_key(self):
        """Each instance owns its variable, so each traces its own step."""
        return (type(self), id(self))

    def read(self):
        """Returns the latest stored input, a numpy array with the batch axis."""
        return self._value.numpy()
