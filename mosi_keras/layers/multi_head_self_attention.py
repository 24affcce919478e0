"""Multi-head self-attention with one fused query/key/value projection."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="mosi_keras")
class MultiHeadSelfAttention(keras.layers.Layer):
    """Scaled dot-product self-attention over `num_heads` heads.

    The same maths as `keras.layers.MultiHeadAttention(num_heads, key_dim)`
    called with `query = value = key = inputs` (and as PyTorch's
    `nn.MultiheadAttention`): queries, keys and values are linear maps of
    the inputs, each head computes `softmax(q kᵀ / √key_dim) v` over the
    keys the mask allows, dropout is applied to the attention weights, and
    the heads are concatenated and projected back to the input width.

    The three input projections are one `Dense` layer of `3 · num_heads ·
    key_dim` units, and the heads are formed by reshaping, so every weight
    gradient is a plain matrix product. (`keras.layers.MultiHeadAttention`
    uses `EinsumDense`, whose kernel gradients TensorFlow computes as a
    batched product followed by a sum over the batch: on utterance-level
    inputs that made the classifier's training step twice as slow, see
    `docs/PERFORMANCE.md`.) Scores, masking and softmax run in float32
    under mixed precision.

    Args:
        num_heads: number of attention heads.
        key_dim: width of each head's queries, keys and values.
        dropout: dropout rate on the attention weights. Defaults to `0.0`.
        output_dim: width of the output; defaults to the input width.
        **kwargs: standard `keras.layers.Layer` arguments.

    Call arguments:
        inputs: float tensor `(batch, time, features)`.
        attention_mask: optional boolean (or 0/1) tensor `(batch, time,
            time)`, true where query `i` may attend to key `j`. A query that
            may attend to no key attends uniformly to all of them (as in
            `keras.layers.MultiHeadAttention`).
        training: whether dropout is active.

    Returns:
        `(batch, time, output_dim)`.

    Example:

    >>> import numpy as np
    >>> x = np.random.rand(2, 7, 16).astype("float32")
    >>> tuple(MultiHeadSelfAttention(num_heads=4, key_dim=4)(x).shape)
    (2, 7, 16)

    References:
        - Vaswani et al., "Attention is all you need", NeurIPS 2017, §3.2.
        - Saadatinia et al., semi-supervised clustering for CMU-MOSI, §3.2
          (4 heads per Transformer block).
    """

    def __init__(self, num_heads, key_dim, dropout=0.0, output_dim=None, **kwargs):
        super().__init__(**kwargs)
        if num_heads < 1 or key_dim < 1:
            raise ValueError(
                f"`num_heads` and `key_dim` must be positive, got {num_heads} and {key_dim}."
            )
        self.num_heads = num_heads
        self.key_dim = key_dim
        self.dropout = dropout
        self.output_dim = output_dim

    def build(self, input_shape):
        width = self.num_heads * self.key_dim
        self.query_key_value = keras.layers.Dense(
            3 * width, dtype=self.dtype_policy, name="query_key_value"
        )
        self.query_key_value.build(input_shape)
        self.attention_output = keras.layers.Dense(
            self.output_dim or input_shape[-1], dtype=self.dtype_policy, name="attention_output"
        )
        self.attention_output.build(tuple(input_shape[:-1]) + (width,))
        self.attention_dropout = keras.layers.Dropout(self.dropout, dtype=self.dtype_policy)
        super().build(input_shape)

    def split_heads(self, x):
        """`(batch, time, heads · key_dim)` → `(batch, heads, time, key_dim)`."""
        shape = ops.shape(x)
        x = ops.reshape(x, (shape[0], shape[1], self.num_heads, self.key_dim))
        return ops.transpose(x, (0, 2, 1, 3))

    def merge_heads(self, x):
        """`(batch, heads, time, key_dim)` → `(batch, time, heads · key_dim)`."""
        x = ops.transpose(x, (0, 2, 1, 3))
        shape = ops.shape(x)
        return ops.reshape(x, (shape[0], shape[1], self.num_heads * self.key_dim))

    def attention_weights(self, query, key, attention_mask=None):
        """`softmax(q kᵀ / √key_dim)` over the allowed keys, computed in float32."""
        scores = ops.matmul(query, ops.transpose(key, (0, 1, 3, 2)))
        scores = ops.cast(scores, "float32") / ops.sqrt(float(self.key_dim))
        if attention_mask is not None:
            allowed = ops.cast(attention_mask, "bool")[:, None, :, :]
            scores = ops.where(allowed, scores, -1e9)
        return ops.cast(ops.softmax(scores, axis=-1), self.compute_dtype)

    def call(self, inputs, attention_mask=None, training=None):
        query, key, value = (
            self.split_heads(part) for part in ops.split(self.query_key_value(inputs), 3, axis=-1)
        )
        if inputs.shape[1] == 1:
            # One key (utterance-level features): every attention weight is
            # exactly 1, masked or not, so each head returns its value.
            # Skipping the scores and the softmax changes nothing but time.
            ones = ops.ones((ops.shape(value)[0], self.num_heads, 1, 1), self.compute_dtype)
            attended = self.attention_dropout(ones, training=training) * value
        else:
            weights = self.attention_weights(query, key, attention_mask)
            attended = ops.matmul(self.attention_dropout(weights, training=training), value)
        return self.attention_output(self.merge_heads(attended))

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.output_dim or input_shape[-1],)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "num_heads": self.num_heads,
                "key_dim": self.key_dim,
                "dropout": self.dropout,
                "output_dim": self.output_dim,
            }
        )
        return config
