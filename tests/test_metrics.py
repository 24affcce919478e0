import numpy as np
import pytest

from mosi_keras.metrics import LabelledBinaryAccuracy

pytestmark = pytest.mark.backend_agnostic


def test_labelled_accuracy_counts_labelled_places_only():
    metric = LabelledBinaryAccuracy()
    metric.update_state(np.array([[1, 0, -1, -1]]), np.array([[1.0, 1.0, -5.0, 5.0]], "float32"))
    assert float(metric.result()) == pytest.approx(0.5)
    assert LabelledBinaryAccuracy.from_config(metric.get_config()).name == "accuracy"
