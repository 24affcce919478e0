"""The sentiment classifier trained on labelled and unlabelled rows at once (beyond the paper)."""

import keras
from keras import ops

from applications.sentiment_classifier import SentimentClassifier
from mosi_keras.layers import ClusteringLayer
from mosi_keras.losses import (
    LabelledBinaryCrossentropy, clustering_kl, confident_pseudo_label_crossentropy, mean_teacher_consistency,
    target_distribution,
)


@keras.saving.register_keras_serializable(package="mosi_keras")
class SemiSupervisedClassifier(SentimentClassifier):
    """A `SentimentClassifier` that also learns from unlabelled rows: by consistency, by DEC's clustering term.

    The consistency's teacher is the model itself (FixMatch) or a mean teacher.

    Its targets are binary labels with `UNLABELLED` (-1) on the rows without
    one. Each training step computes

        L = BCE(labelled rows) + unlabelled_weight · FixMatch(unlabelled rows)
            + cluster_weight · KL(P‖Q)(every row)

    where the second term (`confident_pseudo_label_crossentropy`) takes the
    model's own prediction on the clean input (inference mode: no dropout,
    no perturbation, no gradient) as the label of its prediction on the
    perturbed input (training mode), wherever that clean prediction is
    confident (`confidence_threshold`). With `teacher_momentum` > 0 the
    teacher is a mean teacher instead: the same model with the moving
    average of its weights (`teacher_variables`, moved toward the student's
    weights of before the step's update by `1 − teacher_momentum` in each
    training step), in inference mode, and the term is
    `mean_teacher_consistency`, the squared difference of the two
    probabilities over every row, labelled or not (no threshold). The
    perturbations are the
    backbone's training-time ones: `feature_noise` (Gaussian noise on the
    features), `word_dropout` (steps hidden from an encoder, `WordDropout`)
    and `modality_dropout` (a whole modality's embedding dropped); a
    backbone without any still has its dropout. The clean prediction is
    computed inside `compute_loss`, which every backend's `train_step`
    calls, so it runs on the device with the step. The third is DEC's
    clustering term (eq. 1) kept during fine-tuning: `Q` the Student's t
    assignments (eq. 2) of the backbone's embedding to the `clustering`
    layer's centroids (set them from a trained `SemiSupervisedDEC`'s), `P`
    its sharpened target (eq. 3, from the batch), over labelled and
    unlabelled rows alike, as in DEC's stage 2. Each term is reported
    (`consistency_loss`, `cluster_loss`) in the training steps that compute
    it. At inference it is the classifier: a saved model predicts as one.

    Args:
        backbone: a `MultimodalBackbone`, best with perturbations on.
        head_units, head_dropout, preprocessor: the classifier's.
        unlabelled_weight: the weight of the consistency term (λ_u).
        confidence_threshold: the clean prediction's confidence
            `max(p, 1 − p)` from which its label counts, in `[0.5, 1)`.
        teacher_momentum: `0` (default): the model is its own teacher
            (FixMatch); in `(0, 1)`: a mean teacher with this momentum.
        cluster_weight: the weight of the clustering term; `0` (default):
            none, and no `clustering` layer.
        n_clusters: the clustering layer's centroids (as DEC's).

    Call arguments:
        inputs: the backbone's inputs dict.

    Returns:
        Logits `(batch, 1)`.

    Example:

    >>> import numpy as np
    >>> from applications import MultimodalBackbone
    >>> backbone = MultimodalBackbone({"text": 6, "audio": 4}, max_len=5, hidden_dim=8, num_blocks=1,
    ...                               intermediate_dim=8, feature_noise=0.2, word_dropout=0.2)
    >>> model = SemiSupervisedClassifier(backbone, head_units=(8,))
    >>> model.compile()
    >>> x = {"text": np.ones((4, 5, 6), "float32"), "text_mask": np.ones((4, 5), "float32"),
    ...      "audio": np.ones((4, 5, 4), "float32"), "audio_mask": np.ones((4, 5), "float32")}
    >>> y = np.array([1, 0, -1, -1], "float32")  # two rows labelled, two not
    >>> _ = model.fit(x, y, batch_size=4, epochs=1, verbose=0)

    DEC's clusters kept while fine-tuning (`dec` a trained `SemiSupervisedDEC`):

    >>> kept = SemiSupervisedClassifier(backbone, head_units=(8,), unlabelled_weight=0.0, cluster_weight=1.0)
    >>> tuple(kept.clustering.centroids.shape)  # one centroid per class, in the backbone's embedding
    (2, 16)

    `kept.clustering.set_weights(dec.clustering.get_weights())`, then `compile` and `fit` as above.

    A mean teacher: `SemiSupervisedClassifier(backbone, teacher_momentum=0.99)`.

    References:
        Sohn et al., "FixMatch", NeurIPS 2020; Xie et al., "Unsupervised
        data augmentation for consistency training", NeurIPS 2020;
        Tarvainen & Valpola, "Mean teachers are better role models",
        NeurIPS 2017;
        Saadatinia et al., eqs. 1-3 (the clustering term).
    """

    OPTIONS = ("unlabelled_weight", "confidence_threshold", "teacher_momentum", "cluster_weight", "n_clusters")

    def __init__(self, backbone, head_units=(64, 32), head_dropout=0.3, preprocessor=None, unlabelled_weight=1.0,
                 confidence_threshold=0.8, teacher_momentum=0.0, cluster_weight=0.0, n_clusters=2, **kwargs):
        if not 0.5 <= confidence_threshold < 1.0:
            raise ValueError(f"`confidence_threshold` must be in [0.5, 1), got {confidence_threshold}.")
        if not 0.0 <= teacher_momentum < 1.0:
            raise ValueError(f"`teacher_momentum` must be in [0, 1), got {teacher_momentum}.")
        super().__init__(backbone, head_units, head_dropout, preprocessor, unlabelled_weight=unlabelled_weight,
                         confidence_threshold=confidence_threshold, teacher_momentum=teacher_momentum,
                         cluster_weight=cluster_weight, n_clusters=n_clusters, **kwargs)
        self.clustering = None
        if cluster_weight:
            self.clustering = ClusteringLayer(n_clusters, name="clustering")
            self.clustering.build(backbone.output.shape)
        # The mean teacher's weights, one for each trainable one, starting equal (saved with the model).
        self.teacher_variables = [
            keras.Variable(ops.copy(variable.value), trainable=False, name=f"teacher_{index}")
            for index, variable in enumerate(self.trainable_variables if teacher_momentum else ())
        ]
        self.term_trackers = {name: keras.metrics.Mean(name=name) for name in ("consistency_loss", "cluster_loss")}

    def assemble(self, backbone, head_units, head_dropout, **options):
        return super().assemble(backbone, head_units, head_dropout)  # the options act in training only

    def default_loss(self):
        return LabelledBinaryCrossentropy()  # the labelled rows' term; -1 rows are the consistency term's

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        loss = super().compute_loss(x, y, y_pred, sample_weight, training=training)
        # Known when the step is traced: the terms exist in training steps only, and `compute_metrics`
        # (called after this in every backend's train_step and test_step) reports those of the step only.
        self._step_terms = set()
        if not training or y is None:
            return loss
        if self.unlabelled_weight:
            loss = loss + self.unlabelled_weight * self.track("consistency_loss", self.consistency(x, y, y_pred))
        if self.cluster_weight:
            q = self.clustering(self.backbone(x, training=True))
            loss = loss + self.cluster_weight * self.track("cluster_loss", clustering_kl(target_distribution(q), q))
        return loss

    def consistency(self, x, y, y_pred):
        """The consistency term of `y_pred` (training mode): against the
        mean teacher on every row, or (FixMatch) against the model's own
        confident prediction on the clean unlabelled rows."""
        if self.teacher_momentum:
            return mean_teacher_consistency(self.mean_teacher(x), y_pred)
        unlabelled = ops.cast(ops.reshape(y, (-1,)) < 0, "float32")
        clean = self(x, training=False)
        return confident_pseudo_label_crossentropy(clean, y_pred, self.confidence_threshold, unlabelled)

    def mean_teacher(self, x):
        """The mean teacher's logits on `x` (this model with `teacher_variables`,
        in inference mode); then the teacher moves toward the student's
        weights by `1 − teacher_momentum`."""
        student = self.trainable_variables
        if len(student) != len(self.teacher_variables):
            raise ValueError(f"The mean teacher holds {len(self.teacher_variables)} weights, the model trains "
                             f"{len(student)}: its trainable weights changed after it was built (freeze or "
                             "unfreeze layers before building the SemiSupervisedClassifier).")
        logits, _ = self.stateless_call([teacher.value for teacher in self.teacher_variables],
                                        [variable.value for variable in self.non_trainable_variables], x,
                                        training=False)
        momentum = self.teacher_momentum
        for teacher, weights in zip(self.teacher_variables, student):
            teacher.assign(momentum * teacher.value + (1.0 - momentum) * ops.stop_gradient(weights.value))
        return ops.stop_gradient(logits)

    def track(self, name, term):
        """`term`, recorded by its tracker and reported by this step's `compute_metrics`."""
        self.term_trackers[name].update_state(term)
        self._step_terms.add(name)
        return term

    def compile(self, optimizer="auto", loss="auto", *, metrics="auto", **kwargs):
        """`SentimentTask.compile`; the default metrics are weighted ones
        (`weighted_metrics`), which `compute_metrics` gives weight 0 on the
        unlabelled rows: they count the labelled rows only."""
        if metrics == "auto" and "weighted_metrics" not in kwargs:
            metrics, kwargs["weighted_metrics"] = [], self.default_metrics()
        super().compile(optimizer, loss, metrics=metrics, **kwargs)

    def compute_metrics(self, x, y, y_pred, sample_weight=None):
        """The compiled metrics, with weight 0 on the unlabelled rows (the
        weighted ones count the labelled rows only); a term's loss in the
        steps that compute it only (no `val_consistency_loss`: validation
        has no term to report)."""
        y = ops.reshape(y, ops.shape(y_pred))
        labelled = ops.cast(y >= 0, "float32")
        weight = labelled if sample_weight is None else labelled * ops.reshape(sample_weight, ops.shape(y_pred))
        results = super().compute_metrics(x, ops.maximum(y, 0), y_pred, weight)
        return {name: value for name, value in results.items()
                if name not in self.term_trackers or name in getattr(self, "_step_terms", self.term_trackers)}
