import numpy as np
import pytest

import keras
from keras import ops

from mosi_keras.layers import MultiHeadSelfAttention
from tests.layer_testing import run_layer_test

pytestmark = pytest.mark.backend_agnostic

HEADS, KEY_DIM, WIDTH, TIME = 4, 3, 10, 6


@pytest.fixture
def batch(rng):
    x = rng.normal(size=(3, TIME, WIDTH)).astype("float32")
    valid = np.arange(TIME)[None, :] < np.array([[6], [4], [1]])
    return x, valid[:, None, :] & np.ones((1, TIME, 1), bool)


def keras_attention_with_same_weights(layer):
    """A `keras.layers.MultiHeadAttention` holding `layer`'s weights."""
    reference = keras.layers.MultiHeadAttention(HEADS, KEY_DIM)
    reference.build((None, TIME, WIDTH), (None, TIME, WIDTH))
    qkv_kernel, qkv_bias, out_kernel, out_bias = layer.get_weights()
    weights = []
    for part in range(3):
        columns = slice(part * HEADS * KEY_DIM, (part + 1) * HEADS * KEY_DIM)
        weights += [
            qkv_kernel[:, columns].reshape(WIDTH, HEADS, KEY_DIM),
            qkv_bias[columns].reshape(HEADS, KEY_DIM),
        ]
    weights += [out_kernel.reshape(HEADS, KEY_DIM, WIDTH), out_bias]
    reference.set_weights(weights)
    return reference


def test_self_attention_matches_keras_multi_head_attention(batch):
    x, attention_mask = batch
    layer = MultiHeadSelfAttention(HEADS, KEY_DIM)
    ours = ops.convert_to_numpy(layer(x, attention_mask=attention_mask))
    reference = keras_attention_with_same_weights(layer)
    expected = ops.convert_to_numpy(reference(x, x, attention_mask=attention_mask))
    np.testing.assert_allclose(ours, expected, atol=1e-5)


@pytest.mark.parametrize("masked", [False, True])
def test_self_attention_over_one_step_matches_keras_multi_head_attention(rng, masked):
    x = rng.normal(size=(3, 1, WIDTH)).astype("float32")
    attention_mask = np.full((3, 1, 1), not masked)
    layer = MultiHeadSelfAttention(HEADS, KEY_DIM)
    ours = ops.convert_to_numpy(layer(x, attention_mask=attention_mask))
    reference = keras_attention_with_same_weights(layer)
    expected = ops.convert_to_numpy(reference(x, x, attention_mask=attention_mask))
    np.testing.assert_allclose(ours, expected, atol=1e-5)


def test_self_attention_ignores_masked_keys(batch):
    x, attention_mask = batch
    layer = MultiHeadSelfAttention(HEADS, KEY_DIM)
    reference = ops.convert_to_numpy(layer(x, attention_mask=attention_mask))
    corrupted = x.copy()
    corrupted[1, 4:] = 1e3  # steps no query of row 1 may attend to
    out = ops.convert_to_numpy(layer(corrupted, attention_mask=attention_mask))
    np.testing.assert_allclose(out[1, :4], reference[1, :4], atol=1e-5)


def test_self_attention_output_shape_and_width(batch):
    x, _ = batch
    layer = MultiHeadSelfAttention(HEADS, KEY_DIM, output_dim=5)
    assert tuple(layer(x).shape) == (3, TIME, 5)
    assert layer.compute_output_shape((None, TIME, WIDTH)) == (None, TIME, 5)
    assert MultiHeadSelfAttention(2, 8).compute_output_shape((None, 1, 7)) == (None, 1, 7)


def test_self_attention_dropout_acts_only_in_training(batch):
    x, _ = batch
    layer = MultiHeadSelfAttention(HEADS, KEY_DIM, dropout=0.5)
    inference = [ops.convert_to_numpy(layer(x)) for _ in range(2)]
    np.testing.assert_allclose(inference[0], inference[1])
    assert not np.allclose(ops.convert_to_numpy(layer(x, training=True)), inference[0])


def test_self_attention_rejects_non_positive_sizes():
    with pytest.raises(ValueError, match="num_heads"):
        MultiHeadSelfAttention(0, 4)


def test_self_attention_is_finite_under_mixed_float16_with_fully_masked_rows(batch):
    x, attention_mask = batch
    attention_mask = attention_mask.copy()
    attention_mask[2] = False  # a sample with no valid step at all
    keras.config.set_dtype_policy("mixed_float16")
    out = MultiHeadSelfAttention(HEADS, KEY_DIM)(x, attention_mask=attention_mask)
    assert keras.backend.standardize_dtype(out.dtype) == "float16"
    assert np.all(np.isfinite(ops.convert_to_numpy(ops.cast(out, "float32"))))


def test_self_attention_passes_the_shared_layer_checks(batch, tmp_path):
    x, attention_mask = batch
    run_layer_test(
        MultiHeadSelfAttention, dict(num_heads=HEADS, key_dim=KEY_DIM, output_dim=5), x,
        expected_output_shape=(3, TIME, 5), call_kwargs={"attention_mask": attention_mask},
        # fused query/key/value and output projections, kernel and bias each
        expected_num_trainable_weights=4,
        expected_num_params=(WIDTH + 1) * 3 * HEADS * KEY_DIM + (HEADS * KEY_DIM + 1) * 5,
        tmp_path=tmp_path,
    )
