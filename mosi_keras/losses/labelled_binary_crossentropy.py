"""Binary cross-entropy on logits over the labelled places only (video-level models)."""

import keras
from keras import ops


def labelled_binary_crossentropy(labels, logits):
    """Mean binary cross-entropy of `logits` over the places whose label is 0 or 1.

    A negative label (`UNLABELLED = -1`: an unlabelled or a padded
    utterance) contributes nothing, and the mean runs over the labelled
    places only, so padding a batch with more utterances or videos changes
    neither the loss nor its gradient; a batch without a label gives 0.

    Args:
        labels: integer labels of any shape, negative where unlabelled.
        logits: float logits of the same number of elements.

    Returns:
        Scalar float32.
    """
    labels = ops.reshape(ops.cast(labels, "float32"), (-1,))
    logits = ops.reshape(ops.cast(logits, "float32"), (-1,))
    labelled = ops.cast(labels >= 0, "float32")
    # log(1 + e^x) − y·x, the stable form of the cross-entropy on a logit.
    per_place = ops.softplus(logits) - ops.maximum(labels, 0.0) * logits
    return ops.divide_no_nan(ops.sum(labelled * per_place), ops.sum(labelled))


@keras.saving.register_keras_serializable(package="mosi_keras")
class LabelledBinaryCrossentropy(keras.losses.Loss):
    """Loss object of `labelled_binary_crossentropy`: `y_true` labels with `-1`
    where unlabelled or padded, `y_pred` logits.

    Example:

    >>> import numpy as np
    >>> loss = LabelledBinaryCrossentropy()
    >>> round(float(loss(np.array([[1, -1]]), np.array([[0.0, 9.0]], "float32"))), 4)  # only the first counts
    0.6931
    """

    def __init__(self, name="labelled_binary_crossentropy", **kwargs):
        super().__init__(name=name, **kwargs)

    def call(self, y_true, y_pred):
        return labelled_binary_crossentropy(y_true, y_pred)
