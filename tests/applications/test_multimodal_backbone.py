import numpy as np
import pytest
from keras import ops

from tests.applications.conftest import DIMS, MAX_LEN, SMALL, make_backbone
from tests.backbone_testing import run_backbone_test
from tests.conftest import save_and_reload


@pytest.mark.backend_agnostic
def test_backbone_passes_the_shared_backbone_checks(tiny, tmp_path):
    from applications import MultimodalBackbone

    x, _, _ = tiny
    run_backbone_test(MultimodalBackbone, dict(SMALL, feature_dims=DIMS, max_len=MAX_LEN, word_dropout=0.1),
                      {k: v[:6] for k, v in x.items()}, (6, len(DIMS) * SMALL["hidden_dim"]), tmp_path)


def test_backbone_config_holds_its_hyperparameters_and_rebuilds_it(tiny):
    x, _, _ = tiny
    backbone = make_backbone(num_blocks=1)
    config = backbone.get_config()
    assert {k: config[k] for k in ("feature_dims", "max_len", "hidden_dim", "num_blocks")} == {
        "feature_dims": DIMS, "max_len": MAX_LEN, "hidden_dim": 8, "num_blocks": 1}
    twin = backbone.clone()
    assert twin.get_config() == config and twin is not backbone
    np.testing.assert_allclose(ops.convert_to_numpy(twin(x)), ops.convert_to_numpy(backbone(x)), atol=1e-6)
    twin.weights[0].assign(twin.weights[0] + 1.0)  # a clone's weights are its own
    assert not np.allclose(ops.convert_to_numpy(twin.weights[0]), ops.convert_to_numpy(backbone.weights[0]))


@pytest.mark.backend_agnostic
def test_backbone_dropouts_are_off_at_inference_and_saved_with_it(tiny, tmp_path):
    x, _, _ = tiny
    plain = make_backbone(dropout=0.0)
    noisy = make_backbone(dropout=0.0, word_dropout=0.5, modality_dropout=0.5)
    noisy.set_weights(plain.get_weights())  # the dropouts add no weights
    np.testing.assert_allclose(ops.convert_to_numpy(noisy(x)), ops.convert_to_numpy(plain(x)), atol=1e-6)
    assert ops.convert_to_numpy(noisy(x, training=True)).tolist() != ops.convert_to_numpy(noisy(x)).tolist()
    reloaded = save_and_reload(noisy, tmp_path)
    assert (reloaded.word_dropout, reloaded.modality_dropout) == (0.5, 0.5)
    np.testing.assert_allclose(ops.convert_to_numpy(reloaded(x)), ops.convert_to_numpy(noisy(x)), atol=1e-6)


def test_modality_dropout_zeroes_whole_embeddings_of_a_row(tiny):
    x, _, _ = tiny
    backbone = make_backbone(dropout=0.0, modality_dropout=0.5)
    z = ops.convert_to_numpy(backbone(x, training=True)).reshape(len(x["text"]), len(DIMS), -1)
    zeroed = np.all(z == 0.0, axis=2)  # (rows, modalities)
    assert 0.3 < zeroed.mean() < 0.7
    kept = ops.convert_to_numpy(backbone(x)).reshape(z.shape)
    np.testing.assert_allclose(z[~zeroed], 2.0 * kept[~zeroed], rtol=1e-5, atol=1e-6)  # kept ones scaled by 1/(1-p)


AUDIO_VISUAL = {"audio": 6, "visual": 5}


def token_inputs(tiny_bert_preset, rows=4):
    from mosi_keras.transcript_tokenizer import TranscriptTokenizer

    tokens, _ = TranscriptTokenizer.from_preset(tiny_bert_preset, max_words=MAX_LEN)(
        ["unbelievable movie", "i loved this movie so good", "not for me", "."][:rows])
    return {f"text_{name}": value for name, value in tokens.items()}


@pytest.mark.backend_agnostic
@pytest.mark.parametrize("text_output", ["words", "pooled"])
def test_a_text_encoder_reads_tokens_in_place_of_text_features_and_survives_safe_mode(
        tiny, tiny_bert_preset, tmp_path, text_output):
    from applications import MultimodalBackbone
    from tests.text_encoder_testing import tiny_bert

    x, _, _ = tiny
    x = {**{k: v[:4] for k, v in x.items() if not k.startswith("text")}, **token_inputs(tiny_bert_preset)}
    backbone = MultimodalBackbone(AUDIO_VISUAL, MAX_LEN, text_encoder=tiny_bert(tiny_bert_preset),
                                  text_output=text_output, **SMALL)
    assert backbone.modalities == ["text", "audio", "visual"]
    assert sorted(backbone.input) == sorted(["audio", "audio_mask", "visual", "visual_mask", "text_token_ids",
                                             "text_padding_mask", "text_word_index"])
    z = ops.convert_to_numpy(backbone(x))
    assert z.shape == (4, 3 * SMALL["hidden_dim"])
    other = dict(x, text_token_ids=np.where(x["text_padding_mask"] > 0, 16, 0))  # every piece "."
    assert not np.allclose(ops.convert_to_numpy(backbone(other))[:, :8], z[:, :8])  # the text part reads tokens
    np.testing.assert_allclose(ops.convert_to_numpy(backbone(other))[:, 8:], z[:, 8:], atol=1e-6)
    reloaded = save_and_reload(backbone, tmp_path)  # safe_mode=True
    assert reloaded.text_output == text_output and type(reloaded.text_encoder).__name__ == "BertBackbone"
    np.testing.assert_allclose(ops.convert_to_numpy(reloaded(x)), z, atol=1e-5)
    run_backbone_test(MultimodalBackbone, dict(SMALL, feature_dims=AUDIO_VISUAL, max_len=MAX_LEN,
                                               text_encoder=tiny_bert(tiny_bert_preset), text_output=text_output),
                      x, z.shape, tmp_path)


def test_text_frozen_layers_freezes_the_embeddings_and_the_lower_blocks_and_is_kept(tiny_bert_preset, tmp_path):
    import keras_hub

    from applications import MultimodalBackbone

    deep = keras_hub.models.BertBackbone(vocabulary_size=23, num_layers=3, num_heads=2, hidden_dim=8,
                                         intermediate_dim=16, max_sequence_length=64)
    backbone = MultimodalBackbone(AUDIO_VISUAL, MAX_LEN, text_encoder=deep, text_frozen_layers=2, **SMALL)
    trainable = {layer.name for layer in deep.layers if layer.trainable and layer.weights}
    assert trainable == {"transformer_layer_2"}  # not the embeddings, blocks 0-1 or the unused pooler
    reloaded = save_and_reload(backbone, tmp_path)
    assert {layer.name for layer in reloaded.text_encoder.layers if layer.trainable and layer.weights} == trainable
    assert len(reloaded.trainable_weights) == len(backbone.trainable_weights)
    with pytest.raises(ValueError, match="leave 'text' out of feature_dims"):
        MultimodalBackbone(DIMS, MAX_LEN, text_encoder=deep, **SMALL)
    with pytest.raises(ValueError, match="text_output must be one of"):
        MultimodalBackbone(AUDIO_VISUAL, MAX_LEN, text_encoder=deep, text_output="cls", **SMALL)
