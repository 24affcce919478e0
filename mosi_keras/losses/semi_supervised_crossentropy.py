"""Cross-entropy over labelled samples only (eq. 7)."""

import keras
from keras import ops

from mosi_keras.losses.target_distribution import EPSILON


def semi_supervised_crossentropy(labels, predictions):
    """Eq. 7: `-(1/N_l) sum_{i in L} log yhat_{i, y_i}` over labelled samples.

    Samples whose label is negative (`UNLABELLED = -1`) are unlabelled and
    contribute nothing; the mean runs over the labelled samples only, and a
    batch without any labelled sample gives exactly 0 (never NaN).

    What `yhat` is the paper leaves open. We take the soft cluster assignment
    `Q` itself, with one cluster per class (cluster `c` stands for class `c`),
    so the labels pull the clusters towards sentiment. Any row-stochastic
    `(batch, n_classes)` prediction works.

    Args:
        labels: integer class indices `(batch,)` (or `(batch, 1)`), negative
            for unlabelled samples.
        predictions: probabilities `(batch, n_classes)`; clipped to
            `[1e-12, 1]` before the logarithm.

    Returns:
        Scalar float32.

    References:
        Saadatinia et al., eq. 7.
    """
    predictions = ops.cast(predictions, "float32")
    labels = ops.reshape(ops.cast(labels, "int32"), (-1,))
    labelled = ops.cast(labels >= 0, "float32")
    one_hot = ops.one_hot(ops.maximum(labels, 0), ops.shape(predictions)[-1])
    log_likelihood = ops.sum(
        one_hot * ops.log(ops.clip(predictions, EPSILON, 1.0)), axis=-1
    )
    return ops.divide_no_nan(-ops.sum(labelled * log_likelihood), ops.sum(labelled))


@keras.saving.register_keras_serializable(package="mosi_keras")
class SemiSupervisedCrossentropy(keras.losses.Loss):
    """Loss object for eq. 7: cross-entropy over the labelled samples of a batch.

    `y_true` holds class indices with `-1` for unlabelled samples, `y_pred`
    class probabilities (by default the cluster assignment `Q`).

    Example:

    >>> import numpy as np
    >>> q = np.array([[0.9, 0.1], [0.3, 0.7]], "float32")
    >>> loss = SemiSupervisedCrossentropy()
    >>> round(float(loss(np.array([0, -1]), q)), 4)  # only the first counts
    0.1054

    References:
        Saadatinia et al., eq. 7.
    """

    def __init__(self, name="semi_supervised_crossentropy", **kwargs):
        super().__init__(name=name, **kwargs)

    def call(self, y_true, y_pred):
        return semi_supervised_crossentropy(y_true, y_pred)
