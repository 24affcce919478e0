import keras
import pytest

from applications import MultimodalBackbone, SentimentClassifier
from applications.experiments.config import TrainingConfig
from tests.applications.conftest import make_backbone, make_raw
from tests.task_testing import run_task_test


@pytest.mark.backend_agnostic
def test_classifier_passes_the_task_test_on_raw_data(tmp_path):
    run_task_test(SentimentClassifier, make_backbone(), make_raw(), tmp_path, dict(head_units=(8, 4)))


@pytest.mark.backend_agnostic
def test_a_classifier_fine_tuning_a_text_encoder_passes_the_task_test_on_raw_transcripts(tmp_path, tiny_bert_preset):
    from mosi_keras.transcript_tokenizer import TranscriptTokenizer
    from tests.applications.conftest import MAX_LEN, SMALL
    from tests.text_encoder_testing import tiny_bert, with_transcripts

    backbone = MultimodalBackbone({"audio": 6, "visual": 5}, MAX_LEN, text_encoder=tiny_bert(tiny_bert_preset),
                                  **SMALL)
    tokenizer = TranscriptTokenizer.from_preset(tiny_bert_preset, max_words=MAX_LEN)
    model = run_task_test(SentimentClassifier, backbone, with_transcripts(make_raw()), tmp_path,
                          dict(head_units=(8, 4)), text_tokenizer=tokenizer,
                          gradient_free=["self_attention_layer/key/bias"])  # softmax cancels a key bias
    assert len(model.backbone.text_encoder.trainable_weights) > 10  # fine-tuned: they moved in the step


def test_classifier_default_size_is_within_five_percent_of_the_paper():
    model = SentimentClassifier(MultimodalBackbone({"text": 300, "audio": 74, "visual": 35}))
    assert abs(model.count_params() - 851_713) / 851_713 < 0.05


def test_classifier_compiles_with_the_optimizer_the_small_data_recipe_trains_with():
    from applications.experiments.training import compile_task
    from applications.experiments.config import load_config

    model = SentimentClassifier(make_backbone())
    model.compile()
    by_recipe = compile_task(SentimentClassifier(make_backbone()), load_config(recipe="small_data")).optimizer
    assert {**model.optimizer.get_config(), "name": ""} == {**by_recipe.get_config(), "name": ""}
    assert model.optimizer.weight_decay == pytest.approx(TrainingConfig().weight_decay)
    with pytest.raises(ValueError, match="total_steps is not set"):  # its schedule spans the first fit
        model.optimizer.learning_rate
    assert isinstance(model.loss, keras.losses.BinaryCrossentropy) and model.loss.from_logits
