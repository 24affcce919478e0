"""Decoder and multimodal autoencoder for DEC pre-training (§3.3)."""

import keras

from applications.sentiment_classifier import build_model_inputs, build_multimodal_encoder
from mosi_keras.layers import PositionalEncoding


def build_multimodal_decoder(latent_dim, feature_dims, max_len, hidden_dim=128, name="multimodal_decoder"):
    """Reconstructs every modality's sequence from the joint embedding `z`.

    Per modality: Dense(hidden_dim, ReLU) → repeated over `max_len` steps →
    `PositionalEncoding` (so the steps can differ) → Dense(hidden_dim, ReLU)
    → Dense(d) per step.

    Args:
        latent_dim: width of `z`.
        feature_dims: dict modality → feature width.
        max_len: steps to emit: one int for every modality, or a dict
            modality → steps when the modalities have different lengths.
        hidden_dim: width of the decoder's hidden layers.

    Returns:
        A functional `keras.Model` from `z` `(batch, latent_dim)` to a dict
        modality → `(batch, steps, d)`.
    """
    steps = max_len if isinstance(max_len, dict) else {name: max_len for name in feature_dims}
    if any(steps.get(name) is None for name in feature_dims):
        raise ValueError("the decoder needs a fixed length per modality to know how many steps to emit.")
    z = keras.Input((latent_dim,), name="z")
    outputs = {}
    for modality, dim in feature_dims.items():
        x = keras.layers.Dense(hidden_dim, activation="relu", name=f"{modality}_decoder_in")(z)
        x = keras.layers.RepeatVector(steps[modality], name=f"{modality}_decoder_repeat")(x)
        x = PositionalEncoding(name=f"{modality}_decoder_position")(x)
        x = keras.layers.Dense(hidden_dim, activation="relu", name=f"{modality}_decoder_hidden")(x)
        outputs[modality] = keras.layers.Dense(dim, name=f"{modality}_reconstruction", dtype="float32")(x)
    return keras.Model(z, outputs, name=name)


def build_multimodal_autoencoder(feature_dims, max_len, encoder=None, decoder_hidden_dim=128, **encoder_kwargs):
    """Encoder → latent `z` → decoder, as one functional model.

    The encoder is the very object passed in (or a new
    `build_multimodal_encoder`), so weights trained here are the classifier's
    once the same encoder is handed to `build_sentiment_classifier`.

    Returns:
        `(autoencoder, encoder, decoder)`; the autoencoder maps the inputs
        dict to `{"z": z, "<modality>": reconstruction, ...}`.
    """
    if encoder is None:
        encoder = build_multimodal_encoder(feature_dims, max_len, **encoder_kwargs)
    decoder = build_multimodal_decoder(encoder.output.shape[-1], feature_dims, max_len, decoder_hidden_dim)
    inputs = build_model_inputs(feature_dims, max_len)
    z = encoder(inputs)
    outputs = dict(decoder(z))
    outputs["z"] = z
    return keras.Model(inputs, outputs, name="multimodal_autoencoder"), encoder, decoder
