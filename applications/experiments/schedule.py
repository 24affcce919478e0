"""The paper's training schedule (§4): baseline, DEC stages 1-2, fine-tuning."""

import dataclasses

import keras
import numpy as np
from sklearn.cluster import KMeans

from applications.callbacks import AssignmentChangeStopping, TargetRefresh
from applications.multimodal_backbone import MultimodalBackbone
from applications.multimodal_decoder import MultimodalDecoder
from applications.semi_supervised_dec import SemiSupervisedDEC
from applications.sentiment_classifier import SentimentClassifier
from applications.sentiment_regressor import SentimentRegressor
from applications.experiments.devices import resolve_jit_compile
from applications.experiments.feeding import fit_arguments, predict, validation_arguments
from mosi_keras.evaluation import clustering_metrics, match_clusters_to_classes

TASKS = {"classifier": SentimentClassifier, "regressor": SentimentRegressor}
"""The task class of each `Experiment.task`."""


def early_stopping(patience, min_delta=0.0):
    """Stops when `val_loss` has not improved by `min_delta` for `patience`
    epochs, and restores the best epoch's weights."""
    return keras.callbacks.EarlyStopping(
        monitor="val_loss", patience=patience, min_delta=min_delta, restore_best_weights=True, verbose=0
    )


def epochs_run(history):
    return len(next(iter(history.history.values()))) if history.history else 0


def build_optimizer(model):
    """Creates the optimizer's variables (Adam's moments) before `fit`.

    Otherwise the TensorFlow trainer creates them while it traces the first
    training step, and TensorFlow then traces that step a second time:
    about 3 s per `fit` for these models on the project's CPU, as long as
    some 30 epochs of utterance-level data. Harmless on the other backends.
    """
    model.optimizer.build(model.trainable_variables)
    return model


def compile_task(model, config):
    """Compiles a sentiment task with the config's Adam (learning rate,
    weight decay) and the task's default loss and metrics."""
    model.compile(
        optimizer=keras.optimizers.Adam(config.learning_rate, weight_decay=config.weight_decay),
        jit_compile=resolve_jit_compile(config.jit_compile),
        run_eagerly=config.run_eagerly,
    )
    return build_optimizer(model)


def build_backbone(config, feature_dims, max_len):
    """A new `MultimodalBackbone` with the config's sizes."""
    return MultimodalBackbone(feature_dims, max_len, **config.backbone_kwargs())


def build_task(task, config, feature_dims, max_len, backbone=None, preprocessor=None):
    """The `task` (`"classifier"` or `"regressor"`) with the config's head, on
    `backbone`, or on a new `MultimodalBackbone` with the config's sizes."""
    if backbone is None:
        backbone = build_backbone(config, feature_dims, max_len)
    return TASKS[task](backbone, config.head_units, config.head_dropout, preprocessor=preprocessor)


def train_task(task, train, validation, config, feature_dims, max_len, backbone=None,
               preprocessor=None, callbacks=(), verbose=0):
    """Trains a sentiment task on labelled rows: the baseline, or the
    fine-tuning of §4.3 when `backbone` is a pre-trained one.

    Args:
        task: `"classifier"` (targets: binary labels) or `"regressor"`
            (targets: sentiment scores).
        train, validation: `(inputs, targets)` pairs.
        backbone: the backbone to build the task on (trained with it): for
            fine-tuning, `pretrained.clone()` keeps the DEC model's own.
            `None`: a new one with the config's sizes (the baseline).
        preprocessor: the fitted `Preprocessor`, saved with the model.

    Returns:
        `(model, history)`; the model holds the weights of the epoch with
        the best validation loss.
    """
    model = build_task(task, config, feature_dims, max_len, backbone, preprocessor)
    compile_task(model, config)
    history = model.fit(
        **fit_arguments(train[0], np.asarray(train[1], "float32"), config.batch_size),
        **validation_arguments(validation[0], np.asarray(validation[1], "float32"), config.batch_size),
        epochs=config.epochs, verbose=verbose, callbacks=[early_stopping(config.patience), *callbacks],
    )
    return model, history


def weight_shift(before, after):
    """`‖after − before‖ / ‖before‖` over all the weights: how far training moved a model."""
    change = sum(float(np.sum((np.asarray(a) - np.asarray(b)) ** 2)) for a, b in zip(after, before))
    size = sum(float(np.sum(np.asarray(b) ** 2)) for b in before)
    return float(np.sqrt(change / size)) if size else 0.0


def initialize_centroids(dec, x, labels=None, n_init=20, seed=0, batch_size=256):
    """Sets the centroids from k-means (scikit-learn) on the backbone's embeddings.

    When `labels` (with `-1` for unlabelled) are given and there is one
    cluster per class, the k-means clusters are matched to the classes by
    the Hungarian assignment on the labelled rows
    (`mosi_keras.evaluation.match_clusters_to_classes`), so that cluster `c`
    starts where class `c` is (as `semi_supervised_crossentropy` expects).

    Returns:
        The initial hard assignments `(N,)`.
    """
    z = predict(dec.backbone, x, batch_size)
    kmeans = KMeans(dec.n_clusters, n_init=n_init, random_state=seed).fit(z)
    centres, assignments = kmeans.cluster_centers_, kmeans.labels_
    if labels is not None:
        labels = np.asarray(labels).reshape(-1)
        known = labels >= 0
        if known.any() and labels[known].max() < dec.n_clusters:
            mapping, _ = match_clusters_to_classes(assignments[known], labels[known], dec.n_clusters)
            centres = centres[np.argsort(mapping)]  # row c: the centre of the cluster matched to class c
            assignments = mapping[assignments]
    if not dec.clustering.built:
        dec.clustering.build((None, z.shape[1]))
    dec.clustering.centroids.assign(centres.astype("float32"))
    return assignments


