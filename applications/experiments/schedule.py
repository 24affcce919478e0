"""The paper's training schedule (§4): baseline, DEC stages 1-2, fine-tuning."""

import dataclasses
import hashlib
import json
import os

import keras
import numpy as np
from sklearn.cluster import KMeans

from applications.callbacks import AssignmentChangeStopping, TargetRefresh
from applications.contextual_sentiment_classifier import ContextualSentimentClassifier
from applications.multimodal_backbone import MultimodalBackbone
from applications.multimodal_decoder import MultimodalDecoder
from applications.semi_supervised_dec import SAMPLE_INDEX, SemiSupervisedDEC
from applications.sentiment_classifier import SentimentClassifier
from applications.sentiment_regressor import SentimentRegressor
from applications.experiments.config import MONITORS
from applications.experiments.devices import resolve_jit_compile
from applications.experiments.feeding import (
    fit_arguments, predict, steps_per_epoch, validation_arguments, video_fit_arguments, video_validation_arguments,
)
from applications.experiments.files import write_atomically, write_json_atomically
from mosi_keras.data.video import VideoView
from mosi_keras.evaluation import clustering_metrics, match_clusters_to_classes

TASKS = {
    "classifier": SentimentClassifier,
    "regressor": SentimentRegressor,
    "contextual_classifier": ContextualSentimentClassifier,
}
"""The task class of each `Experiment.task`."""


def early_stopping(patience, min_delta=0.0, monitor="val_loss"):
    """Stops when `monitor` (`val_loss`, or a classifier's `val_accuracy`)
    has not improved by `min_delta` for `patience` epochs, and restores the
    best epoch's weights."""
    if monitor not in MONITORS:
        raise ValueError(f"monitor must be one of {sorted(MONITORS)}, got {monitor!r}.")
    return keras.callbacks.EarlyStopping(
        monitor=monitor, mode=MONITORS[monitor], patience=patience, min_delta=min_delta,
        restore_best_weights=True, verbose=0,
    )


def epochs_run(history):
    """Epochs in a Keras `History` or its `history` dict."""
    values = getattr(history, "history", history)
    return len(next(iter(values.values()), []))


def build_optimizer(model):
    """Creates the optimizer's variables (Adam's moments) before `fit`.

    Otherwise the TensorFlow trainer creates them while it traces the first
    training step, and TensorFlow then traces that step a second time:
    about 3 s per `fit` for these models on the project's CPU, as long as
    some 30 epochs of utterance-level data. Harmless on the other backends.
    """
    model.optimizer.build(model.trainable_variables)
    return model


def learning_rate_schedule(config, learning_rate, total_steps):
    """The task's learning rate: `learning_rate` held (`lr_schedule="constant"`),
    or (`"cosine"`) a linear warm-up from 0 over `warmup_fraction` of
    `total_steps`, then a cosine decay to 0 at the last step (Keras's
    `CosineDecay`)."""
    if config.lr_schedule == "constant":
        return learning_rate
    if not total_steps:
        raise ValueError("lr_schedule='cosine' needs the number of training steps.")
    warmup = int(round(config.warmup_fraction * total_steps))
    return keras.optimizers.schedules.CosineDecay(
        0.0, decay_steps=max(1, total_steps - warmup), warmup_target=learning_rate, warmup_steps=warmup,
    )


