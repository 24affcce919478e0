import numpy as np
import pytest
from keras import ops

from mosi_keras.layers import EnsembleAverage
from tests.layer_testing import run_layer_test

pytestmark = pytest.mark.backend_agnostic


@pytest.mark.parametrize("predicts_score", [False, True])
def test_ensemble_average_passes_the_shared_layer_checks(tmp_path, predicts_score):
    members = [np.random.default_rng(seed).normal(size=(4, 1)).astype("float32") for seed in range(3)]
    run_layer_test(EnsembleAverage, {"predicts_score": predicts_score}, members, expected_output_shape=(4, 1),
                   expected_num_trainable_weights=0, mixed_precision_output_dtype="float32", tmp_path=tmp_path)


def test_ensemble_average_averages_scores_as_they_are_and_logits_as_probabilities():
    members = [np.array([[2.0]], "float32"), np.array([[-1.0]], "float32")]
    np.testing.assert_allclose(ops.convert_to_numpy(EnsembleAverage(predicts_score=True)(members)), [[0.5]])
    probability = (1 / (1 + np.exp(-2.0)) + 1 / (1 + np.exp(1.0))) / 2
    np.testing.assert_allclose(ops.convert_to_numpy(EnsembleAverage()(members)),
                               [[np.log(probability / (1 - probability))]], rtol=1e-5)
