"""DEC clustering loss KL(P || Q) (eq. 1)."""

import keras
from keras import ops

from mosi_keras.losses.target_distribution import EPSILON


def clustering_kl(p, q):
    """Eq. 1: `KL(P || Q) = sum_j p_ij log(p_ij / q_ij)`, averaged over the batch.

    Terms with `p_ij = 0` contribute 0; both distributions are clipped to
    `[1e-12, 1]` before the logarithm. Computed in float32.

    Args:
        p: target distribution `(batch, n_clusters)` (eq. 3).
        q: soft assignments `(batch, n_clusters)` (eq. 2).

    Returns:
        Scalar float32: the mean over samples of the per-sample divergence.
        (Eq. 1 sums over samples; the mean keeps the term's scale independent
        of the batch size, like PyTorch's `reduction="batchmean"`.)

    References:
        Saadatinia et al., eq. 1; Xie et al., ICML 2016, eq. 2.
    """
    p = ops.cast(p, "float32")
    q = ops.cast(q, "float32")
    log_ratio = ops.log(ops.clip(p, EPSILON, 1.0)) - ops.log(ops.clip(q, EPSILON, 1.0))
    return ops.mean(ops.sum(p * log_ratio, axis=-1))


@keras.saving.register_keras_serializable(package="mosi_keras")
class ClusteringKLDivergence(keras.losses.Loss):
    """Loss object for eq. 1, `KL(P || Q)` averaged over the batch.

    `y_true` is the target distribution `P` (eq. 3) and `y_pred` the soft
    assignment `Q` (eq. 2). Calls `clustering_kl`.

    Example:

    >>> import numpy as np
    >>> q = np.array([[0.7, 0.3], [0.4, 0.6]], "float32")
    >>> p = np.array([[0.9, 0.1], [0.2, 0.8]], "float32")
    >>> float(ClusteringKLDivergence()(p, q)) > 0
    True

    References:
        Saadatinia et al., eq. 1.
    """

    def __init__(self, name="clustering_kl", **kwargs):
        super().__init__(name=name, **kwargs)

    def call(self, y_true, y_pred):
        return clustering_kl(y_true, y_pred)
