import json

import keras
import numpy as np
import pytest

from mosi_keras.text_encoder import TextEncoderError
from mosi_keras.transcript_tokenizer import TranscriptTokenizer, transcript_words
from tests.text_encoder_testing import save_tiny_bert_preset


@pytest.fixture(scope="module")
def tokenizer(tmp_path_factory):
    return TranscriptTokenizer.from_preset(save_tiny_bert_preset(tmp_path_factory.mktemp("tiny_bert")),
                                           max_words=6, max_tokens=12)


def test_transcript_words_split_as_the_shared_files_do():
    assert transcript_words("I LOVED it's, 2 Movies!") == ["i", "loved", "it's", "2", "movies"]
    assert transcript_words("a b c d", max_words=2) == ["a", "b"]
    assert transcript_words("  ,, ") == ["."]


def test_tokenize_frames_the_pieces_and_maps_each_to_its_word(tokenizer):
    inputs, lengths = tokenizer(["unbelievable movie", "i"])
    np.testing.assert_array_equal(inputs["token_ids"], [[2, 17, 18, 19, 8, 3], [2, 5, 3, 0, 0, 0]])
    np.testing.assert_array_equal(inputs["word_index"], [[-1, 0, 0, 0, 1, -1], [-1, 0, -1, -1, -1, -1]])
    np.testing.assert_array_equal(inputs["padding_mask"], [[1] * 6, [1, 1, 1, 0, 0, 0]])
    np.testing.assert_array_equal(lengths, [2, 1])


def test_tokenize_cuts_pieces_past_the_token_limit_and_counts_only_words_it_kept(tokenizer):
    inputs, lengths = tokenizer(["unbelievable unbelievable unbelievable unbelievable"])
    assert inputs["token_ids"].shape == (1, 12)  # max_tokens: [CLS], 10 pieces, [SEP]
    np.testing.assert_array_equal(inputs["word_index"][0], [-1, 0, 0, 0, 1, 1, 1, 2, 2, 2, 3, -1])
    np.testing.assert_array_equal(lengths, [4])
    _, lengths = tokenizer(["i " * 20])
    np.testing.assert_array_equal(lengths, [6])  # max_words


def test_it_round_trips_through_its_config_with_its_vocabulary(tokenizer):
    config = json.loads(json.dumps(keras.saving.serialize_keras_object(tokenizer)))  # as a .keras file holds it
    twin = keras.saving.deserialize_keras_object(config, safe_mode=True)
    assert (twin.max_words, twin.max_tokens) == (6, 12)
    transcripts = ["unbelievable movie", "i loved this film"]  # "film": out of vocabulary
    for name, value in tokenizer(transcripts)[0].items():
        np.testing.assert_array_equal(twin(transcripts)[0][name], value)


def test_a_tokenizer_without_cls_and_sep_is_refused():
    import keras_hub

    plain = keras_hub.tokenizers.WordPieceTokenizer(vocabulary=["[UNK]", "a"])
    with pytest.raises(TextEncoderError, match="has no cls_token_id; a BERT-style word-piece encoder is needed"):
        TranscriptTokenizer(plain)
