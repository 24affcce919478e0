import keras
import numpy as np
import pytest

from mosi_keras.layers import ModalityTransformerEncoder, UtteranceDistributed
from tests.layer_testing import run_layer_test

pytestmark = pytest.mark.backend_agnostic


def dict_encoder():
    """A small functional model with a dict input, like a backbone."""
    inputs = {"text": keras.Input((None, 4), name="text"), "text_mask": keras.Input((None,), dtype="int32", name="text_mask")}
    output = ModalityTransformerEncoder(hidden_dim=8, num_heads=2, intermediate_dim=8, dropout=0.0)(
        inputs["text"], mask=inputs["text_mask"])
    return keras.Model(inputs, output)


def video_inputs(videos=2, utterances=3, steps=5, seed=0):
    rng = np.random.default_rng(seed)
    mask = (rng.random((videos, utterances, steps)) < 0.7).astype("int32")
    mask[..., 0] = 1
    return {"text": rng.normal(size=(videos, utterances, steps, 4)).astype("float32"), "text_mask": mask,
            "utterance_mask": np.ones((videos, utterances), "int32")}


def test_every_utterance_is_encoded_as_the_wrapped_model_encodes_it_alone():
    encoder = dict_encoder()
    x = video_inputs()
    out = keras.ops.convert_to_numpy(UtteranceDistributed(encoder)(x))
    assert out.shape == (2, 3, 8)
    alone = keras.ops.convert_to_numpy(encoder({"text": x["text"][1, 2:3], "text_mask": x["text_mask"][1, 2:3]}))
    np.testing.assert_allclose(out[1, 2:3], alone, atol=1e-5)


def test_wraps_a_layer_with_one_tensor_input():
    layer = UtteranceDistributed(keras.layers.Dense(3))
    x = np.ones((2, 4, 5), "float32")
    assert tuple(layer(x).shape) == (2, 4, 3) == layer.compute_output_shape((2, 4, 5))


def test_output_shape_is_computed_without_running():
    layer = UtteranceDistributed(dict_encoder())
    shape = {"text": (None, None, 5, 4), "text_mask": (None, None, 5), "utterance_mask": (None, None)}
    assert layer.compute_output_shape(shape) == (None, None, 8)


def test_survives_keras_file(tmp_path):
    x = video_inputs()
    inputs = {name: keras.Input(value.shape[1:], dtype=value.dtype, name=name) for name, value in x.items()}
    model = keras.Model(inputs, UtteranceDistributed(dict_encoder())(inputs))
    model.save(tmp_path / "wrapped.keras")
    loaded = keras.saving.load_model(tmp_path / "wrapped.keras", safe_mode=True)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(loaded(x)), keras.ops.convert_to_numpy(model(x)), atol=1e-6)


def test_utterance_distributed_passes_the_shared_layer_checks(tmp_path):
    run_layer_test(UtteranceDistributed, {"layer": keras.layers.Dense(3)},
                   np.random.default_rng(0).normal(size=(2, 4, 5)).astype("float32"), expected_output_shape=(2, 4, 3),
                   expected_num_trainable_weights=2, mixed_precision_output_dtype="float32",  # the wrapped layer's own
                   tmp_path=tmp_path)
