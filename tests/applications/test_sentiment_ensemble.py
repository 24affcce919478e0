import numpy as np
import pytest
from keras import ops

from applications import SentimentClassifier, SentimentEnsemble, SentimentRegressor
from mosi_keras.layers.ensemble_average import average_outputs
from tests.applications.conftest import make_backbone
from tests.conftest import save_and_reload
from tests.task_testing import check_preset_round_trip


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


@pytest.mark.backend_agnostic
def test_ensemble_of_classifiers_outputs_the_logit_of_the_mean_probability_and_survives_a_preset(tiny, tmp_path):
    x, _, _ = tiny
    members = [SentimentClassifier(make_backbone()) for _ in range(3)]
    ensemble = SentimentEnsemble(members)
    logits = np.stack([ops.convert_to_numpy(member(x)) for member in members])
    out = ops.convert_to_numpy(ensemble(x))
    assert out.shape == (len(x["text"]), 1)
    np.testing.assert_allclose(sigmoid(out), sigmoid(logits).mean(axis=0), atol=1e-6)
    reloaded = save_and_reload(ensemble, tmp_path)
    assert isinstance(reloaded, SentimentEnsemble) and len(reloaded.members) == 3
    np.testing.assert_allclose(ops.convert_to_numpy(reloaded(x)), out, atol=1e-6)
    check_preset_round_trip(ensemble, x, str(tmp_path / "preset"), out)


def test_ensemble_of_regressors_outputs_the_mean_score(tiny):
    x, _, _ = tiny
    members = [SentimentRegressor(make_backbone()) for _ in range(2)]
    ensemble = SentimentEnsemble(members)
    assert ensemble.PREDICTS_SCORE
    scores = np.stack([ops.convert_to_numpy(member(x)) for member in members])
    np.testing.assert_allclose(ops.convert_to_numpy(ensemble(x)), scores.mean(axis=0), atol=1e-6)


def test_average_outputs_keeps_the_sign_rule_and_refuses_mixed_members():
    logits = np.array([[3.0, -1.0], [-1.0, -1.0]])  # probabilities 0.95 / 0.27 → mean 0.61 > 0.5
    averaged = ops.convert_to_numpy(average_outputs(logits))
    assert averaged[0] > 0 and averaged[1] == pytest.approx(-1.0, abs=1e-5)
    assert np.isfinite(ops.convert_to_numpy(average_outputs(np.array([[200.0], [300.0]])))).all()
    with pytest.raises(ValueError, match="of one kind"):
        SentimentEnsemble([SentimentClassifier(make_backbone()), SentimentRegressor(make_backbone())])
    with pytest.raises(ValueError, match="at least one member"):
        SentimentEnsemble([])
