import numpy as np
import pytest

from keras import ops

from mosi_keras.layers import ModalityTransformerEncoder
from tests.layer_testing import run_layer_test

pytestmark = pytest.mark.backend_agnostic


def lengths_to_mask(lengths, time):
    return np.arange(time)[None, :] < np.asarray(lengths)[:, None]


@pytest.fixture
def batch(rng):
    x = rng.normal(size=(4, 10, 7)).astype("float32")
    return x, lengths_to_mask([10, 6, 3, 1], 10)


def test_encoder_ignores_values_at_padded_steps(batch):
    x, mask = batch
    layer = ModalityTransformerEncoder(hidden_dim=16)
    reference = ops.convert_to_numpy(layer(x, mask=mask))
    corrupted = x.copy()
    corrupted[~mask] = 1e3
    np.testing.assert_allclose(
        ops.convert_to_numpy(layer(corrupted, mask=mask)), reference, atol=1e-5
    )


def test_encoder_pooled_output_is_the_mean_of_valid_steps(batch):
    x, mask = batch
    pooled = ModalityTransformerEncoder(hidden_dim=16, name="enc")
    pooled(x, mask=mask)
    sequences = ModalityTransformerEncoder(hidden_dim=16, return_sequences=True)
    sequences(x, mask=mask)
    sequences.set_weights(pooled.get_weights())
    seq = ops.convert_to_numpy(sequences(x, mask=mask))
    expected = np.stack([seq[i, mask[i]].mean(axis=0) for i in range(len(x))])
    np.testing.assert_allclose(
        ops.convert_to_numpy(pooled(x, mask=mask)), expected, atol=1e-5
    )


def test_encoder_without_mask_equals_all_valid_mask(batch):
    x, _ = batch
    layer = ModalityTransformerEncoder(hidden_dim=16)
    full = np.ones(x.shape[:2], bool)
    np.testing.assert_allclose(
        ops.convert_to_numpy(layer(x)), ops.convert_to_numpy(layer(x, mask=full)), atol=1e-6
    )


def test_encoder_accepts_utterance_vectors_as_length_one_sequences(rng):
    x = rng.normal(size=(3, 1, 100)).astype("float32")
    assert tuple(ModalityTransformerEncoder(hidden_dim=8, num_heads=2)(x).shape) == (3, 8)


def test_encoder_rejects_hidden_dim_not_divisible_by_heads():
    with pytest.raises(ValueError, match="divisible"):
        ModalityTransformerEncoder(hidden_dim=10, num_heads=4)


def test_encoder_paper_defaults():
    layer = ModalityTransformerEncoder()
    assert (layer.num_blocks, layer.num_heads, layer.intermediate_dim) == (2, 4, 256)


@pytest.mark.parametrize("return_sequences,shape", [(False, (4, 8)), (True, (4, 10, 8))])
def test_encoder_passes_the_shared_layer_checks(batch, tmp_path, return_sequences, shape):
    x, mask = batch
    run_layer_test(
        ModalityTransformerEncoder,
        dict(hidden_dim=8, num_heads=2, intermediate_dim=16, return_sequences=return_sequences),
        x, expected_output_shape=shape, call_kwargs={"mask": mask},
        # projection 2 + 2 blocks × (attention 4, two norms 4, feed-forward 4)
        expected_num_trainable_weights=26, expected_num_params=1264, tmp_path=tmp_path,
    )
