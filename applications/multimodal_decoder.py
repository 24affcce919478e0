"""The decoder of DEC pre-training: `z` back to every modality's sequence (§3.3)."""

import keras

from mosi_keras.inputs import mask_name
from mosi_keras.layers import PositionalEncoding, RepeatToLength


@keras.saving.register_keras_serializable(package="mosi_keras")
class MultimodalDecoder(keras.Model):
    """Reconstructs every modality's sequence from the joint embedding `z`.

    Per modality: Dense(hidden_dim, ReLU) → repeated over the steps of the
    modality's padding mask → `PositionalEncoding` (so the steps can differ)
    → Dense(hidden_dim, ReLU) → Dense(d) per step. It emits as many steps as
    the batch has (each step depends on `z` and its position only). With a
    backbone it makes the autoencoder whose reconstruction term is eq. 4.

    Args:
        latent_dim: width of `z` (the backbone's output width).
        feature_dims: dict modality → feature width.
        max_len: the mask inputs' length: `1` for utterance vectors, else
            free (`None`; an int or a dict modality → int is accepted and
            read the same way).
        hidden_dim: width of the decoder's hidden layers. Defaults to `128`.

    Call arguments:
        inputs: dict with `z` `(batch, latent_dim)` and `<modality>_mask`
            `(batch, T)` for every modality (the backbone's masks).

    Returns:
        dict modality → reconstruction `(batch, T, d)`.

    Example:

    >>> decoder = MultimodalDecoder(16, {"text": 8, "audio": 4}, max_len=5, hidden_dim=8)
    >>> {name: tuple(t.shape) for name, t in decoder.output.items()}
    {'text': (None, None, 8), 'audio': (None, None, 4)}

    References:
        Saadatinia et al., §3.3 and eq. 4 (Fig. 2).
    """

    def __init__(self, latent_dim, feature_dims, max_len=None, hidden_dim=128, name="multimodal_decoder", **kwargs):
        steps = dict(max_len) if isinstance(max_len, dict) else {modality: max_len for modality in feature_dims}
        inputs = {"z": keras.Input((latent_dim,), name="z")}
        outputs = {}
        for modality, dim in feature_dims.items():
            mask = keras.Input((1 if steps.get(modality) == 1 else None,), dtype="int32", name=mask_name(modality))
            inputs[mask_name(modality)] = mask
            x = keras.layers.Dense(hidden_dim, activation="relu", name=f"{modality}_decoder_in")(inputs["z"])
            x = RepeatToLength(name=f"{modality}_decoder_repeat")(x, mask)
            x = PositionalEncoding(name=f"{modality}_decoder_position")(x)
            x = keras.layers.Dense(hidden_dim, activation="relu", name=f"{modality}_decoder_hidden")(x)
            outputs[modality] = keras.layers.Dense(dim, name=f"{modality}_reconstruction", dtype="float32")(x)
        super().__init__(inputs=inputs, outputs=outputs, name=name, **kwargs)
        self.latent_dim = latent_dim
        self.feature_dims = dict(feature_dims)
        self.max_len = max_len
        self.hidden_dim = hidden_dim

    @classmethod
    def for_backbone(cls, backbone, max_len=None, hidden_dim=128):
        """The decoder that mirrors `backbone` (its width, modalities and,
        unless given, its `max_len`)."""
        return cls(backbone.output.shape[-1], backbone.feature_dims,
                   backbone.max_len if max_len is None else max_len, hidden_dim)

    def get_config(self):
        return {
            **super().get_config(),  # name, trainable, dtype policy
            "latent_dim": self.latent_dim,
            "feature_dims": self.feature_dims,
            "max_len": self.max_len,
            "hidden_dim": self.hidden_dim,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**config)
