"""DEC with a text encoder: its word states computed once, the pre-trained encoders transferred onto the live one."""

import shutil

import numpy as np
import pytest
from keras import ops

from applications import MultimodalBackbone
from applications.experiments.dec_pretraining import transfer_modality_encoders
from applications.experiments.text_states import cached_word_states, word_states
from mosi_keras.data import Preprocessor, make_synthetic_mosi
from mosi_keras.transcript_tokenizer import TranscriptTokenizer
from tests.applications.conftest import SMALL
from tests.text_encoder_testing import save_tiny_bert_preset, tiny_bert, with_transcripts

MAX_LEN = 8
AUDIO = {"audio": 4}


@pytest.fixture(scope="module")
def inputs(tiny_bert_preset):
    data = with_transcripts(make_synthetic_mosi(n_videos=3, segments_per_video=(4, 4), max_len=MAX_LEN,
                                                feature_dims=AUDIO, seed=2))
    tokenizer = TranscriptTokenizer.from_preset(tiny_bert_preset, max_words=MAX_LEN)
    return Preprocessor(MAX_LEN, tokenizer).fit(data).transform(data)


def test_word_states_are_computed_once_then_read_and_made_anew_for_another_encoder_or_data(
        inputs, tiny_bert_preset, tmp_path):
    first, reused = cached_word_states(str(tiny_bert_preset), inputs, MAX_LEN, tmp_path / "states")
    assert not reused and first["text"].shape == (12, MAX_LEN, 8) and first["text_mask"].shape == (12, MAX_LEN)
    again, reused = cached_word_states(str(tiny_bert_preset), inputs, MAX_LEN, tmp_path / "states")
    assert reused and all(np.array_equal(again[name], first[name]) for name in first)
    other_data = dict(inputs, text_token_ids=np.where(inputs["text_padding_mask"] > 0, 16, 0))  # every piece "."
    changed, reused = cached_word_states(str(tiny_bert_preset), other_data, MAX_LEN, tmp_path / "states")
    assert not reused and not np.allclose(changed["text"], first["text"])
    other_encoder = save_tiny_bert_preset(tmp_path / "other_bert", seed=1)
    changed, reused = cached_word_states(str(other_encoder), inputs, MAX_LEN, tmp_path / "states")
    assert not reused and not np.allclose(changed["text"], first["text"])
    assert len(list((tmp_path / "states").iterdir())) == 3
    shutil.rmtree(tmp_path / "states")  # a cache folder's loss costs a recomputation, nothing else
    recomputed, reused = cached_word_states(str(tiny_bert_preset), inputs, MAX_LEN, tmp_path / "states")
    assert not reused and np.allclose(recomputed["text"], first["text"], atol=1e-6)


def test_at_the_start_of_stage_3_the_live_encoder_gives_the_pretrained_backbones_embedding(inputs, tiny_bert_preset):
    """The DEC backbone read cached word states; the classifier's reads
    tokens through the live, still unchanged encoder. With the modality
    encoders transferred, both give the same `z`."""
    encoder = tiny_bert(tiny_bert_preset)
    states = word_states(encoder, inputs, MAX_LEN)
    pretrained = MultimodalBackbone({"text": 8, **AUDIO}, MAX_LEN, **SMALL)
    live = MultimodalBackbone(AUDIO, MAX_LEN, text_encoder=encoder, **SMALL)
    before = ops.convert_to_numpy(live(inputs))
    transfer_modality_encoders(pretrained, live)
    for modality in ("text", "audio"):
        for a, b in zip(live.get_layer(f"{modality}_encoder").get_weights(),
                        pretrained.get_layer(f"{modality}_encoder").get_weights()):
            np.testing.assert_array_equal(a, b)
    cached = {**states, "audio": inputs["audio"], "audio_mask": inputs["audio_mask"]}
    z = ops.convert_to_numpy(live(inputs))
    assert not np.allclose(z, before)  # the transfer changed the embedding ...
    np.testing.assert_allclose(z, ops.convert_to_numpy(pretrained(cached)), atol=1e-5)  # ... to the pre-trained one
