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
        **kwargs: standard `keras.layers.Layer` arguments.

    Call arguments:
        states: float `(batch, tokens, hidden)` token states.
        word_index: int `(batch, tokens)`: the word (`0 .. max_words - 1`)
            each token belongs to, `-1` for none.

    Returns:
        Float `(batch, max_words, hidden)` word vectors.

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

    def __init__(self, max_words, **kwargs):
        super().__init__(**kwargs)
        if int(max_words) < 1:
            raise ValueError(f"`max_words` must be at least 1, got {max_words}.")
        self.max_words = int(max_words)
        self.built = True

    def call(self, states, word_index):
        word_index = ops.cast(word_index, "int32")
        owner = ops.cast(ops.equal(word_index[:, :, None], ops.arange(self.max_words, dtype="int32")), states.dtype)
        sums = ops.einsum("btw,bth->bwh", owner, states)
        counts = ops.sum(owner, axis=1)[:, :, None]
        return sums / ops.maximum(counts, ops.cast(1, states.dtype))

    def compute_output_shape(self, states_shape, word_index_shape=None):
        return (states_shape[0], self.max_words, states_shape[-1])

    def get_config(self):
        config = super().get_config()
        config.update({"max_words": self.max_words})
        return config
