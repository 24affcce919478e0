import numpy as np
import pytest

import keras
from keras import ops

from mosi_keras.layers import MultiHeadSelfAttention
from tests.conftest import save_and_reload

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


def test_self_attention_config_round_trip():
    layer = MultiHeadSelfAttention(3, 5, dropout=0.2, output_dim=7, name="attn")
    config = layer.get_config()
    assert MultiHeadSelfAttention.from_config(config).get_config() == config


def test_self_attention_survives_keras_save_and_safe_load(tmp_path, batch):
    x, _ = batch
    inputs = keras.Input((TIME, WIDTH))
    model = keras.Model(inputs, MultiHeadSelfAttention(HEADS, KEY_DIM)(inputs))
    reloaded = save_and_reload(model, tmp_path)
    np.testing.assert_allclose(
        ops.convert_to_numpy(reloaded(x)), ops.convert_to_numpy(model(x)), atol=1e-6
    )


def test_self_attention_is_finite_under_mixed_float16_with_fully_masked_rows(batch):
    x, attention_mask = batch
    attention_mask = attention_mask.copy()
    attention_mask[2] = False  # a sample with no valid step at all
    keras.config.set_dtype_policy("mixed_float16")
    out = MultiHeadSelfAttention(HEADS, KEY_DIM)(x, attention_mask=attention_mask)
    assert keras.backend.standardize_dtype(out.dtype) == "float16"
    assert np.all(np.isfinite(ops.convert_to_numpy(ops.cast(out, "float32"))))
