"""A text encoder's word states, computed once for DEC pre-training and kept on disk.

DEC's stages 1 and 2 (200 + 100 epochs) do not fine-tune the text encoder:
they train the modality encoders on what the encoder gives them. With the
encoder unchanged, that is the same for every epoch, seed and label
fraction, so it is computed once per data file and encoder (one forward
pass, in inference mode) and read as the `text` modality; stage 3 then
fine-tunes the live encoder under the pre-trained modality encoders
(`dec_pretraining.transfer_modality_encoders`). The states are exactly
what the live backbone hands its text `ModalityTransformerEncoder`,
unscaled on both paths: both are `mosi_keras.layers.encoder_word_states`,
so the two paths give the same embedding while the encoder is unchanged.
"""

import hashlib
import os

import keras
import numpy as np

from applications.experiments.files import write_atomically
from mosi_keras.data import LengthBucketedBatches, mask_name
from mosi_keras.inputs import TEXT, TOKEN_INPUTS
from mosi_keras.text_encoder import load_text_backbone
from mosi_keras.text_featurizer import word_encoder

TEXT_STATES_DIR = "text_states"
"""The folder of a run's `out_dir` where the word states are kept for every run that shares them."""


def word_states(encoder, inputs, max_words, batch_size=64):
    """`{"text": (N, max_words, hidden), "text_mask": (N, max_words)}`: the
    word vectors a keras-hub `encoder` gives the token inputs of `inputs`
    (`TOKEN_INPUTS`), in inference mode, and the mask of the words that own
    a token — what a `MultimodalBackbone`'s `WordPiecePooling` computes.
    Rows go through in length buckets, each cut to its longest."""
    model = word_encoder(encoder, max_words)
    tokens = {name: inputs[name] for name in TOKEN_INPUTS.values()}
    batches = LengthBucketedBatches(tokens, batch_size=batch_size, shuffle=False)
    states = np.concatenate([
        keras.ops.convert_to_numpy(model({short: batch[name] for short, name in TOKEN_INPUTS.items()},
                                         training=False))
        for batch in batches])
    word_index = np.asarray(inputs[TOKEN_INPUTS["word_index"]])
    mask = (word_index[:, :, None] == np.arange(max_words)).any(axis=1)
    return {TEXT: batches.restore_order(states).astype("float32"), mask_name(TEXT): mask.astype("int32")}


def states_key(encoder_folder, inputs, max_words):
    """A name for the states: a digest of the encoder folder's files (of a
    keras-hub handle, its name), the token inputs and `max_words` (a
    changed encoder or data gets new states)."""
    digest = hashlib.sha256(str(max_words).encode())
    if os.path.isdir(encoder_folder):
        names = sorted(os.listdir(encoder_folder))
    else:  # a keras-hub handle: its name (keras-hub keeps the files)
        digest.update(os.fspath(encoder_folder).encode())
        names = []
    for name in names:
        path = os.path.join(encoder_folder, name)
        if os.path.isfile(path):
            with open(path, "rb") as file:
                digest.update(name.encode() + hashlib.sha256(file.read()).digest())
    for name in sorted(TOKEN_INPUTS.values()):
        digest.update(name.encode() + np.ascontiguousarray(inputs[name]).tobytes())
    return digest.hexdigest()[:16]


def cached_word_states(encoder_folder, inputs, max_words, cache_dir=None):
    """`word_states` of the encoder in `encoder_folder` (a preset folder),
    read from `cache_dir` when a run already computed them for the same
    encoder, tokens and `max_words` (`states_key`), else computed and
    written there (through a temporary file: a killed run leaves none
    half-written).

    Returns:
        `(states, reused)`.
    """
    key = states_key(encoder_folder, inputs, max_words)
    path = None if cache_dir is None else os.path.join(cache_dir, key + ".npz")
    if path is not None and os.path.exists(path):
        with np.load(path) as kept:
            return {name: kept[name] for name in (TEXT, mask_name(TEXT))}, True
    states = word_states(load_text_backbone(encoder_folder), inputs, max_words)
    if path is not None:
        os.makedirs(cache_dir, exist_ok=True)
        write_atomically(path, lambda partial: np.savez(partial, **states))
    return states, False


def read_word_states(prepared, text_encoder, out_dir=None):
    """With a `text_encoder`, gives `prepared` (a `PreparedExperiment`) its
    word states (`cached_word_states`, kept under `out_dir`'s
    `TEXT_STATES_DIR`), which DEC's stages 1-2 then read as the text
    (`PreparedExperiment.dec_rows`); without one, nothing. Returns `prepared`."""
    if text_encoder:
        cache = None if out_dir is None else os.path.join(out_dir, TEXT_STATES_DIR)
        prepared.text_states, _ = cached_word_states(text_encoder, prepared.inputs, prepared.max_len, cache)
    return prepared
