"""Word-piece pooling: one vector per word from a sub-word encoder's states."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="mosi_keras")
class WordPiecePooling(keras.layers.Layer):
    """Averages a text encoder's token states over the pieces of each word.

    A sub-word encoder (BERT, MiniLM) reads a transcript as word pieces;
    the kit's word-aligned layout wants one vector per word, so each word's
    vector is the mean of its pieces' states, as the shared MiniLM file was
    made. Tokens that belong to no word (`[CLS]`, `[SEP]`, padding) carry
    word index `-1` and are left out; a word with no piece (cut off by the
    token limit) gives a zero vector.

    Args:
        max_words: words per row in the output (`T` of the text modality).
        return_mask: also return the words' mask, `True` where a word owns
            at least one token (what a `ModalityTransformerEncoder` reading
            the words takes as `mask`). Defaults to `False`.
        **kwargs: standard `keras.layers.Layer` arguments.

    Call arguments:
        states: float `(batch, tokens, hidden)` token states.
        word_index: int `(batch, tokens)`: the word (`0 .. max_words - 1`)
            each token belongs to, `-1` for none.

    Returns:
        Float `(batch, max_words, hidden)` word vectors; with
        `return_mask`, `(vectors, mask)`, the mask bool `(batch, max_words)`.

    Example:

    >>> import numpy as np
    >>> states = np.array([[[9.0], [1.0], [3.0], [5.0], [9.0]]], "float32")
    >>> word_index = np.array([[-1, 0, 0, 1, -1]])
    >>> np.asarray(WordPiecePooling(max_words=3)(states, word_index))[0, :, 0].tolist()
    [2.0, 5.0, 0.0]

    References:
        The shared data's README (`cmu_mosi_words_minilm.npz`: "a word's
        vector is the mean of its pieces' last-layer states").
    """

    def __init__(self, max_words, return_mask=False, **kwargs):
        super().__init__(**kwargs)
        if int(max_words) < 1:
            raise ValueError(f"`max_words` must be at least 1, got {max_words}.")
        self.max_words = int(max_words)
        self.return_mask = bool(return_mask)
        self.built = True

    def call(self, states, word_index):
        word_index = ops.cast(word_index, "int32")
        owner = ops.cast(ops.equal(word_index[:, :, None], ops.arange(self.max_words, dtype="int32")), states.dtype)
        sums = ops.einsum("btw,bth->bwh", owner, states)
        counts = ops.sum(owner, axis=1)[:, :, None]
        vectors = sums / ops.maximum(counts, ops.cast(1, states.dtype))
        return (vectors, counts[:, :, 0] > 0) if self.return_mask else vectors

    def compute_output_shape(self, states_shape, word_index_shape=None):
        shape = (states_shape[0], self.max_words, states_shape[-1])
        return (shape, shape[:2]) if self.return_mask else shape

    def compute_output_spec(self, states, word_index):
        vectors = keras.KerasTensor((states.shape[0], self.max_words, states.shape[-1]), dtype=states.dtype)
        return (vectors, keras.KerasTensor(vectors.shape[:2], dtype="bool")) if self.return_mask else vectors

    def get_config(self):
        config = super().get_config()
        config.update({"max_words": self.max_words, "return_mask": self.return_mask})
        return config