def compile_task(model, config, learning_rate=None, total_steps=None):
    """Compiles a sentiment task with the config's Adam and the task's
    default loss and metrics.

    Adam's rate is `learning_rate` (default the config's) under the
    config's `lr_schedule` over `total_steps` training steps; weight decay
    `weight_decay`; with `use_ema`, Adam keeps a moving average of the
    weights (`ema_momentum`), which replaces them at the end of `fit`.
    """
    rate = learning_rate_schedule(config, learning_rate or config.learning_rate, total_steps)
    model.compile(
        optimizer=keras.optimizers.Adam(rate, weight_decay=config.weight_decay, use_ema=config.use_ema,
                                        ema_momentum=config.ema_momentum),
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
    options = {name: getattr(config, name) for name in TASKS[task].OPTIONS}  # the context encoder's sizes
    return TASKS[task](backbone, config.head_units, config.head_dropout, preprocessor=preprocessor, **options)


def task_feed(train, validation, config):
    """`fit`'s data arguments for a task: `(inputs, targets)` pairs, or
    `VideoView`s for the video-level task; no validation when `validation`
    is `None`."""
    if isinstance(train, VideoView):
        feed = video_fit_arguments(train, config.videos_per_batch)
        if validation is not None:
            feed.update(video_validation_arguments(validation, config.videos_per_batch))
        return feed
    feed = fit_arguments(train[0], np.asarray(train[1], "float32"), config.batch_size)
    if validation is not None:
        feed.update(validation_arguments(validation[0], np.asarray(validation[1], "float32"), config.batch_size))
    return feed


def train_task(task, train, validation, config, feature_dims, max_len, backbone=None,
               preprocessor=None, callbacks=(), verbose=0, learning_rate=None, epochs=None, model=None,
               initial_epoch=0):
    """Trains a sentiment task on labelled rows: the baseline, or the
    fine-tuning of §4.3 when `backbone` is a pre-trained one.

    With `config.early_stopping` (the paper's way) the task stops once
    `config.monitor` on `validation` has not improved for `patience` epochs
    and keeps its best epoch. Without it, every epoch runs (a fixed budget,
    usually with `lr_schedule="cosine"`) and the last weights are kept;
    `validation` is then only measured. With `use_ema`, the weights kept
    are the moving average's, and validation measures them
    (`keras.callbacks.SwapEMAWeights`).

    Args:
        task: `"classifier"` (targets: binary labels) or `"regressor"`
            (targets: sentiment scores).
        train, validation: `(inputs, targets)` pairs; for the video-level
            `"contextual_classifier"`, `VideoView`s with their labels.
            `validation` may be `None` without early stopping.
        backbone: the backbone to build the task on (trained with it): for
            fine-tuning, `pretrained.clone()` keeps the DEC model's own.
            `None`: a new one with the config's sizes (the baseline).
        preprocessor: the fitted `Preprocessor`, saved with the model.
        learning_rate: Adam's rate; default `config.learning_rate` (for
            fine-tuning, `run_experiment` passes `finetune_learning_rate`).
        epochs: the most epochs to run; default `config.epochs`.
        model: an already built task to train (a tuner's, which it may have
            warm-started); default: built from `config` on `backbone`.
        initial_epoch: `fit`'s, for a model that resumes (Hyperband).

    Returns:
        `(model, history)`.
    """
    if task == "regressor" and config.monitor != "val_loss":
        raise ValueError(f"monitor={config.monitor!r} is a classifier's; the regressor stops on val_loss.")
    if config.early_stopping and validation is None:
        raise ValueError("early stopping needs validation data.")
    epochs = epochs or config.epochs
    if model is None:
        model = build_task(task, config, feature_dims, max_len, backbone, preprocessor)
    feed = task_feed(train, validation, config)
    compile_task(model, config, learning_rate, total_steps=epochs * steps_per_epoch(feed))
    selection = []
    if config.use_ema:  # validate (and, stopping early, keep) the averaged weights
        selection.append(keras.callbacks.SwapEMAWeights(swap_on_epoch=config.early_stopping))
    if config.early_stopping:
        selection.append(early_stopping(config.patience, monitor=config.monitor))
    history = model.fit(**feed, epochs=epochs, verbose=verbose, callbacks=[*selection, *callbacks],
                        initial_epoch=initial_epoch)
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


def make_dec_stage(backbone, decoder, config, stage, target_rows=0):
    """The DEC model with the loss weights of stage 1 (autoencoder:
    reconstruction + disentanglement) or stage 2 (clustering), compiled;
    `target_rows` as in `SemiSupervisedDEC` (frozen per-row targets)."""
    if stage == 1:
        weights = dict(cluster_weight=0.0, reconstruction_weight=config.ae_reconstruction_weight,
                       supervised_weight=0.0, disentangle_weight=config.ae_disentangle_weight)
        learning_rate = config.ae_learning_rate
    else:
        weights = dict(cluster_weight=config.dec_cluster_weight,
                       reconstruction_weight=config.dec_reconstruction_weight,
                       supervised_weight=config.dec_supervised_weight,
                       disentangle_weight=config.dec_disentangle_weight)
        learning_rate = config.dec_learning_rate
    dec = SemiSupervisedDEC(backbone, decoder, n_clusters=config.n_clusters, name=f"dec_stage_{stage}",
                            target_rows=target_rows, **weights)
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
        autoencoder_reused: whether stage 1 was read from the cache (trained
            by another run) rather than trained here.
    """

    backbone: MultimodalBackbone
    dec: SemiSupervisedDEC
    histories: dict
    epochs: dict
    diagnostics: dict = dataclasses.field(default_factory=dict)
    autoencoder_reused: bool = False


AUTOENCODER_FIELDS = (
    "hidden_dim", "num_blocks", "num_heads", "intermediate_dim", "dropout", "word_dropout", "modality_dropout",
    "decoder_hidden_dim",
    "n_clusters", "pretrain_batch_size", "ae_epochs", "ae_learning_rate", "ae_reconstruction_weight",
    "ae_disentangle_weight", "ae_early_stopping", "patience", "pretrain_min_delta",
)
"""The `TrainingConfig` fields that stage 1 (the label-free autoencoder) depends on."""


def autoencoder_key(config, seed, x, validation_x):
    """A name for stage 1's result: it depends on these fields, the seed and
    the rows (not on labels), so runs that share them share stage 1."""
    digest = hashlib.sha256(json.dumps(
        {name: getattr(config, name) for name in AUTOENCODER_FIELDS} | {"seed": seed}, sort_keys=True
    ).encode())
    for rows in (x, validation_x):
        for name in sorted(rows):
            digest.update(name.encode() + np.ascontiguousarray(rows[name]).tobytes())
    return f"seed{seed}_{digest.hexdigest()[:16]}"


def train_autoencoder(stage1, x, y, validation, config, verbose=0, cache_dir=None, key=None, callbacks=()):
    """Stage 1 (`stage1.fit`), or its weights and history from `cache_dir`
    when a run with the same `key` (`autoencoder_key`) already trained it.

    Stage 1 sees no label (reconstruction and disentanglement only), so the
    DEC runs of one seed at every label fraction, and every experiment
    with DEC pre-training, train the very same autoencoder: `reproduce`
    trains it once per seed. The weights are written before the history,
    each through a temporary file renamed into place (`files`), so a run
    killed halfway leaves no stage 1 that looks finished.

    Returns:
        `(history, reused)`: the stage's Keras history dict, and whether it
        was read from `cache_dir` rather than trained.
    """
    paths = None
    if cache_dir is not None:
        stem = os.path.join(cache_dir, key)
        paths = stem + ".weights.h5", stem + ".json"
        if os.path.exists(paths[1]):
            stage1(keras.tree.map_structure(lambda a: a[:1], x))  # build, then load
            stage1.load_weights(paths[0])
            with open(paths[1]) as file:
                return json.load(file), True
    feed = fit_arguments(x, y, config.pretrain_batch_size)
    if config.ae_early_stopping:  # otherwise nothing reads the validation loss: it is not computed
        feed.update(validation_arguments(*validation, config.pretrain_batch_size))
        callbacks = [early_stopping(config.patience, config.pretrain_min_delta), *callbacks]
    history = stage1.fit(**feed, epochs=config.ae_epochs, verbose=verbose, callbacks=list(callbacks)).history
    history = {name: [float(v) for v in values] for name, values in history.items()}
    if paths is not None:
        os.makedirs(cache_dir, exist_ok=True)
        write_atomically(paths[0], stage1.save_weights, ".weights.h5")
        write_json_atomically(history, paths[1])  # last: stage 1 is kept
    return history, False


def pretrain_dec(x, y, validation, config, feature_dims, max_len, seed=0, verbose=0, diagnose=None,
                 autoencoder_cache=None, progress=None):
    """Stages 1 and 2 of §4.3 on labelled + unlabelled rows.

    Args:
        x: inputs of every training row; y: classes with `-1` for unlabelled.
        validation: `(inputs, classes)` of the validation videos, for early
            stopping of stage 1 with `ae_early_stopping` and of stage 2 with
            `dec_early_stopping`.
        seed: the random seed; stage 2 starts from `set_random_seed(seed)`
            whether stage 1 was trained here or read from the cache, so a
            run's result does not depend on which.
        diagnose: optional `(inputs, true classes)` on which to measure the
            clusters at the start and end of stage 2 (`cluster_diagnostics`);
            measurement only, never used for training or selection.
        autoencoder_cache: optional folder where stage 1's weights are kept
            and looked up (`train_autoencoder`).
        progress: optional `progress(stage, epochs)` → callbacks for the
            stage `"autoencoder"` or `"clustering"` (e.g. `StageProgress`).

    Returns:
        A `DECPretraining`.
    """
    if config.freeze_target and not config.update_interval:
        raise ValueError("freeze_target=True keeps each row's target between refreshes: set update_interval "
                         "(steps between refreshes) > 0 too.")

    def autoencoder(weights_from=None):
        backbone = build_backbone(config, feature_dims, max_len)
        decoder = MultimodalDecoder.for_backbone(backbone, max_len, config.decoder_hidden_dim)
        if weights_from is not None:
            backbone.set_weights(weights_from.backbone.get_weights())
            decoder.set_weights(weights_from.decoder.get_weights())
        return backbone, decoder

    stage1 = make_dec_stage(*autoencoder(), config, stage=1)
    key = None if autoencoder_cache is None else autoencoder_key(config, seed, x, validation[0])

    def stage_callbacks(stage, epochs):
        return list(progress(stage, epochs)) if progress else []

    history1, reused = train_autoencoder(stage1, x, y, validation, config, verbose, autoencoder_cache, key,
                                         stage_callbacks("autoencoder", config.ae_epochs))
    # Stage 2 starts from the same random state however stage 1 was had:
    # reseeded, on new layers (whose dropout seed states stage 1 did not
    # advance) holding stage 1's weights.
    keras.utils.set_random_seed(seed)
    backbone, decoder = autoencoder(weights_from=stage1)
    target_rows = len(y) if config.freeze_target else 0
    stage2 = make_dec_stage(backbone, decoder, config, stage=2, target_rows=target_rows)
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
    # Frozen targets are looked up by each row's index in `x` (TargetRefresh's order).
    fit_x = {**x, SAMPLE_INDEX: np.arange(len(y))} if target_rows else x
    feed = fit_arguments(fit_x, y, config.pretrain_batch_size)
    if config.dec_early_stopping:
        feed.update(validation_arguments(*validation, config.pretrain_batch_size))
    history2 = stage2.fit(**feed, epochs=config.dec_epochs, verbose=verbose,
                          callbacks=callbacks + stage_callbacks("clustering", config.dec_epochs))
    if diagnose is not None:
        diagnostics["after_clustering"] = cluster_diagnostics(stage2, x, *diagnose)
    return DECPretraining(
        backbone=backbone,
        dec=stage2,
        histories={"autoencoder": history1, "clustering": history2.history},
        epochs={"autoencoder": epochs_run(history1), "clustering": epochs_run(history2)},
        diagnostics=diagnostics,
        autoencoder_reused=reused,
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
