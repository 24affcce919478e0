"""Semi-supervised multimodal Deep Embedded Clustering (§3.3, eqs. 1-8)."""

import keras
from keras import ops

from applications.sentiment_classifier import mask_name
from mosi_keras.layers import ClusteringLayer
from mosi_keras.losses import (
    clustering_kl,
    combined_dec_loss,
    disentanglement_loss,
    masked_reconstruction_loss,
    semi_supervised_crossentropy,
    target_distribution,
)


def scale_for_replicas(loss):
    """Divides `loss` by the replicas of a `tf.distribute` strategy, if any.

    Under `tf.distribute` each replica computes eq. 8 on its share of the
    global batch (so P and the covariance of eqs. 3 and 5 are per replica)
    and the replicas' gradients are summed: dividing by their number makes
    the update that of the mean, as Keras's own losses do. JAX's
    `keras.distribution.DataParallel` compiles one program over the global
    batch (P is global) and needs no scaling; nor does a single device.
    """
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        replicas = tf.distribute.get_strategy().num_replicas_in_sync
        if replicas > 1:
            loss = loss / replicas
    return loss


@keras.saving.register_keras_serializable(package="mosi_keras")
class SemiSupervisedDEC(keras.Model):
    """Encoder + `ClusteringLayer` (+ decoder) trained on eq. 8 with `fit`.

    `call` returns `{"z", "q"}` (and `"reconstruction"`, a dict per modality,
    when there is a decoder). The loss is computed in `compute_loss`, which
    every backend's default `train_step` and `test_step` call, so the same
    code trains on TensorFlow, JAX and PyTorch, jit-compiled or not, and the
    target `P` is computed on the device inside the step:

    1. `Q` from the clustering layer (eq. 2), in float32;
    2. `P = target_distribution(Q)` (eq. 3) behind `stop_gradient`, with the
       cluster frequencies of the batch, or of the whole training set when a
       `TargetRefresh` callback has stored them in `cluster_frequency`;
    3. `cluster_weight·KL(P‖Q) + alpha·recon + beta·CE + gamma·disentangle`
       (eqs. 1, 4, 7, 6; eq. 8), each term reported as a metric
       (`cluster_loss`, `reconstruction_loss`, `supervised_loss`,
       `disentangle_loss`) beside `loss`.

    Train with `model.fit(x, y)`: `x` is the inputs dict of the encoder
    (features and `<modality>_mask`), `y` integer classes with `-1`
    (`mosi_keras.losses.UNLABELLED`) for unlabelled samples, or `None` for
    no supervision. Cluster `c` stands for class `c` (see
    `semi_supervised_crossentropy`), so `n_clusters` defaults to 2 for
    binary sentiment.

    Args:
        encoder: a model from `build_multimodal_encoder` (shared, not copied).
        decoder: optional model from `build_multimodal_decoder`; without one
            the reconstruction term is 0.
        n_clusters: number of clusters.
        kernel_alpha: degrees of freedom of the Student's t kernel (eq. 2).
        alpha, beta, gamma: weights of reconstruction, supervision and
            disentanglement in eq. 8. Defaults: the paper's clustering stage
            (0.1, 0.5, 0.0).
        cluster_weight: weight of the KL term (1 in eq. 8; 0 for the
            autoencoder stage).

    Example:

    >>> from applications import build_multimodal_encoder, build_multimodal_decoder
    >>> dims = {"text": 8, "audio": 4}
    >>> encoder = build_multimodal_encoder(dims, max_len=5, hidden_dim=8, num_heads=2)
    >>> decoder = build_multimodal_decoder(16, dims, max_len=5, hidden_dim=8)
    >>> dec = SemiSupervisedDEC(encoder, decoder, n_clusters=2)
    >>> dec.compile(optimizer="adam")

    References:
        Saadatinia et al., §3.3 and eqs. 1-8; Xie et al., ICML 2016.
    """

    def __init__(
        self,
        encoder,
        decoder=None,
        n_clusters=2,
        kernel_alpha=1.0,
        alpha=0.1,
        beta=0.5,
        gamma=0.0,
        cluster_weight=1.0,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.encoder = encoder
        self.decoder = decoder
        self.n_clusters = int(n_clusters)
        self.kernel_alpha = float(kernel_alpha)
        self.alpha, self.beta, self.gamma = float(alpha), float(beta), float(gamma)
        self.cluster_weight = float(cluster_weight)
        self.clustering = ClusteringLayer(n_clusters, alpha=kernel_alpha, name="clustering")
        if getattr(encoder, "output", None) is not None:
            # Centroids exist before `compile`, so the optimizer can be built
            # ahead of the first traced step (`training.build_optimizer`).
            self.clustering.build(encoder.output.shape)
        # Without the KL and supervised terms nothing pulls on the centroids.
        self.clustering.trainable = bool(self.cluster_weight or self.beta)
        self.cluster_frequency = self.add_weight(
            name="cluster_frequency", shape=(self.n_clusters,), initializer="zeros",
            trainable=False, dtype="float32",
        )
        self.term_trackers = {
            name: keras.metrics.Mean(name=name)
            for name in ("cluster_loss", "reconstruction_loss", "supervised_loss", "disentangle_loss")
        }

    @property
    def modalities(self):
        return [name for name in self.encoder.input if not name.endswith("_mask")]

    def call(self, inputs, training=None):
        z = self.encoder(inputs, training=training)
        outputs = {"z": z, "q": self.clustering(z)}
        if self.decoder is not None:
            outputs["reconstruction"] = self.decoder(z, training=training)
        return outputs

    def target(self, q):
        """Eq. 3 on the device, with dataset-wide frequencies once refreshed."""
        dataset_frequency = ops.convert_to_tensor(self.cluster_frequency)
        frequency = ops.where(
            ops.sum(dataset_frequency) > 0, dataset_frequency, ops.sum(q, axis=0)
        )
        return target_distribution(q, cluster_frequency=frequency)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        # The terms are the plain functions of mosi_keras.losses: unlike Loss
        # objects with a reduction, they do not rescale themselves under
        # tf.distribute, so the total is scaled once, below. A term whose
        # weight is 0 is not computed at all.
        q = y_pred["q"]
        zero = ops.zeros((), "float32")
        terms = {
            "cluster_loss": clustering_kl(self.target(q), q) if self.cluster_weight else zero,
            "reconstruction_loss": self.reconstruction_term(x, y_pred) if self.alpha else zero,
            "supervised_loss": semi_supervised_crossentropy(y, q) if (self.beta and y is not None) else zero,
            "disentangle_loss": disentanglement_loss(y_pred["z"]) if self.gamma else zero,
        }
        for name, value in terms.items():
            self.term_trackers[name].update_state(value)
        total = combined_dec_loss(
            terms["cluster_loss"], terms["reconstruction_loss"], terms["supervised_loss"],
            terms["disentangle_loss"], self.alpha, self.beta, self.gamma, self.cluster_weight,
        )
        for extra in self.losses:  # regularisers, if any
            total = total + ops.cast(extra, "float32")
        return scale_for_replicas(total)

    def reconstruction_term(self, x, y_pred):
        """Eq. 4, averaged over the modalities, padded steps excluded."""
        if self.decoder is None:
            return ops.zeros((), "float32")
        values = [
            masked_reconstruction_loss(x[name], y_pred["reconstruction"][name], x.get(mask_name(name)))
            for name in self.modalities
        ]
        return ops.mean(ops.stack(values))

    def get_config(self):
        return {
            "name": self.name,
            "encoder": keras.saving.serialize_keras_object(self.encoder),
            "decoder": None if self.decoder is None else keras.saving.serialize_keras_object(self.decoder),
            "n_clusters": self.n_clusters,
            "kernel_alpha": self.kernel_alpha,
            "alpha": self.alpha,
            "beta": self.beta,
            "gamma": self.gamma,
            "cluster_weight": self.cluster_weight,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["encoder"] = keras.saving.deserialize_keras_object(config["encoder"])
        if config.get("decoder") is not None:
            config["decoder"] = keras.saving.deserialize_keras_object(config["decoder"])
        return cls(**config)
