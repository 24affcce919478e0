"""A keras-hub text backbone's last hidden states (`encoder_states`) and its word states
(`encoder_word_states`), as steps of a functional graph."""

import keras

from mosi_keras.layers.word_piece_pooling import WordPiecePooling


def encoder_states(backbone, token_ids, padding_mask):
    """The last hidden states `(batch, tokens, hidden)` of a keras-hub
    BERT-family backbone (`segment_ids`, where it takes them, all 0)."""
    feed = {"token_ids": token_ids, "padding_mask": padding_mask}
    if "segment_ids" in backbone.input:
        feed["segment_ids"] = keras.ops.zeros_like(token_ids)
    states = backbone(feed)
    return states["sequence_output"] if isinstance(states, dict) else states


def encoder_word_states(backbone, token_ids, padding_mask, word_index, max_words, return_mask=False,
                        name="text_words"):
    """Each word's state `(batch, max_words, hidden)`: the mean of its pieces'
    last states (`encoder_states`, then `WordPiecePooling`), with the word
    mask when `return_mask`. The one graph from word pieces to words: the
    backbone's text (`MultimodalBackbone`, `text_output="words"`) and the
    word states DEC pre-trains on (`TextFeaturizer`'s `word_encoder`) are
    both this function, so DEC's cached states are the fine-tuned model's
    inputs at its start."""
    states = encoder_states(backbone, token_ids, padding_mask)
    return WordPiecePooling(max_words, return_mask=return_mask, name=name)(states, word_index)
