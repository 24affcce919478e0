"""Metrics of video-level models, counted over labelled places only."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="mosi_keras")
class LabelledBinaryAccuracy(keras.metrics.BinaryAccuracy):
    """Accuracy of logits (positive when ≥ 0) over the places whose label is 0 or 1.

    Places labelled `-1` (unlabelled or padded utterances) are left out, as
    in `mosi_keras.losses.labelled_binary_crossentropy`.

    Example:

    >>> import numpy as np
    >>> metric = LabelledBinaryAccuracy()
    >>> metric.update_state(np.array([[1, 0, -1]]), np.array([[2.0, 1.0, 5.0]], "float32"))
    >>> float(metric.result())
    0.5
    """

    def __init__(self, name="accuracy", dtype=None):
        super().__init__(name=name, dtype=dtype, threshold=0.0)

    def update_state(self, y_true, y_pred, sample_weight=None):
        labelled = ops.cast(ops.reshape(y_true, (-1,)) >= 0, "float32")
        if sample_weight is not None:
            labelled = labelled * ops.cast(ops.reshape(sample_weight, (-1,)), "float32")
        return super().update_state(
            ops.maximum(ops.reshape(y_true, (-1, 1)), 0), ops.reshape(y_pred, (-1, 1)), labelled
        )

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}
