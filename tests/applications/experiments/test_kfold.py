"""The k-fold yardstick (`reproduce --protocol kfold`): every row predicted
once per seed by a model that never saw its video, resumable fold by fold."""

import json

import numpy as np
import pytest

from applications.experiments import kfold
from applications.experiments.config import TrainingConfig
from applications.experiments.folds import video_folds
from applications.experiments.kfold import pool_folds, run_fold, run_kfold
from mosi_keras.data import make_synthetic_mosi
from tests.applications.conftest import TINY

K = 3


@pytest.fixture(scope="module")
def data():
    return make_synthetic_mosi(n_videos=15, segments_per_video=(4, 5), max_len=5,
                               feature_dims={"text": 6, "audio": 4, "visual": 3}, seed=0)


def test_a_fold_model_never_reads_its_held_videos_labels(data, tmp_path):
    config = TrainingConfig.from_dict(TINY)
    record, held, outputs = run_fold(data, "baseline", 0.4, 0, 1, K, config, str(tmp_path / "a"))
    fit, expected = video_folds(data.video_ids, K, 0)[1]
    np.testing.assert_array_equal(held, expected)
    assert set(data.video_ids[fit]).isdisjoint(data.video_ids[held])
    assert record.n_train_labelled + record.n_train_unlabelled < len(fit)  # its validation videos among them
    flipped = data.subset(np.arange(len(data)))
    flipped.sentiment[held] = -flipped.sentiment[held]  # every held label changed
    _, _, again = run_fold(flipped, "baseline", 0.4, 0, 1, K, config, str(tmp_path / "b"))
    np.testing.assert_array_equal(again, outputs)


def test_a_kfold_run_pools_every_row_once_and_resumes_at_its_next_fold(data, tmp_path, monkeypatch):
    config = TrainingConfig.from_dict(TINY)
    first = run_kfold(data, "baseline", 0.4, 0, K, config, str(tmp_path))
    assert first.kfold["n"] == len(data) and first.folds == K and first.val is None
    (tmp_path / "folds" / "baseline_labels040_seed0_fold2.json").unlink()  # as if killed during fold 2
    trained = []
    real = kfold.run_experiment
    monkeypatch.setattr(kfold, "run_experiment", lambda *a, **k: trained.append(k["name"]) or real(*a, **k))
    again = run_kfold(data, "baseline", 0.4, 0, K, config, str(tmp_path))
    assert trained == ["baseline_labels040_seed0_fold2"]
    assert again.kfold == first.kfold
    written = json.loads((tmp_path / "baseline_labels040_seed0.json").read_text())
    assert written["kfold"] == first.kfold and written["folds"] == K


def test_pooled_folds_must_hold_every_row_once(data):
    from applications.experiments.run import RunRecord

    record = RunRecord("baseline", 0.4, 0, 1, {"classifier": 2}, 1, 1, 1, None)
    rows = np.arange(len(data) - 1)  # one row never predicted
    with pytest.raises(ValueError, match=f"hold {len(data) - 1} distinct rows of {len(data)}"):
        pool_folds(data, [(record, rows, np.zeros(len(rows)))])


def test_a_transductive_fold_reads_its_held_rows_inputs_but_never_their_labels(data, tmp_path):
    config = TrainingConfig.from_dict(TINY)
    plain, held, _ = run_fold(data, "self_training", 0.4, 0, 0, K, config, str(tmp_path / "plain"))
    record, _, outputs = run_fold(data, "self_training", 0.4, 0, 0, K, config, str(tmp_path / "a"), transductive=True)
    assert record.n_train_unlabelled == plain.n_train_unlabelled + len(held)
    flipped = data.subset(np.arange(len(data)))
    flipped.sentiment[held] = -flipped.sentiment[held]
    _, _, again = run_fold(flipped, "self_training", 0.4, 0, 0, K, config, str(tmp_path / "b"), transductive=True)
    np.testing.assert_array_equal(again, outputs)


def test_a_second_dec_experiment_of_a_fold_reads_the_first_ones_stage_one(data, tmp_path):
    """Stage 1 (no KL, no labels) is the same for `dec` and its control
    `dec_without_kl` on a fold and seed: kept under the grid's folder, the
    second reads it."""
    config = TrainingConfig.from_dict(TINY)
    first, _, _ = run_fold(data, "dec", 0.4, 0, 1, K, config, str(tmp_path / "grid"))
    control, _, _ = run_fold(data, "dec_without_kl", 0.4, 0, 1, K, config, str(tmp_path / "grid"))
    assert not first.autoencoder_reused and control.autoencoder_reused
    assert len(list((tmp_path / "grid" / "autoencoders").glob("*.weights.h5"))) == 1


@pytest.mark.slow  # run with -m slow; in the default suite: the reuse itself (above)
def test_a_fold_that_reads_stage_one_gives_what_training_its_own_gives(data, tmp_path):
    config = TrainingConfig.from_dict(TINY)
    run_fold(data, "dec", 0.4, 0, 1, K, config, str(tmp_path / "grid"))
    control, _, outputs = run_fold(data, "dec_without_kl", 0.4, 0, 1, K, config, str(tmp_path / "grid"))
    alone, _, same = run_fold(data, "dec_without_kl", 0.4, 0, 1, K, config, str(tmp_path / "alone"))
    assert control.autoencoder_reused and not alone.autoencoder_reused
    np.testing.assert_allclose(same, outputs, atol=1e-5)
