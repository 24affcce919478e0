import numpy as np
import pytest

from applications import SentimentClassifier, SentimentEnsemble
from applications.experiments.config import TrainingConfig
from applications.experiments.folds import video_folds
from applications.experiments.run import run_experiment
from mosi_keras.data import DataError, make_synthetic_mosi
from tests.applications.conftest import TINY


@pytest.fixture(scope="module")
def data():
    return make_synthetic_mosi(n_videos=12, segments_per_video=(4, 5), max_len=5,
                               feature_dims={"text": 6, "audio": 4, "visual": 3}, seed=0)


def test_every_video_is_held_out_once_and_no_video_is_in_two_folds():
    videos = np.repeat([f"v{i}" for i in range(9)], [3, 1, 4, 2, 5, 3, 2, 1, 4])
    folds = video_folds(videos, 3, seed=1)
    assert len(folds) == 3
    held = np.concatenate([h for _, h in folds])
    assert sorted(held) == list(range(len(videos)))  # each row held out exactly once
    for fit, held_rows in folds:
        assert set(videos[fit]).isdisjoint(videos[held_rows])
    assert [h.tolist() for _, h in video_folds(videos, 3, seed=1)] == [h.tolist() for _, h in folds]
    with pytest.raises(DataError, match="5 folds need at least 5 labelled training videos; there are 2"):
        video_folds(np.array(["a", "a", "b"]), 5)


@pytest.mark.cited
@pytest.mark.slow  # run with -m slow; in the default suite: the fold split test
def test_a_fold_ensemble_run_keeps_the_k_fold_models_and_records_a_fold_score(data, tmp_path):
    import keras

    config = TrainingConfig.from_dict(dict(TINY, folds=3, fold_use="ensemble"))
    result = run_experiment(data, "baseline", 1.0, 0, config, out_dir=str(tmp_path))
    model = result.model
    assert isinstance(model, SentimentEnsemble) and len(model.members) == 3
    assert {"classifier_fold0", "classifier_fold1", "classifier_fold2"} == set(result.record.epochs)
    assert 0.0 <= result.record.cv["acc2"] <= 1.0 and result.record.backbone_shift is None
    reloaded = keras.saving.load_model(tmp_path / "baseline_labels100_seed0.keras", safe_mode=True)
    assert isinstance(reloaded, SentimentEnsemble) and reloaded.preprocessor is not None


@pytest.mark.cited
@pytest.mark.slow  # run with -m slow; in the default suite: the fold split test
def test_a_fold_retrain_run_trains_on_every_fold_for_the_epochs_the_folds_kept(data):
    config = TrainingConfig.from_dict(dict(TINY, folds=3, fold_use="retrain", epochs=3, patience=3))
    result = run_experiment(data, "baseline", 1.0, 0, config)
    assert isinstance(result.model, SentimentClassifier)
    epochs = result.record.epochs
    kept = [epochs[f"classifier_fold{i}"] for i in range(3)]
    assert epochs["classifier_all"] == max(1, int(round(np.mean(kept))))
    assert "val_loss" not in result.histories["classifier_all"]  # no validation video is read to train it
    with pytest.raises(ValueError, match="folds must be 0"):
        TrainingConfig(folds=1)
