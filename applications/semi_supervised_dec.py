"""Semi-supervised multimodal Deep Embedded Clustering (§3.3, eqs. 1-8)."""

import keras
import numpy as np
from keras import ops

from applications.batching import PREDICT_BATCH_SIZE, BatchedFeedMixin, raw_dataset
from applications.devices import resolve_jit_compile
from applications.presets import PresetMixin
from applications.training_defaults import (
    AE_DISENTANGLE_WEIGHT, AE_LEARNING_RATE, AE_RECONSTRUCTION_WEIGHT, DEC_LEARNING_RATE,
)
from mosi_keras.data import binary_labels
from mosi_keras.evaluation import match_clusters_to_classes
from mosi_keras.inputs import SAMPLE_INDEX, UNLABELLED, is_mask_name, mask_name
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
class SemiSupervisedDEC(PresetMixin, BatchedFeedMixin, keras.Model):
    """Backbone + `ClusteringLayer` (+ decoder) trained on eq. 8 with `fit`.

    `call` returns `{"z", "q"}`; the decoder's reconstruction (`reconstruct`)
    is computed for the loss only. The loss is computed in `compute_loss`, which
    every backend's default `train_step` and `test_step` call, so the same
    code trains on TensorFlow, JAX and PyTorch, jit-compiled or not, and the
    target `P` is computed on the device inside the step:

    1. `Q` from the clustering layer (eq. 2), in float32;
    2. `P = target_distribution(Q)` (eq. 3) behind `stop_gradient`, with the
       cluster frequencies of the batch, or of the whole training set when a
       `TargetRefresh` callback has stored them in `cluster_frequency`; or,
       with `target_rows`, each row's `P` as the last refresh left it
       (frozen between refreshes, as in the original DEC), looked up on the
       device by the batch's `sample_index` input;
    3. `cluster_weight·KL(P‖Q) + reconstruction_weight·recon +
       supervised_weight·CE + disentangle_weight·disentangle` (eqs. 1, 4, 7,
       6; eq. 8, where the paper calls the last three weights α, β, γ), each
       term reported as a metric (`cluster_loss`, `reconstruction_loss`,
       `supervised_loss`, `disentangle_loss`) beside `loss`.

    The paper's two pre-training stages (§4.3) are two of these models on
    one backbone and decoder: stage 1 is `SemiSupervisedDEC.autoencoder`
    (eq. 8 with only the reconstruction and disentanglement terms; the
    centroids frozen); stage 2 is the model itself, started from
    `initialize_centroids(x, y)` (k-means of the embeddings, clusters
    matched to classes on the labelled rows). `compile()` gives each stage
    its own Adam rate.

    Train with `model.fit(x, y)`: `x` is the backbone's inputs dict
    (features and `<modality>_mask`), `y` integer classes with `-1`
    (`mosi_keras.losses.UNLABELLED`) for unlabelled samples, or `None` for
    no supervision. Cluster `c` stands for class `c` (see
    `semi_supervised_crossentropy`), so `n_clusters` defaults to 2 for
    binary sentiment. With a `preprocessor`, `fit`, `evaluate` and `predict`
    also take raw data, as a task does (`prepare`).

    Args:
        backbone: a `MultimodalBackbone` (shared, not copied), or any model
            from that inputs dict to `z`.
        decoder: optional `MultimodalDecoder` (called with `z` and the
            masks); without one the reconstruction term is 0.
        n_clusters: number of clusters.
        alpha: degrees of freedom of the Student's t kernel (eq. 2), as in
            `ClusteringLayer` and DEC. Defaults to `1.0`.
        cluster_weight: weight of `KL(P‖Q)` (1 in eq. 8; 0 in stage 1).
        reconstruction_weight: α of eq. 8. Defaults to `0.1` (stage 2).
        supervised_weight: β of eq. 8. Defaults to `0.5` (stage 2).
        disentangle_weight: γ of eq. 8. Defaults to `0.0` (stage 2).
        target_rows: `0` (default) computes `P` from the batch's current
            `Q` in every step. `N > 0` keeps a frozen `P` for each of the
            `N` training rows in the `frozen_target` weight, written by
            `TargetRefresh` every `update_interval` steps; `x` then carries
            `sample_index` (`SAMPLE_INDEX`: each row's index in `0..N-1`,
            the order `TargetRefresh` predicts in). Rows without it (e.g.
            validation) and steps before the first refresh use the batch's
            own `P`.
        preprocessor: optional fitted `mosi_keras.data.Preprocessor` of the
            training data, kept in the config (and a preset), for raw data.

    Example:

    >>> from applications import MultimodalBackbone, MultimodalDecoder
    >>> backbone = MultimodalBackbone({"text": 8, "audio": 4}, max_len=5, hidden_dim=8, num_heads=2)
    >>> decoder = MultimodalDecoder.for_backbone(backbone, hidden_dim=8)
    >>> autoencoder = SemiSupervisedDEC.autoencoder(backbone, decoder)  # stage 1: autoencoder.fit(x)
    >>> autoencoder.compile()
    >>> dec = SemiSupervisedDEC(backbone, decoder)  # stage 2, on the same backbone
    >>> dec.compile()  # then dec.initialize_centroids(x, y); dec.fit(x, y)

    References:
        Saadatinia et al., §3.3 and eqs. 1-8; Xie et al., ICML 2016.
    """

    def __init__(
        self,
        backbone,
        decoder=None,
        n_clusters=2,
        alpha=1.0,
        cluster_weight=1.0,
        reconstruction_weight=0.1,
        supervised_weight=0.5,
        disentangle_weight=0.0,
        target_rows=0,
        preprocessor=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.backbone = backbone
        self.preprocessor = preprocessor
        self.decoder = decoder
        self.n_clusters = int(n_clusters)
        self.alpha = float(alpha)
        self.cluster_weight = float(cluster_weight)
        self.reconstruction_weight = float(reconstruction_weight)
        self.supervised_weight = float(supervised_weight)
        self.disentangle_weight = float(disentangle_weight)
        self.target_rows = int(target_rows)
        self.clustering = ClusteringLayer(n_clusters, alpha=alpha, name="clustering")
        if getattr(backbone, "output", None) is not None:
            # Centroids exist before `compile`, so that `compile` can build the
            # optimizer ahead of the first traced step.
            self.clustering.build(backbone.output.shape)
        # Without the KL and supervised terms nothing pulls on the centroids.
        self.clustering.trainable = not self.is_autoencoder
        self.cluster_frequency = self.add_weight(
            name="cluster_frequency", shape=(self.n_clusters,), initializer="zeros",
            trainable=False, dtype="float32",
        )
        self.frozen_target = None
        if self.target_rows:
            self.frozen_target = self.add_weight(
                name="frozen_target", shape=(self.target_rows, self.n_clusters), initializer="zeros",
                trainable=False, dtype="float32",
            )
        self.term_trackers = {
            name: keras.metrics.Mean(name=name)
            for name in ("cluster_loss", "reconstruction_loss", "supervised_loss", "disentangle_loss")
        }

    @classmethod
    def autoencoder(cls, backbone, decoder, n_clusters=2, reconstruction_weight=AE_RECONSTRUCTION_WEIGHT,
                    disentangle_weight=AE_DISENTANGLE_WEIGHT, **kwargs):
        """Stage 1 of §4.3, the autoencoder: the model with eq. 8's
        reconstruction and disentanglement terms only (`cluster_weight=0`,
        `supervised_weight=0`, so the centroids are not trained), fitted on
        inputs alone (`fit(x)`). Its `compile()` defaults to Adam at
        `training_defaults.AE_LEARNING_RATE`.

        Args:
            backbone, decoder, n_clusters: as for the model.
            reconstruction_weight: α of eq. 8 in this stage. Defaults to
                `training_defaults.AE_RECONSTRUCTION_WEIGHT` (1.0).
            disentangle_weight: γ of eq. 8 in this stage. Defaults to
                `training_defaults.AE_DISENTANGLE_WEIGHT` (1e-3).
            **kwargs: the model's other arguments (`name`, ...).
        """
        return cls(backbone, decoder, n_clusters, cluster_weight=0.0, supervised_weight=0.0,
                   reconstruction_weight=reconstruction_weight, disentangle_weight=disentangle_weight, **kwargs)

    @property
    def is_autoencoder(self):
        """Whether this is stage 1 (no clustering or supervised term)."""
        return not (self.cluster_weight or self.supervised_weight)

    @property
    def modalities(self):
        return [name for name in self.backbone.input if not is_mask_name(name)]

    def call(self, inputs, training=None):
        if SAMPLE_INDEX in inputs:  # for the loss only (`target`)
            inputs = {name: value for name, value in inputs.items() if name != SAMPLE_INDEX}
        z = self.backbone(inputs, training=training)
        return {"z": z, "q": self.clustering(z)}

    def prepare(self, x, y=None, training=False):
        """`(inputs, targets)` for `fit` and `evaluate`: raw data
        (`raw_dataset`) through the preprocessor and, unless `y` is given,
        the dataset's binary labels as classes (every row `UNLABELLED` for a
        dataset without sentiment); anything else as it is. For `fit`
        (`training`) with `target_rows`, each row's `SAMPLE_INDEX` is its
        position (the order in which `TargetRefresh` predicts the same
        data); other data (validation) goes without, on its batches' `P`."""
        dataset = raw_dataset(x)
        if dataset is None:
            return x, y
        inputs = self.preprocess(dataset)
        if self.target_rows and training:
            inputs[SAMPLE_INDEX] = np.arange(len(dataset))
        if y is None:
            y = binary_labels(dataset.sentiment) if dataset.labelled else np.full(len(dataset), UNLABELLED)
        return inputs, y

    def compile(self, optimizer="auto", *, jit_compile="auto", **kwargs):
        """`keras.Model.compile`; `"auto"`: Adam at the stage's rate (what
        `reproduce` trains it with: `training_defaults.AE_LEARNING_RATE` for
        the `autoencoder`, `DEC_LEARNING_RATE` for the clustering stage)
        and, for `jit_compile`, the tasks' choice
        (`devices.resolve_jit_compile`). The optimizer's variables are
        created here, as a task's `compile` does, not in the first step:
        otherwise the TensorFlow trainer creates them while it traces the
        first training step, and traces that step a second time (about 3 s
        per `fit` on the project's CPU)."""
        if optimizer == "auto":
            optimizer = keras.optimizers.Adam(AE_LEARNING_RATE if self.is_autoencoder else DEC_LEARNING_RATE)
        super().compile(optimizer=optimizer, jit_compile=resolve_jit_compile(jit_compile), **kwargs)
        if self.clustering.built and not self.optimizer.built:
            self.optimizer.build(self.trainable_variables)

    def compile_from_config(self, config):
        """Compiles a loaded model as it was saved (Keras's own version skips
        models whose `compile` is overridden, with a warning)."""
        self.compile(**keras.saving.deserialize_keras_object(config))

    def initialize_centroids(self, x, labels=None, n_init=20, seed=0, batch_size=PREDICT_BATCH_SIZE):
        """The start of the clustering stage (§3.3, as DEC's): the centroids
        set to k-means (scikit-learn) of the backbone's embeddings `z` of `x`
        (model inputs or raw data).

        When `labels` (with `-1` for unlabelled) are given and there is one
        cluster per class, the k-means clusters are matched to the classes by
        the Hungarian assignment on the labelled rows
        (`mosi_keras.evaluation.match_clusters_to_classes`), so that cluster
        `c` starts where class `c` is (as `semi_supervised_crossentropy`
        expects).

        Returns:
            The initial hard assignments `(N,)`.
        """
        from sklearn.cluster import KMeans

        z = self.predict(x, batch_size, verbose=0)["z"]
        kmeans = KMeans(self.n_clusters, n_init=n_init, random_state=seed).fit(z)
        centres, assignments = kmeans.cluster_centers_, kmeans.labels_
        if labels is not None:
            labels = np.asarray(labels).reshape(-1)
            known = labels >= 0
            if known.any() and labels[known].max() < self.n_clusters:
                mapping, _ = match_clusters_to_classes(assignments[known], labels[known], self.n_clusters)
                centres = centres[np.argsort(mapping)]  # row c: the centre of the cluster matched to class c
                assignments = mapping[assignments]
        if not self.clustering.built:
            self.clustering.build((None, z.shape[1]))
        self.clustering.centroids.assign(centres.astype("float32"))
        return assignments

    def reconstruct(self, inputs, z):
        """The decoder's reconstruction of every modality from `z`, as long as
        the masks of `inputs` (computed for the loss, not by `call`, so that
        `predict` returns `z` and `Q` of any batch length)."""
        masks = {mask_name(name): ops.convert_to_tensor(inputs[mask_name(name)]) for name in self.modalities}
        return self.decoder({"z": z, **masks})

    def target(self, q, sample_index=None):
        """Eq. 3 on the device, with dataset-wide frequencies once refreshed;
        with `target_rows` and a `sample_index`, the rows' frozen targets
        once refreshed."""
        dataset_frequency = ops.convert_to_tensor(self.cluster_frequency)
        frequency = ops.where(
            ops.sum(dataset_frequency) > 0, dataset_frequency, ops.sum(q, axis=0)
        )
        p = target_distribution(q, cluster_frequency=frequency)
        if self.frozen_target is None or sample_index is None:
            return p
        frozen = ops.take(ops.convert_to_tensor(self.frozen_target), ops.cast(sample_index, "int32"), axis=0)
        return ops.where(ops.sum(frozen, axis=1, keepdims=True) > 0, frozen, p)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        # The terms are the plain functions of mosi_keras.losses: unlike Loss
        # objects with a reduction, they do not rescale themselves under
        # tf.distribute, so the total is scaled once, below. A term whose
        # weight is 0 is not computed at all.
        q = y_pred["q"]
        zero = ops.zeros((), "float32")
        terms = {
            "cluster_loss": (
                clustering_kl(self.target(q, x.get(SAMPLE_INDEX)), q) if self.cluster_weight else zero
            ),
            "reconstruction_loss": (
                self.reconstruction_term(x, y_pred["z"]) if self.reconstruction_weight else zero
            ),
            "supervised_loss": (
                semi_supervised_crossentropy(y, q) if (self.supervised_weight and y is not None) else zero
            ),
            "disentangle_loss": disentanglement_loss(y_pred["z"]) if self.disentangle_weight else zero,
        }
        for name, value in terms.items():
            self.term_trackers[name].update_state(value)
        total = combined_dec_loss(
            terms["cluster_loss"], terms["reconstruction_loss"], terms["supervised_loss"],
            terms["disentangle_loss"], reconstruction_weight=self.reconstruction_weight,
            supervised_weight=self.supervised_weight, disentangle_weight=self.disentangle_weight,
            cluster_weight=self.cluster_weight,
        )
        for extra in self.losses:  # regularisers, if any
            total = total + ops.cast(extra, "float32")
        return scale_for_replicas(total)

    def reconstruction_term(self, x, z):
        """Eq. 4, averaged over the modalities, padded steps excluded."""
        if self.decoder is None:
            return ops.zeros((), "float32")
        reconstruction = self.reconstruct(x, z)
        values = [
            masked_reconstruction_loss(x[name], reconstruction[name], x[mask_name(name)])
            for name in self.modalities
        ]
        return ops.mean(ops.stack(values))

    def get_config(self):
        return {
            **super().get_config(),  # name, trainable, dtype policy
            "backbone": keras.saving.serialize_keras_object(self.backbone),
            "decoder": None if self.decoder is None else keras.saving.serialize_keras_object(self.decoder),
            "n_clusters": self.n_clusters,
            "alpha": self.alpha,
            "cluster_weight": self.cluster_weight,
            "reconstruction_weight": self.reconstruction_weight,
            "supervised_weight": self.supervised_weight,
            "disentangle_weight": self.disentangle_weight,
            "target_rows": self.target_rows,
            "preprocessor": (
                None if self.preprocessor is None else keras.saving.serialize_keras_object(self.preprocessor)
            ),
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["backbone"] = keras.saving.deserialize_keras_object(config["backbone"])
        for name in ("decoder", "preprocessor"):
            if config.get(name) is not None:
                config[name] = keras.saving.deserialize_keras_object(config[name])
        return cls(**config)
