"""The paper's multimodal encoder as a keras-hub style backbone (§3.2)."""

import keras

from mosi_keras.data import mask_name
from mosi_keras.layers import ModalityTransformerEncoder, WordDropout


def model_inputs(feature_dims, max_len=None):
    """One feature input `(T, d)` and one padding-mask input `(T,)` per modality.

    The time axis is free (`None`): a batch may be padded to any length up
    to `max_len`, e.g. only to its own longest member
    (`mosi_keras.data.LengthBucketedBatches`). Only utterance-level data
    (`max_len=1`) gets a fixed length of 1, which lets attention skip its
    scores (one key: every weight is 1).

    Masks are int32 (1 on valid steps, 0 on padding), as keras-hub's
    `padding_mask`; boolean arrays are converted on a single device, but
    `tf.distribute` strategies need integer masks.
    """
    time = 1 if max_len == 1 else None
    inputs = {}
    for modality, dim in feature_dims.items():
        inputs[modality] = keras.Input((time, dim), name=modality)
        inputs[mask_name(modality)] = keras.Input((time,), dtype="int32", name=mask_name(modality))
    return inputs


@keras.saving.register_keras_serializable(package="mosi_keras")
class MultimodalBackbone(keras.Model):
    """One `ModalityTransformerEncoder` per modality, mean-pooled and concatenated.

    The shared trunk of every task in `applications`: the sentiment
    classifier and regressor put a head on it, `SemiSupervisedDEC` clusters
    its output. A functional model whose `get_config` holds its
    hyper-parameters, so a `.keras` file rebuilds it exactly; reusing a
    pre-trained backbone is passing it to a task.

    Args:
        feature_dims: dict modality → feature width, e.g.
            `{"text": 300, "audio": 74, "visual": 35}`. The order is the
            order of concatenation.
        max_len: the longest sequence it is meant for (the decoder emits that
            many steps); batches may be shorter. `None`: no limit. `1`:
            utterance-level vectors.
        hidden_dim: width of each modality's encoder, so `z` has
            `len(feature_dims) * hidden_dim` units. Defaults to `128`.
        num_blocks, num_heads, intermediate_dim: Transformer blocks per
            encoder, attention heads, feed-forward units (paper: 2, 4, 256).
        dropout: dropout inside the encoders. Defaults to `0.1`.
        word_dropout: probability of hiding each valid time step of each
            modality from its encoder during training (`WordDropout`).
            Defaults to `0.0`.
        modality_dropout: probability of zeroing each modality's pooled
            embedding of a row during training (a Keras `Dropout` with
            `noise_shape=(None, 1)`, so a whole embedding goes at once and
            the kept ones are scaled by `1 / (1 - rate)`), so that the head
            learns not to lean on one modality. Defaults to `0.0`.

    Call arguments:
        inputs: dict with `<modality>` `(batch, T, d)` and `<modality>_mask`
            `(batch, T)` for every modality.

    Returns:
        The joint embedding `z`, `(batch, len(feature_dims) * hidden_dim)`.

    Example:

    >>> backbone = MultimodalBackbone({"text": 300, "audio": 74, "visual": 35})
    >>> backbone.output.shape
    (None, 384)

    References:
        Saadatinia et al., §3.2 (Fig. 1, left of the head).
    """

    def __init__(
        self,
        feature_dims,
        max_len=None,
        hidden_dim=128,
        num_blocks=2,
        num_heads=4,
        intermediate_dim=256,
        dropout=0.1,
        word_dropout=0.0,
        modality_dropout=0.0,
        name="multimodal_encoder",
        **kwargs,
    ):
        inputs = model_inputs(feature_dims, max_len)
        embeddings = []
        for modality in feature_dims:
            mask = inputs[mask_name(modality)]
            if word_dropout:
                mask = WordDropout(word_dropout, name=f"{modality}_word_dropout")(mask)
            embedding = ModalityTransformerEncoder(
                hidden_dim=hidden_dim,
                num_blocks=num_blocks,
                num_heads=num_heads,
                intermediate_dim=intermediate_dim,
                dropout=dropout,
                name=f"{modality}_encoder",
            )(inputs[modality], mask=mask)
            if modality_dropout:
                embedding = keras.layers.Dropout(
                    modality_dropout, noise_shape=(None, 1), name=f"{modality}_modality_dropout"
                )(embedding)
            embeddings.append(embedding)
        joint = embeddings[0] if len(embeddings) == 1 else keras.layers.Concatenate(name="fusion")(embeddings)
        super().__init__(inputs=inputs, outputs=joint, name=name, **kwargs)
        self.feature_dims = dict(feature_dims)
        self.max_len = max_len
        self.hidden_dim = hidden_dim
        self.num_blocks = num_blocks
        self.num_heads = num_heads
        self.intermediate_dim = intermediate_dim
        self.dropout = dropout
        self.word_dropout = word_dropout
        self.modality_dropout = modality_dropout

    @property
    def modalities(self):
        return list(self.feature_dims)

    def get_config(self):
        return {
            "name": self.name,
            "trainable": self.trainable,
            "feature_dims": self.feature_dims,
            "max_len": self.max_len,
            "hidden_dim": self.hidden_dim,
            "num_blocks": self.num_blocks,
            "num_heads": self.num_heads,
            "intermediate_dim": self.intermediate_dim,
            "dropout": self.dropout,
            "word_dropout": self.word_dropout,
            "modality_dropout": self.modality_dropout,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def clone(self):
        """A new backbone of the same configuration holding a copy of these
        weights (training one leaves the other as it was)."""
        twin = type(self).from_config(self.get_config())
        twin.set_weights(self.get_weights())
        return twin
