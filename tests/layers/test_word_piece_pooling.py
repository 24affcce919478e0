import numpy as np
import pytest
from keras import ops

from mosi_keras.layers import WordPiecePooling
from tests.layer_testing import run_layer_test

pytestmark = pytest.mark.backend_agnostic


def test_word_piece_pooling_passes_the_shared_layer_checks(tmp_path):
    run_layer_test(
        WordPiecePooling, {"max_words": 4}, np.random.default_rng(0).normal(size=(2, 7, 3)).astype("float32"),
        expected_output_shape=(2, 4, 3), expected_num_trainable_weights=0,
        call_kwargs={"word_index": np.array([[-1, 0, 0, 1, 2, -1, -1], [-1, 0, 1, 1, 1, 3, -1]], "int32")},
        tmp_path=tmp_path,
    )


def test_word_piece_pooling_averages_each_words_pieces_and_skips_special_tokens():
    states = np.arange(2 * 6 * 2, dtype="float32").reshape(2, 6, 2)
    word_index = np.array([[-1, 0, 0, 0, 1, -1], [-1, 0, 2, 2, -1, -1]])
    pooled = ops.convert_to_numpy(WordPiecePooling(3)(states, word_index))
    np.testing.assert_allclose(pooled[0, 0], states[0, 1:4].mean(axis=0))
    np.testing.assert_allclose(pooled[0, 1], states[0, 4])
    np.testing.assert_allclose(pooled[0, 2], 0.0)  # no piece: zeros
    np.testing.assert_allclose(pooled[1, 1], 0.0)
    np.testing.assert_allclose(pooled[1, 2], states[1, 2:4].mean(axis=0))


def test_word_piece_pooling_refuses_no_words():
    with pytest.raises(ValueError, match="max_words"):
        WordPiecePooling(0)


def test_word_piece_pooling_returns_the_mask_of_the_words_that_own_a_piece():
    states = np.ones((2, 5, 3), "float32")
    word_index = np.array([[-1, 0, 0, 1, -1], [-1, 0, 2, -1, -1]])
    vectors, mask = WordPiecePooling(4, return_mask=True)(states, word_index)
    assert tuple(vectors.shape) == (2, 4, 3)
    np.testing.assert_array_equal(ops.convert_to_numpy(mask), [[True, True, False, False], [True, False, True, False]])
    layer = WordPiecePooling.from_config(WordPiecePooling(4, return_mask=True).get_config())
    assert layer.return_mask and layer.compute_output_shape((2, 5, 3)) == ((2, 4, 3), (2, 4))
