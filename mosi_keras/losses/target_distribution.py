"""DEC target distribution P (eq. 3)."""

from keras import ops

EPSILON = 1e-12


def target_distribution(q, cluster_frequency=None):
    """Eq. 3: the sharpened target `P` of Deep Embedded Clustering.

    `p_ij = (q_ij^2 / f_j) / sum_j' (q_ij'^2 / f_j')` with the soft cluster
    frequency `f_j = sum_i q_ij`. Squaring emphasises confident assignments;
    dividing by `f_j` stops large clusters from swallowing the rest.

    `P` is a target: it is returned behind `stop_gradient`, so no gradient
    flows through it. Computed in float32.

    Args:
        q: soft assignments `(batch, n_clusters)` (eq. 2).
        cluster_frequency: optional `(n_clusters,)` frequencies `f_j` taken
            over a larger set than the batch (the whole training set, as
            original DEC does; see `applications.TargetRefresh`). When
            `None`, `f_j` is summed over the batch.

    Returns:
        `P`, float32 `(batch, n_clusters)`, rows summing to one.

    Example:

    >>> import numpy as np
    >>> p = target_distribution(np.array([[0.6, 0.4], [0.2, 0.8]], "float32"))
    >>> np.round(np.asarray(p).sum(axis=1), 6).tolist()
    [1.0, 1.0]

    References:
        Saadatinia et al., eq. 3; Xie et al., ICML 2016, eq. 3.
    """
    q = ops.cast(q, "float32")
    if cluster_frequency is None:
        cluster_frequency = ops.sum(q, axis=0)
    cluster_frequency = ops.maximum(ops.cast(cluster_frequency, "float32"), EPSILON)
    weight = ops.square(q) / cluster_frequency[None, :]
    p = weight / ops.maximum(ops.sum(weight, axis=1, keepdims=True), EPSILON)
    return ops.stop_gradient(p)
