import os
import random

import numpy as np
import pytest

from mosi_keras import text_encoder
from mosi_keras.text_encoder import load_text_backbone
from tests.text_encoder_testing import save_tiny_bert_preset


def test_a_preset_folder_is_read_once_each_backbone_is_its_own_and_none_draws_a_random_number(tmp_path, monkeypatch):
    folder = str(save_tiny_bert_preset(tmp_path / "bert"))
    reads, read = [], text_encoder.from_preset
    monkeypatch.setattr(text_encoder, "from_preset", lambda *args: reads.append(args) or read(*args))
    state, numpy_state = random.getstate(), np.random.get_state()[1].copy()
    first, second = load_text_backbone(folder), load_text_backbone(folder)
    assert len(reads) == 1  # the second built from what the first read
    assert random.getstate() == state and np.array_equal(np.random.get_state()[1], numpy_state)
    for a, b in zip(first.get_weights(), second.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert type(second) is type(first) and second.get_config() == first.get_config()
    first.weights[0].assign(np.zeros(first.weights[0].shape, "float32"))  # training one leaves the other alone
    assert np.abs(second.get_weights()[0]).sum() > 0
    weights = os.path.join(folder, "model.weights.h5")
    os.utime(weights, ns=(os.stat(weights).st_atime_ns, os.stat(weights).st_mtime_ns + 10**9))
    load_text_backbone(folder)  # a folder whose files changed is read again
    assert len(reads) == 2


def test_a_keras_hub_handle_goes_to_keras_hub_and_offline_the_error_names_it(monkeypatch):
    import keras_hub

    from mosi_keras.text_encoder import TextEncoderError, is_handle, load_text_tokenizer

    assert is_handle("hf://sentence-transformers/all-MiniLM-L6-v2") and is_handle("bert_tiny_en_uncased")
    assert not is_handle("./my_encoder") and not is_handle("runs/encoder")
    asked = []

    def offline(preset, **kwargs):
        asked.append(preset)
        raise ConnectionError("could not reach huggingface.co")

    monkeypatch.setattr(keras_hub.tokenizers.Tokenizer, "from_preset", offline)
    with pytest.raises(TextEncoderError, match=r"hf://someone/encoder: keras-hub could not load this preset "
                                               r"\(ConnectionError: could not reach huggingface.co\).*local preset"):
        load_text_tokenizer("hf://someone/encoder")
    assert asked == ["hf://someone/encoder"]  # the handle itself, for keras-hub to fetch and cache
    with pytest.raises(TextEncoderError, match=r"./nowhere: no such encoder folder"):
        load_text_tokenizer("./nowhere")  # a path is a folder or an error, never a download
