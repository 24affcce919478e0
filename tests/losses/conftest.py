"""What the loss tests share: a batch of soft assignments and NumPy references."""

import numpy as np
from keras import ops

Q = np.array([[0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0.3, 0.3, 0.4], [0.5, 0.1, 0.4]], "float32")
"""Soft assignments of four rows to three clusters."""


def numpy_target(q):
    """Eq. 3 in NumPy."""
    weight = q**2 / q.sum(0)
    return weight / weight.sum(1, keepdims=True)


def to_numpy(x):
    return ops.convert_to_numpy(x)
