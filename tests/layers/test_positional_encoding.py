import numpy as np
import pytest

import keras
from keras import ops

from mosi_keras.layers import PositionalEncoding
from tests.layer_testing import run_layer_test

pytestmark = pytest.mark.backend_agnostic


def reference_encoding(length, width, max_wavelength=10000):
    encoding = np.zeros((length, width))
    for t in range(length):
        for i in range(0, width, 2):
            angle = t / max_wavelength ** (i / width)
            encoding[t, i] = np.sin(angle)
            if i + 1 < width:
                encoding[t, i + 1] = np.cos(angle)
    return encoding


@pytest.mark.parametrize("length,width", [(30, 8), (1, 5), (57, 7)])
def test_positional_encoding_matches_vaswani_sinusoids(length, width):
    x = np.zeros((2, length, width), "float32")
    out = ops.convert_to_numpy(PositionalEncoding()(x))
    np.testing.assert_allclose(out[0], reference_encoding(length, width), atol=1e-5)
    np.testing.assert_allclose(out[1], out[0])


def test_positional_encoding_is_added_to_the_inputs(rng):
    x = rng.normal(size=(3, 4, 6)).astype("float32")
    out = ops.convert_to_numpy(PositionalEncoding()(x))
    np.testing.assert_allclose(out - x, np.broadcast_to(reference_encoding(4, 6), x.shape), atol=1e-5)


def test_positional_encoding_works_for_any_length_in_one_model():
    inputs = keras.Input((None, 6))
    model = keras.Model(inputs, PositionalEncoding()(inputs))
    for length in (1, 30, 100):
        assert tuple(model(np.zeros((1, length, 6), "float32")).shape) == (1, length, 6)


def test_positional_encoding_runs_in_bfloat16_compute_dtype():
    layer = PositionalEncoding(dtype="mixed_bfloat16")
    out = layer(np.zeros((1, 30, 8), "float32"))
    assert keras.backend.standardize_dtype(out.dtype) == "bfloat16"
    np.testing.assert_allclose(
        ops.convert_to_numpy(ops.cast(out, "float32"))[0],
        reference_encoding(30, 8),
        atol=1e-2,
    )


def test_positional_encoding_passes_the_mask_through():
    mask = np.array([[True, False]])
    assert PositionalEncoding().compute_mask(np.zeros((1, 2, 4)), mask) is mask


def test_positional_encoding_rejects_wavelength_of_one():
    with pytest.raises(ValueError, match="max_wavelength"):
        PositionalEncoding(max_wavelength=1)


def test_positional_encoding_passes_the_shared_layer_checks(rng, tmp_path):
    run_layer_test(
        PositionalEncoding, {"max_wavelength": 100}, rng.normal(size=(2, 5, 4)).astype("float32"),
        expected_output_shape=(2, 5, 4), expected_num_trainable_weights=0, expected_num_params=0,
        tmp_path=tmp_path,
    )
