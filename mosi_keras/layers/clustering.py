"""Student-t soft cluster assignment (DEC)."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="mosi_keras")
class ClusteringLayer(keras.layers.Layer):
    """Soft assignment of embeddings to learnable centroids (eq. 2).

    Computes, for embedding `z_i` and centroid `mu_j`,

    `q_ij = (1 + ||z_i - mu_j||^2 / alpha)^(-(alpha + 1) / 2)`, normalised
    over `j` so that every row sums to one: the Student's t kernel of Deep
    Embedded Clustering.

    The centroids are a trainable weight named `centroids` of shape
    `(n_clusters, features)`; set them from k-means centres with
    `layer.centroids.assign(kmeans.cluster_centers_)`. The kernel is always
    evaluated in float32: the layer's dtype defaults to `"float32"`, so under
    a `mixed_float16` or `mixed_bfloat16` policy it receives and returns
    float32 tensors.

    Args:
        n_clusters: number of clusters.
        alpha: degrees of freedom of the Student's t kernel. Defaults to
            `1.0` (paper and DEC).
        centroids_initializer: initializer for the centroids. Defaults to
            `"glorot_uniform"`.
        **kwargs: standard `keras.layers.Layer` arguments.

    Call arguments:
        inputs: embeddings `(batch, features)`.

    Returns:
        Soft assignments `Q` of shape `(batch, n_clusters)`, float32, rows
        summing to one.

    Example:

    >>> import numpy as np
    >>> layer = ClusteringLayer(n_clusters=2)
    >>> q = layer(np.random.rand(5, 8).astype("float32"))
    >>> tuple(q.shape)
    (5, 2)

    References:
        - Saadatinia et al., semi-supervised clustering for CMU-MOSI, eq. 2.
        - Xie, Girshick and Farhadi, "Unsupervised deep embedding for
          clustering analysis", ICML 2016.
    """

    def __init__(
        self, n_clusters, alpha=1.0, centroids_initializer="glorot_uniform", **kwargs
    ):
        kwargs.setdefault("dtype", "float32")
        super().__init__(**kwargs)
        if int(n_clusters) < 1:
            raise ValueError(f"`n_clusters` must be at least 1, got {n_clusters}.")
        if alpha <= 0:
            raise ValueError(f"`alpha` must be positive, got {alpha}.")
        self.n_clusters = int(n_clusters)
        self.alpha = float(alpha)
        self.centroids_initializer = keras.initializers.get(centroids_initializer)

    def build(self, input_shape):
        self.centroids = self.add_weight(
            name="centroids",
            shape=(self.n_clusters, input_shape[-1]),
            initializer=self.centroids_initializer,
            dtype="float32",
        )
        super().build(input_shape)

    def call(self, inputs):
        return student_t_assignment(inputs, self.centroids, self.alpha)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.n_clusters)

    def compute_output_spec(self, inputs):
        return keras.KerasTensor((inputs.shape[0], self.n_clusters), dtype="float32")

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "n_clusters": self.n_clusters,
                "alpha": self.alpha,
                "centroids_initializer": keras.initializers.serialize(
                    self.centroids_initializer
                ),
            }
        )
        return config


def student_t_assignment(z, centroids, alpha=1.0):
    """Eq. 2: Student's t soft assignment of `z` `(n, d)` to `centroids` `(k, d)`.

    Evaluated in float32 and in log space (a softmax over the log-kernel),
    so that far-away points do not underflow to 0/0. Returns `(n, k)` rows
    that sum to one.
    """
    z = ops.cast(z, "float32")
    centroids = ops.cast(centroids, "float32")
    squared_distance = ops.sum(
        ops.square(z[:, None, :] - centroids[None, :, :]), axis=-1
    )
    log_kernel = -(alpha + 1.0) / 2.0 * ops.log1p(squared_distance / alpha)
    return ops.softmax(log_kernel, axis=-1)
