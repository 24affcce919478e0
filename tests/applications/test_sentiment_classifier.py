import keras
import pytest
from keras import ops

from applications import MultimodalBackbone, SentimentClassifier
from applications.experiments.config import TrainingConfig
from tests.applications.conftest import make_backbone, make_raw
from tests.task_testing import run_task_test


@pytest.mark.backend_agnostic
def test_classifier_passes_the_task_test_on_raw_data(tmp_path):
    run_task_test(SentimentClassifier, make_backbone(), make_raw(), tmp_path, dict(head_units=(8, 4)))


def test_classifier_default_size_is_within_five_percent_of_the_paper():
    model = SentimentClassifier(MultimodalBackbone({"text": 300, "audio": 74, "visual": 35}))
    assert abs(model.count_params() - 851_713) / 851_713 < 0.05


def test_classifier_compiles_with_the_papers_defaults_which_the_training_config_shares():
    model = SentimentClassifier(make_backbone())
    model.compile()
    assert float(ops.convert_to_numpy(model.optimizer.learning_rate)) == pytest.approx(4e-5)
    assert model.optimizer.weight_decay == pytest.approx(1e-2)
    config = TrainingConfig()
    assert (config.learning_rate, config.weight_decay) == (model.optimizer.learning_rate, model.optimizer.weight_decay)
    assert isinstance(model.loss, keras.losses.BinaryCrossentropy) and model.loss.from_logits
