"""On the real shared CMU-MOSI features: both models beat the majority class
on validation videos. Slow: run with `pytest -m slow`."""

import pytest

from applications.experiments.config import TrainingConfig
from applications.experiments.run import run_experiment
from mosi_keras.data import binary_labels, load_dataset
from tests.data.test_kit_format import SHARED_MOSI

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("experiment", ["baseline", "dec"])
def test_model_beats_the_majority_class_on_validation_videos(experiment):
    data = load_dataset(SHARED_MOSI)
    config = TrainingConfig(ae_epochs=20, dec_epochs=10, epochs=80, patience=10, learning_rate=5e-4)
    result = run_experiment(data, experiment, 0.4, seed=0, config=config)
    truth = binary_labels(data.sentiment[result.prepared.split.labelled_val])
    majority = max(truth.mean(), 1 - truth.mean())
    assert result.record.val["acc2"] > majority