def make_dec_stage(backbone, decoder, config, stage):
    """The DEC model with the loss weights of stage 1 (autoencoder:
    reconstruction + disentanglement) or stage 2 (clustering), compiled."""
    if stage == 1:
        weights = dict(cluster_weight=0.0, reconstruction_weight=config.ae_reconstruction_weight,
                       supervised_weight=0.0, disentangle_weight=config.ae_disentangle_weight)
        learning_rate = config.ae_learning_rate
    else:
        weights = dict(reconstruction_weight=config.dec_reconstruction_weight,
                       supervised_weight=config.dec_supervised_weight,
                       disentangle_weight=config.dec_disentangle_weight)
        learning_rate = config.dec_learning_rate
    dec = SemiSupervisedDEC(backbone, decoder, n_clusters=config.n_clusters, name=f"dec_stage_{stage}", **weights)
    dec.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        jit_compile=resolve_jit_compile(config.jit_compile),
        run_eagerly=config.run_eagerly,
    )
    return build_optimizer(dec)


@dataclasses.dataclass
class DECPretraining:
    """What `pretrain_dec` returns.

    Attributes:
        backbone: the pre-trained `MultimodalBackbone`.
        dec: the stage-2 `SemiSupervisedDEC` (it holds `backbone`).
        histories: `{"autoencoder": ..., "clustering": ...}` Keras histories.
        epochs: the epochs each stage ran.
        diagnostics: `cluster_diagnostics` at the k-means start of stage 2
            and after it, when `pretrain_dec` was given rows to diagnose.
    """

    backbone: MultimodalBackbone
    dec: SemiSupervisedDEC
    histories: dict
    epochs: dict
    diagnostics: dict = dataclasses.field(default_factory=dict)


def pretrain_dec(x, y, validation, config, feature_dims, max_len, seed=0, verbose=0, diagnose=None):
    """Stages 1 and 2 of §4.3 on labelled + unlabelled rows.

    Args:
        x: inputs of every training row; y: classes with `-1` for unlabelled.
        validation: `(inputs, classes)` of the validation videos, for early
            stopping of stage 1 (and of stage 2 with `dec_early_stopping`).
        diagnose: optional `(inputs, true classes)` on which to measure the
            clusters at the start and end of stage 2 (`cluster_diagnostics`);
            measurement only, never used for training or selection.

    Returns:
        A `DECPretraining`.
    """
    backbone = build_backbone(config, feature_dims, max_len)
    decoder = MultimodalDecoder.for_backbone(backbone, max_len, config.decoder_hidden_dim)
    stage1 = make_dec_stage(backbone, decoder, config, stage=1)
    feed = dict(**fit_arguments(x, y, config.batch_size), **validation_arguments(*validation, config.batch_size))
    history1 = stage1.fit(
        **feed, epochs=config.ae_epochs, verbose=verbose,
        callbacks=[early_stopping(config.patience, config.pretrain_min_delta)],
    )
    stage2 = make_dec_stage(backbone, decoder, config, stage=2)
    stage2(keras.tree.map_structure(lambda a: a[:1], x))  # build
    initialize_centroids(stage2, x, y, n_init=config.kmeans_n_init, seed=seed)
    callbacks = [early_stopping(config.patience, config.pretrain_min_delta)] if config.dec_early_stopping else []
    if config.update_interval:
        refresh = TargetRefresh(x, update_interval=config.update_interval)
        callbacks += [refresh, AssignmentChangeStopping(refresh, tol=config.tol)]
    diagnostics = {}
    if diagnose is not None:
        diagnostics["kmeans_start"] = cluster_diagnostics(stage2, x, *diagnose)
    # Without the rewind nothing reads stage 2's validation loss: skip computing it.
    feed2 = feed if config.dec_early_stopping else fit_arguments(x, y, config.batch_size)
    history2 = stage2.fit(**feed2, epochs=config.dec_epochs, verbose=verbose, callbacks=callbacks)
    if diagnose is not None:
        diagnostics["after_clustering"] = cluster_diagnostics(stage2, x, *diagnose)
    return DECPretraining(
        backbone=backbone,
        dec=stage2,
        histories={"autoencoder": history1.history, "clustering": history2.history},
        epochs={"autoencoder": epochs_run(history1), "clustering": epochs_run(history2)},
        diagnostics=diagnostics,
    )


def cluster_diagnostics(dec, x_train, x_eval, labels_eval):
    """How the clusters relate to sentiment: cluster accuracy, NMI and ARI of
    the hard assignments of `x_eval` against `labels_eval`, and the share of
    training rows in each cluster (a collapse shows as one share near 1)."""
    both = keras.tree.map_structure(lambda a, b: np.concatenate([a, b]), x_train, x_eval)  # one prediction
    clusters = predict(dec, both)["q"].argmax(1)
    train_clusters, eval_clusters = clusters[: len(clusters) - len(labels_eval)], clusters[-len(labels_eval):]
    shares = np.bincount(train_clusters, minlength=dec.n_clusters) / len(train_clusters)
    values = clustering_metrics(labels_eval, eval_clusters)
    values["train_cluster_shares"] = [round(float(share), 4) for share in shares]
    return values
