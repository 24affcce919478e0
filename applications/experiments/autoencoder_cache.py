"""Stage 1 of DEC pre-training, kept on disk for the runs that share it."""

import hashlib
import json
import os

import keras
import numpy as np

from applications.experiments.training import early_stopping
from applications.experiments.files import write_atomically, write_json_atomically


AUTOENCODER_FIELDS = (
    "backbone", "decoder_hidden_dim",
    "n_clusters", "pretrain_batch_size", "ae_epochs", "ae_learning_rate", "ae_reconstruction_weight",
    "ae_disentangle_weight", "ae_early_stopping", "patience", "pretrain_min_delta",
)
"""The `TrainingConfig` fields that stage 1 (the label-free autoencoder) depends on: the whole `backbone`
section (a new backbone argument is in the key without being named here), the decoder and stage 1's own."""


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
    if config.ae_early_stopping:  # otherwise nothing reads the validation loss: it is not computed
        callbacks = [early_stopping(config.patience, config.pretrain_min_delta), *callbacks]
    history = stage1.fit(x, y, config.pretrain_batch_size, epochs=config.ae_epochs, verbose=verbose,
                         validation_data=validation if config.ae_early_stopping else None,
                         callbacks=list(callbacks)).history
    history = {name: [float(v) for v in values] for name, values in history.items()}
    if paths is not None:
        os.makedirs(cache_dir, exist_ok=True)
        write_atomically(paths[0], stage1.save_weights, ".weights.h5")
        write_json_atomically(history, paths[1])  # last: stage 1 is kept
    return history, False
