import keras
import pytest

from applications import SentimentClassifier, SentimentRegressor
from tests.applications.conftest import make_backbone, make_raw
from tests.task_testing import run_task_test


@pytest.mark.backend_agnostic
def test_regressor_passes_the_task_test_on_raw_data(tmp_path):
    model = run_task_test(SentimentRegressor, make_backbone(), make_raw(), tmp_path, dict(head_units=(8, 4)))
    assert model.targets(make_raw()).ravel().tolist() == make_raw().sentiment.tolist()  # scores, not labels


def test_regressor_trains_with_the_l1_loss():
    model = SentimentRegressor(make_backbone())
    model.compile()
    assert isinstance(model.loss, keras.losses.MeanAbsoluteError)
    assert SentimentRegressor.PREDICTS_SCORE and not SentimentClassifier.PREDICTS_SCORE
