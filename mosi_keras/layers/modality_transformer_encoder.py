"""Per-modality Transformer encoder with masked mean pooling."""

import keras
from keras import ops

from mosi_keras.layers.multi_head_self_attention import MultiHeadSelfAttention
from mosi_keras.layers.positional_encoding import PositionalEncoding


@keras.saving.register_keras_serializable(package="mosi_keras")
class ModalityTransformerEncoder(keras.layers.Layer):
    """Encodes one modality's feature sequence into a fixed-size embedding.

    The per-modality encoder of §3.2 of the paper: a linear projection of the
    modality's features to `hidden_dim`, the sinusoidal `PositionalEncoding`,
    `num_blocks` post-norm Transformer blocks (`MultiHeadSelfAttention` and a
    ReLU feed-forward network of `intermediate_dim` units, each followed by
    dropout, a residual connection and layer normalisation, as in PyTorch's
    `nn.TransformerEncoderLayer`), then the mean over the valid time steps.

    Padding is honoured everywhere: padded steps are never attended to and do
    not enter the mean. Utterance-level features are sequences of length 1.

    Args:
        hidden_dim: width of the projection and of the Transformer blocks.
            Must be divisible by `num_heads`. Defaults to `128`.
        num_blocks: number of Transformer blocks. Defaults to `2` (paper).
        num_heads: attention heads per block. Defaults to `4` (paper).
        intermediate_dim: units of the feed-forward network. Defaults to
            `256` (paper).
        dropout: dropout rate after attention and feed-forward. Defaults to
            `0.1`.
        return_sequences: if `True`, return the whole encoded sequence
            `(batch, time, hidden_dim)` instead of the mean-pooled embedding.
        layer_norm_epsilon: epsilon of the layer normalisations.
        **kwargs: standard `keras.layers.Layer` arguments.

    Call arguments:
        inputs: float tensor `(batch, time, features)`.
        mask: optional boolean (or 0/1) tensor `(batch, time)`, `True` on
            valid steps. When omitted, every step is valid (or the Keras mask
            of `inputs` is used, when it has one).
        training: whether dropout is active.

    Returns:
        `(batch, hidden_dim)`, or `(batch, time, hidden_dim)` with
        `return_sequences=True`. A sample with no valid step pools to zeros.

    Example:

    >>> import numpy as np
    >>> x = np.random.rand(4, 30, 74).astype("float32")
    >>> mask = np.arange(30)[None, :] < np.array([[30], [12], [5], [1]])
    >>> tuple(ModalityTransformerEncoder(hidden_dim=64)(x, mask=mask).shape)
    (4, 64)

    References:
        - Saadatinia et al., semi-supervised clustering for CMU-MOSI, §3.2.
        - Vaswani et al., "Attention is all you need", NeurIPS 2017.
    """

    def __init__(
        self,
        hidden_dim=128,
        num_blocks=2,
        num_heads=4,
        intermediate_dim=256,
        dropout=0.1,
        return_sequences=False,
        layer_norm_epsilon=1e-5,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if hidden_dim % num_heads != 0:
            raise ValueError(
                f"`hidden_dim` ({hidden_dim}) must be divisible by "
                f"`num_heads` ({num_heads})."
            )
        if num_blocks < 1:
            raise ValueError(f"`num_blocks` must be at least 1, got {num_blocks}.")
        self.hidden_dim = hidden_dim
        self.num_blocks = num_blocks
        self.num_heads = num_heads
        self.intermediate_dim = intermediate_dim
        self.dropout = dropout
        self.return_sequences = return_sequences
        self.layer_norm_epsilon = layer_norm_epsilon
        self.supports_masking = True

    def build(self, input_shape):
        sequence_shape = tuple(input_shape[:-1]) + (self.hidden_dim,)
        self.projection = keras.layers.Dense(
            self.hidden_dim, dtype=self.dtype_policy, name="projection"
        )
        self.projection.build(input_shape)
        self.positional_encoding = PositionalEncoding(
            dtype=self.dtype_policy, name="positional_encoding"
        )
        self.input_dropout = keras.layers.Dropout(self.dropout, dtype=self.dtype_policy)
        self.blocks = []
        for index in range(self.num_blocks):
            block = {
                "attention": MultiHeadSelfAttention(
                    num_heads=self.num_heads,
                    key_dim=self.hidden_dim // self.num_heads,
                    dropout=self.dropout,
                    dtype=self.dtype_policy,
                    name=f"block_{index}_attention",
                ),
                "attention_norm": keras.layers.LayerNormalization(
                    epsilon=self.layer_norm_epsilon,
                    dtype=self.dtype_policy,
                    name=f"block_{index}_attention_norm",
                ),
                "intermediate": keras.layers.Dense(
                    self.intermediate_dim,
                    activation="relu",
                    dtype=self.dtype_policy,
                    name=f"block_{index}_intermediate",
                ),
                "output": keras.layers.Dense(
                    self.hidden_dim, dtype=self.dtype_policy, name=f"block_{index}_output"
                ),
                "output_norm": keras.layers.LayerNormalization(
                    epsilon=self.layer_norm_epsilon,
                    dtype=self.dtype_policy,
                    name=f"block_{index}_output_norm",
                ),
                "dropout": keras.layers.Dropout(self.dropout, dtype=self.dtype_policy),
            }
            block["attention"].build(sequence_shape)
            block["attention_norm"].build(sequence_shape)
            block["intermediate"].build(sequence_shape)
            block["output"].build(
                tuple(input_shape[:-1]) + (self.intermediate_dim,)
            )
            block["output_norm"].build(sequence_shape)
            self.blocks.append(block)
        super().build(input_shape)

    def call(self, inputs, mask=None, training=None):
        if mask is None:
            mask = ops.ones(ops.shape(inputs)[:2], dtype="bool")
        mask = ops.cast(mask, "bool")
        # (batch, query, key): every query may attend to the valid keys only.
        attention_mask = ops.broadcast_to(
            mask[:, None, :], (ops.shape(mask)[0], ops.shape(mask)[1], ops.shape(mask)[1])
        )
        x = self.positional_encoding(self.projection(inputs))
        x = self.input_dropout(x, training=training)
        for block in self.blocks:
            attended = block["attention"](x, attention_mask=attention_mask, training=training)
            x = block["attention_norm"](
                x + block["dropout"](attended, training=training)
            )
            hidden = block["output"](block["intermediate"](x))
            x = block["output_norm"](x + block["dropout"](hidden, training=training))
        if self.return_sequences:
            return x
        return masked_mean(x, mask)

    def compute_mask(self, inputs, mask=None):
        return mask if self.return_sequences else None

    def compute_output_shape(self, input_shape):
        if self.return_sequences:
            return tuple(input_shape[:-1]) + (self.hidden_dim,)
        return (input_shape[0], self.hidden_dim)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "hidden_dim": self.hidden_dim,
                "num_blocks": self.num_blocks,
                "num_heads": self.num_heads,
                "intermediate_dim": self.intermediate_dim,
                "dropout": self.dropout,
                "return_sequences": self.return_sequences,
                "layer_norm_epsilon": self.layer_norm_epsilon,
            }
        )
        return config


def masked_mean(sequence, mask):
    """Mean of `sequence` `(batch, time, d)` over the steps where `mask` is true.

    A row with no valid step gives zeros rather than NaN.
    """
    weights = ops.cast(mask, sequence.dtype)[:, :, None]
    total = ops.sum(sequence * weights, axis=1)
    count = ops.maximum(ops.sum(weights, axis=1), ops.cast(1.0, sequence.dtype))
    return total / count
