import pytest
from keras import ops

from applications import SemiSupervisedDEC
from applications.experiments.builders import build_task, compile_task
from applications.experiments.config import TrainingConfig
from applications.experiments.dec_pretraining import make_dec_stage
from tests.applications.conftest import DIMS, MAX_LEN, SMALL, make_backbone_decoder


def test_models_are_compiled_with_their_optimizer_variables_built():
    config = TrainingConfig(**SMALL)
    classifier = compile_task(build_task("classifier", config, DIMS, MAX_LEN), config)
    assert classifier.optimizer.built
    backbone, decoder = make_backbone_decoder()
    dec = make_dec_stage(backbone, decoder, config, stage=2)
    assert isinstance(dec, SemiSupervisedDEC) and dec.optimizer.built
    assert dec.clustering.built  # centroids exist before the first step


def test_cosine_schedule_warms_up_linearly_then_decays_to_zero_at_the_last_step():
    from applications.experiments.builders import learning_rate_schedule

    config = TrainingConfig(lr_schedule="cosine", warmup_fraction=0.1)
    schedule = learning_rate_schedule(config, 1e-3, total_steps=100)
    rate = {step: float(ops.convert_to_numpy(schedule(step))) for step in (0, 5, 10, 55, 100)}
    assert rate[0] == pytest.approx(0.0, abs=1e-12)
    assert rate[5] == pytest.approx(5e-4)
    assert rate[10] == pytest.approx(1e-3)
    assert rate[55] == pytest.approx(5e-4, rel=1e-4)  # half-way through the decay: cos(π/2)
    assert rate[100] == pytest.approx(0.0, abs=1e-9)
    assert learning_rate_schedule(TrainingConfig(), 3e-4, total_steps=100) == 3e-4
    with pytest.raises(ValueError, match="lr_schedule must be one of"):
        TrainingConfig(lr_schedule="linear")


def test_a_text_encoder_from_the_config_learns_at_its_own_rate(tiny_bert_preset):
    audio_visual = {"audio": 6, "visual": 5}
    config = TrainingConfig(**SMALL, learning_rate=1e-3, text_encoder=str(tiny_bert_preset), text_learning_rate=2e-5,
                            text_frozen_layers=1)
    classifier = compile_task(build_task("classifier", config, audio_visual, MAX_LEN), config)
    encoder = classifier.backbone.text_encoder
    assert type(encoder).__name__ == "BertBackbone" and not encoder.trainable_weights  # its one block frozen
    config = TrainingConfig(**SMALL, learning_rate=1e-3, text_encoder=str(tiny_bert_preset), text_learning_rate=2e-5)
    classifier = compile_task(build_task("classifier", config, audio_visual, MAX_LEN), config)
    optimizer, encoder = classifier.optimizer, classifier.backbone.text_encoder
    assert optimizer.rate_multiplier == pytest.approx(0.02)
    assert len(optimizer._scaled) == len(encoder.trainable_variables) > 0
    same_rate = TrainingConfig(**SMALL, text_encoder=str(tiny_bert_preset))
    assert compile_task(build_task("classifier", same_rate, audio_visual, MAX_LEN), same_rate).optimizer.rate_multiplier == 1.0
