import numpy as np
import pytest

import keras
from keras import ops

from mosi_keras.layers import ModalityTransformerEncoder
from tests.conftest import save_and_reload

pytestmark = pytest.mark.backend_agnostic


def lengths_to_mask(lengths, time):
    return np.arange(time)[None, :] < np.asarray(lengths)[:, None]


@pytest.fixture
def batch(rng):
    x = rng.normal(size=(4, 10, 7)).astype("float32")
    return x, lengths_to_mask([10, 6, 3, 1], 10)


def test_encoder_output_shapes(batch):
    x, mask = batch
    pooled = ModalityTransformerEncoder(hidden_dim=16)(x, mask=mask)
    sequences = ModalityTransformerEncoder(hidden_dim=16, return_sequences=True)(x, mask=mask)
    assert tuple(pooled.shape) == (4, 16)
    assert tuple(sequences.shape) == (4, 10, 16)
    layer = ModalityTransformerEncoder(hidden_dim=16)
    assert layer.compute_output_shape((4, 10, 7)) == (4, 16)


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


def test_encoder_gradients_are_finite(batch):
    x, mask = batch
    inputs = keras.Input((10, 7))
    mask_input = keras.Input((10,), dtype="bool")
    outputs = keras.layers.Dense(1)(
        ModalityTransformerEncoder(hidden_dim=16)(inputs, mask=mask_input)
    )
    model = keras.Model([inputs, mask_input], outputs)
    model.compile(optimizer="adam", loss="mse")
    before = [w.copy() for w in model.get_weights()]
    history = model.fit([x, mask], np.ones((4, 1)), epochs=2, verbose=0)
    assert np.all(np.isfinite(history.history["loss"]))
    assert any(not np.allclose(a, b) for a, b in zip(before, model.get_weights()))


def test_encoder_rejects_hidden_dim_not_divisible_by_heads():
    with pytest.raises(ValueError, match="divisible"):
        ModalityTransformerEncoder(hidden_dim=10, num_heads=4)


def test_encoder_config_round_trip():
    layer = ModalityTransformerEncoder(
        hidden_dim=24, num_blocks=3, num_heads=3, intermediate_dim=40, dropout=0.2,
        return_sequences=True, layer_norm_epsilon=1e-6,
    )
    config = layer.get_config()
    clone = ModalityTransformerEncoder.from_config(config)
    assert clone.get_config() == config


def test_encoder_paper_defaults():
    layer = ModalityTransformerEncoder()
    assert (layer.num_blocks, layer.num_heads, layer.intermediate_dim) == (2, 4, 256)


def test_encoder_survives_keras_save_and_safe_load(tmp_path, batch):
    x, mask = batch
    inputs = keras.Input((10, 7))
    mask_input = keras.Input((10,), dtype="bool")
    model = keras.Model(
        [inputs, mask_input], ModalityTransformerEncoder(hidden_dim=16)(inputs, mask=mask_input)
    )
    reloaded = save_and_reload(model, tmp_path)
    np.testing.assert_allclose(
        ops.convert_to_numpy(reloaded([x, mask])),
        ops.convert_to_numpy(model([x, mask])),
        atol=1e-5,
    )


def test_encoder_runs_under_mixed_bfloat16(batch):
    x, mask = batch
    keras.config.set_dtype_policy("mixed_bfloat16")
    out = ModalityTransformerEncoder(hidden_dim=16)(x, mask=mask)
    assert keras.backend.standardize_dtype(out.dtype) == "bfloat16"
    assert np.all(np.isfinite(ops.convert_to_numpy(ops.cast(out, "float32"))))
