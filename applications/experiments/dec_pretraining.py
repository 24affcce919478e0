"""DEC pre-training (§4.3) from a `TrainingConfig`: stage 1 (`SemiSupervisedDEC.autoencoder`), the k-means start
(`SemiSupervisedDEC.initialize_centroids`), stage 2 (clustering), and the transfer to the classifier."""

import dataclasses

import keras
import numpy as np

from applications.callbacks import AssignmentChangeStopping, TargetRefresh
from applications.multimodal_backbone import MultimodalBackbone
from applications.multimodal_decoder import MultimodalDecoder
from applications.semi_supervised_dec import SemiSupervisedDEC
from applications.experiments.autoencoder_cache import autoencoder_key, train_autoencoder
from applications.experiments.config import ConfigError
from applications.experiments.diagnostics import cluster_diagnostics
from applications.experiments.training import build_backbone, early_stopping, epochs_run
from mosi_keras.inputs import SAMPLE_INDEX


def make_dec_stage(backbone, decoder, config, stage, target_rows=0):
    """`SemiSupervisedDEC.autoencoder` (stage 1) or `SemiSupervisedDEC`
    (stage 2, clustering) with the config's loss weights, compiled at its
    rate; `target_rows` as in `SemiSupervisedDEC` (frozen per-row targets)."""
    if stage == 1:
        dec = SemiSupervisedDEC.autoencoder(backbone, decoder, config.n_clusters, name="dec_stage_1",
                                            reconstruction_weight=config.ae_reconstruction_weight,
                                            disentangle_weight=config.ae_disentangle_weight)
        learning_rate = config.ae_learning_rate
    else:
        dec = SemiSupervisedDEC(backbone, decoder, config.n_clusters, name="dec_stage_2", target_rows=target_rows,
                                cluster_weight=config.dec_cluster_weight,
                                reconstruction_weight=config.dec_reconstruction_weight,
                                supervised_weight=config.dec_supervised_weight,
                                disentangle_weight=config.dec_disentangle_weight)
        learning_rate = config.dec_learning_rate
    dec.compile(optimizer=keras.optimizers.Adam(learning_rate), jit_compile=config.jit_compile,
                run_eagerly=config.run_eagerly)
    return dec


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


def new_autoencoder(config, feature_dims, max_len, weights_from=None):
    """A new backbone with the config's sizes and its `MultimodalDecoder`;
    with `weights_from` (a DEC model), holding that model's weights."""
    backbone = build_backbone(config, feature_dims, max_len)
    decoder = MultimodalDecoder.for_backbone(backbone, max_len, config.decoder_hidden_dim)
    if weights_from is not None:
        backbone.set_weights(weights_from.backbone.get_weights())
        decoder.set_weights(weights_from.decoder.get_weights())
    return backbone, decoder


def transfer_modality_encoders(pretrained, backbone):
    """The transfer of §4.3: sets the `<modality>_encoder` weights of a new
    `backbone` to those of `pretrained` (DEC's) and returns `backbone`. The
    two may differ in how they read the text: DEC's reads a text encoder's
    cached word states (`text_states`), the new one may run that encoder
    live (fine-tuned from its own weights). Every weight of `pretrained`
    lives in those encoders, so nothing it learnt is left behind (checked)."""
    moved = 0
    for modality in pretrained.modalities:
        weights = pretrained.get_layer(f"{modality}_encoder").get_weights()
        backbone.get_layer(f"{modality}_encoder").set_weights(weights)
        moved += len(weights)
    if moved != len(pretrained.weights):
        raise ValueError(f"{pretrained.name} holds {len(pretrained.weights)} weights outside its modality encoders' "
                         f"{moved}: they would not be transferred.")
    return backbone


def train_clustering(stage2, x, y, validation, config, verbose=0, callbacks=()):
    """Stage 2 (`stage2.fit`, eq. 8 with every term) from its k-means start.

    With `update_interval`, the target's cluster frequencies (and, with
    `freeze_target`, every row's target) are refreshed over the whole
    training set (`TargetRefresh`) and training stops once the hard
    assignments settle (`AssignmentChangeStopping`); with
    `dec_early_stopping`, on the validation loss.

    Returns:
        The Keras `History`.
    """
    stopping = [early_stopping(config.patience, config.pretrain_min_delta)] if config.dec_early_stopping else []
    if config.update_interval:
        refresh = TargetRefresh(x, update_interval=config.update_interval)
        stopping += [refresh, AssignmentChangeStopping(refresh, tol=config.tol)]
    # Frozen targets are looked up by each row's index in `x` (TargetRefresh's order).
    fit_x = {**x, SAMPLE_INDEX: np.arange(len(y))} if stage2.target_rows else x
    # Without early stopping nothing reads stage 2's validation loss: it is not computed.
    return stage2.fit(fit_x, y, config.pretrain_batch_size, epochs=config.dec_epochs, verbose=verbose,
                      validation_data=validation if config.dec_early_stopping else None,
                      callbacks=stopping + list(callbacks))


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
    # Stages 1-2 never run a text encoder: with one, `x` holds its word states (`text_states.read_word_states`).
    config = dataclasses.replace(config, text_encoder=None)
    if config.freeze_target and not config.update_interval:
        raise ConfigError("freeze_target=True keeps each row's target between refreshes: set update_interval "
                          "(steps between refreshes) > 0 too.")

    def stage_callbacks(stage, epochs):
        return list(progress(stage, epochs)) if progress else []

    stage1 = make_dec_stage(*new_autoencoder(config, feature_dims, max_len), config, stage=1)
    key = None if autoencoder_cache is None else autoencoder_key(config, seed, x, validation[0])
    history1, reused = train_autoencoder(stage1, x, y, validation, config, verbose, autoencoder_cache, key,
                                         stage_callbacks("autoencoder", config.ae_epochs))
    # Stage 2 starts from the same random state however stage 1 was had:
    # reseeded, on new layers (whose dropout seed states stage 1 did not
    # advance) holding stage 1's weights.
    keras.utils.set_random_seed(seed)
    backbone, decoder = new_autoencoder(config, feature_dims, max_len, weights_from=stage1)
    stage2 = make_dec_stage(backbone, decoder, config, stage=2, target_rows=len(y) if config.freeze_target else 0)
    stage2(keras.tree.map_structure(lambda a: a[:1], x))  # build
    stage2.initialize_centroids(x, y, n_init=config.kmeans_n_init, seed=seed)
    diagnostics = {}
    if diagnose is not None:
        diagnostics["kmeans_start"] = cluster_diagnostics(stage2, x, *diagnose)
    history2 = train_clustering(stage2, x, y, validation, config, verbose,
                                stage_callbacks("clustering", config.dec_epochs))
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
