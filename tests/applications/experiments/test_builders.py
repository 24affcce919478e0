import numpy as np
import pytest

from applications import SemiSupervisedDEC
from applications.experiments.builders import build_task, compile_task
from applications.experiments.config import TrainingConfig
from applications.experiments.dec_pretraining import make_dec_stage
from tests.applications.conftest import DIMS, MAX_LEN, SMALL, make_backbone_decoder


def test_models_are_compiled_with_their_optimizer_variables_built():
    config = TrainingConfig(backbone=SMALL)
    classifier = compile_task(build_task("classifier", config, DIMS, MAX_LEN), config)
    assert classifier.optimizer.built
    backbone, decoder = make_backbone_decoder()
    dec = make_dec_stage(backbone, decoder, config, stage=2)
    assert isinstance(dec, SemiSupervisedDEC) and dec.optimizer.built
    assert dec.clustering.built  # centroids exist before the first step


def test_a_text_encoder_from_the_config_learns_at_its_own_rate(tiny_bert_preset):
    audio_visual = {"audio": 6, "visual": 5}
    config = TrainingConfig(backbone=dict(SMALL, text_frozen_layers=1), learning_rate=1e-3,
                            text_encoder=str(tiny_bert_preset), text_learning_rate=2e-5)
    classifier = compile_task(build_task("classifier", config, audio_visual, MAX_LEN), config)
    encoder = classifier.backbone.text_encoder
    assert type(encoder).__name__ == "BertBackbone" and not encoder.trainable_weights  # its one block frozen
    config = TrainingConfig(backbone=SMALL, learning_rate=1e-3, text_encoder=str(tiny_bert_preset),
                            text_learning_rate=2e-5)
    classifier = compile_task(build_task("classifier", config, audio_visual, MAX_LEN), config)
    optimizer, encoder = classifier.optimizer, classifier.backbone.text_encoder
    assert optimizer.rate_multiplier == pytest.approx(0.02)
    assert len(optimizer._scaled) == len(encoder.trainable_variables) > 0
    same_rate = TrainingConfig(backbone=SMALL, text_encoder=str(tiny_bert_preset), text_learning_rate=None)
    assert compile_task(build_task("classifier", same_rate, audio_visual, MAX_LEN), same_rate).optimizer.rate_multiplier == 1.0
    default = TrainingConfig(backbone=SMALL, learning_rate=1e-3, text_encoder=str(tiny_bert_preset))  # the measured 5e-5
    optimizer = compile_task(build_task("classifier", default, audio_visual, MAX_LEN), default).optimizer
    assert optimizer.rate_multiplier == pytest.approx(0.05)


def test_fine_tuning_moves_the_encoder_at_its_own_rate_and_the_rest_at_the_tasks(tiny_bert_preset, eager_functions):
    """Adam's first step moves each weight by about its rate (m / sqrt(v) is
    the gradient's sign): the encoder's by 1e-4, its embedding tables
    included (their sparse gradients are summed before Adam squares them: a
    token in k rows, [CLS] in all, would otherwise move by up to sqrt(k)
    times the rate), the rest by 1e-2."""
    from mosi_keras.transcript_tokenizer import TOKEN_INPUTS, TranscriptTokenizer

    config = TrainingConfig(backbone=SMALL, learning_rate=1e-2, weight_decay=0.0, text_encoder=str(tiny_bert_preset),
                            text_learning_rate=1e-4)
    classifier = compile_task(build_task("classifier", config, {"audio": 6}, MAX_LEN), config)
    tokens, _ = TranscriptTokenizer.from_preset(tiny_bert_preset, max_words=MAX_LEN)(
        ["i loved this movie so good", "not for me", "unbelievable movie", "bad bad"])
    rng = np.random.default_rng(0)
    x = {**{TOKEN_INPUTS[name]: value for name, value in tokens.items()},
         "audio": rng.normal(size=(4, MAX_LEN, 6)).astype("float32"), "audio_mask": np.ones((4, MAX_LEN), "int32")}
    encoder = {id(w) for w in classifier.backbone.text_encoder.trainable_weights}
    before = [np.array(w) for w in classifier.trainable_weights]
    classifier.train_on_batch(x, np.array([1.0, 0.0, 1.0, 0.0]))
    moved = {True: [], False: []}
    for weight, start in zip(classifier.trainable_weights, before):
        moved[id(weight) in encoder].append(np.abs(np.array(weight) - start).max())
    assert len(moved[True]) == len(encoder) > 0
    assert max(moved[True]) == pytest.approx(1e-4, rel=0.05)  # the encoder: its own rate
    assert max(moved[False]) == pytest.approx(1e-2, rel=0.05)  # everything else: the task's


def test_a_task_reloaded_from_its_file_keeps_the_encoders_rate(tiny_bert_preset, tmp_path):
    import keras

    config = TrainingConfig(backbone=SMALL, learning_rate=1e-3, text_encoder=str(tiny_bert_preset),
                            text_learning_rate=2e-5)
    classifier = compile_task(build_task("classifier", config, {"audio": 6}, MAX_LEN), config)
    classifier.save(tmp_path / "task.keras")
    reloaded = keras.saving.load_model(tmp_path / "task.keras", safe_mode=True)
    optimizer, encoder = reloaded.optimizer, reloaded.backbone.text_encoder
    assert optimizer.rate_multiplier == pytest.approx(0.02)
    assert optimizer._scaled == {optimizer._var_key(v) for v in encoder.trainable_variables} != set()
