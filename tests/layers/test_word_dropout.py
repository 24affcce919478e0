import keras
import numpy as np
import pytest
from keras import ops

from mosi_keras.layers import WordDropout
from tests.conftest import save_and_reload
from tests.layer_testing import run_layer_test

pytestmark = pytest.mark.backend_agnostic


def padded_mask(lengths, steps=12):
    return (np.arange(steps)[None, :] < np.asarray(lengths)[:, None]).astype("int32")


def test_word_dropout_drops_about_rate_of_the_valid_steps_and_never_padding():
    mask = padded_mask(np.full(400, 10))
    kept = ops.convert_to_numpy(WordDropout(0.3, seed=0)(mask, training=True))
    assert kept.dtype == mask.dtype and kept.shape == mask.shape
    assert not kept[:, 10:].any()  # padding stays padding
    assert np.all(kept <= mask)
    assert 1 - kept.sum() / mask.sum() == pytest.approx(0.3, abs=0.02)


def test_word_dropout_never_empties_a_row():
    mask = padded_mask([1, 1, 2, 3] * 50)
    kept = ops.convert_to_numpy(WordDropout(0.9, seed=3)(mask, training=True))
    assert (kept.sum(axis=1) >= 1).all()
    whole = kept.sum(axis=1) == mask.sum(axis=1)
    assert whole[::4].all()  # a one-step row keeps its step


def test_word_dropout_is_off_at_inference():
    mask = padded_mask([3, 7, 12])
    np.testing.assert_array_equal(ops.convert_to_numpy(WordDropout(0.5)(mask)), mask)
    np.testing.assert_array_equal(ops.convert_to_numpy(WordDropout(0.5)(mask, training=False)), mask)


def test_word_dropout_config_round_trips_and_saves_in_a_model(tmp_path):
    layer = WordDropout(0.25, seed=4, name="drop")
    config = layer.get_config()
    assert WordDropout.from_config(config).get_config() == config
    assert layer.compute_output_shape((None, 12)) == (None, 12)
    inputs = keras.Input((12,), dtype="int32")
    model = keras.Model(inputs, WordDropout(0.25)(inputs))
    mask = padded_mask([4, 12])
    np.testing.assert_array_equal(ops.convert_to_numpy(save_and_reload(model, tmp_path)(mask)), mask)
    with pytest.raises(ValueError, match="rate"):
        WordDropout(1.0)


def test_word_dropout_passes_the_shared_layer_checks(tmp_path):
    run_layer_test(WordDropout, {"rate": 0.3, "seed": 0}, padded_mask([5, 9]).astype("float32"),
                   expected_output_shape=(2, 12), expected_num_trainable_weights=0, tmp_path=tmp_path)
