import numpy as np
import pytest
from keras import ops

from mosi_keras.layers import RepeatToLength
from tests.layer_testing import run_layer_test

pytestmark = pytest.mark.backend_agnostic


def test_repeat_to_length_passes_the_shared_layer_checks(tmp_path):
    run_layer_test(
        RepeatToLength, {}, np.random.default_rng(0).normal(size=(2, 3)).astype("float32"),
        expected_output_shape=(2, 5, 3), expected_num_trainable_weights=0,
        call_kwargs={"reference": np.ones((2, 5), "int32")},
        tmp_path=tmp_path,
    )


def test_repeat_to_length_repeats_each_vector_over_the_references_steps():
    z = np.arange(6, dtype="float32").reshape(2, 3)
    repeated = ops.convert_to_numpy(RepeatToLength()(z, np.zeros((2, 4, 7))))
    assert repeated.shape == (2, 4, 3)
    np.testing.assert_array_equal(repeated, np.broadcast_to(z[:, None, :], (2, 4, 3)))
