import pytest
import numpy as np
from keras import ops

from applications import SemiSupervisedDEC
from applications.experiments.config import TrainingConfig
from applications.experiments.schedule import build_task, compile_task, initialize_centroids, make_dec_stage
from tests.applications.conftest import DIMS, MAX_LEN, SMALL, make_backbone_decoder


def test_models_are_compiled_with_their_optimizer_variables_built():
    config = TrainingConfig(**SMALL)
    classifier = compile_task(build_task("classifier", config, DIMS, MAX_LEN), config)
    assert classifier.optimizer.built
    backbone, decoder = make_backbone_decoder()
    dec = make_dec_stage(backbone, decoder, config, stage=2)
    assert isinstance(dec, SemiSupervisedDEC) and dec.optimizer.built
    assert dec.clustering.built  # centroids exist before the first step


def test_initialize_centroids_matches_clusters_to_classes(tiny):
    x, labels, semi = tiny
    dec = make_dec_stage(*make_backbone_decoder(), TrainingConfig(**SMALL), stage=2)
    dec(x)
    assignments = initialize_centroids(dec, x, semi, n_init=3)
    z = ops.convert_to_numpy(dec.backbone(x))
    from sklearn.cluster import KMeans

    reference = KMeans(2, n_init=3, random_state=0).fit(z)
    centroids = ops.convert_to_numpy(dec.clustering.centroids)
    assert np.allclose(np.sort(centroids, axis=0), np.sort(reference.cluster_centers_, axis=0), atol=1e-4)
    known = semi >= 0
    agree = np.mean(assignments[known] == semi[known])
    assert agree >= 0.5  # matched, so at least as good as the swapped assignment


def stage_two_callbacks(monkeypatch, tiny, **options):
    """Runs `pretrain_dec` on the tiny data; returns (its result, stage 2's callbacks)."""
    import keras

    from applications.experiments.schedule import pretrain_dec

    seen = {}
    fit = SemiSupervisedDEC.fit

    def recording_fit(self, *args, **kwargs):
        seen[self.name] = [type(c).__name__ for c in kwargs.get("callbacks", [])]
        return fit(self, *args, **kwargs)

    monkeypatch.setattr(SemiSupervisedDEC, "fit", recording_fit)
    x, labels, semi = tiny
    config = TrainingConfig(**SMALL, decoder_hidden_dim=8, ae_epochs=1, dec_epochs=4, patience=1,
                            kmeans_n_init=1, batch_size=16, **options)
    keras.utils.set_random_seed(0)
    result = pretrain_dec(x, semi, (x, semi), config, DIMS, MAX_LEN, diagnose=(x, labels))
    return result, seen["dec_stage_2"]


def test_stage_two_runs_its_epochs_and_is_never_rewound_by_default(monkeypatch, tiny):
    result, callbacks = stage_two_callbacks(monkeypatch, tiny)
    assert "EarlyStopping" not in callbacks
    assert result.epochs["clustering"] == 4
    for moment in ("kmeans_start", "after_clustering"):
        assert set(result.diagnostics[moment]) >= {"cluster_acc", "nmi", "train_cluster_shares"}
        assert sum(result.diagnostics[moment]["train_cluster_shares"]) == pytest.approx(1.0, abs=1e-3)


def test_dec_early_stopping_option_puts_the_rewind_back(monkeypatch, tiny):
    _, callbacks = stage_two_callbacks(monkeypatch, tiny, dec_early_stopping=True)
    assert "EarlyStopping" in callbacks


def test_weight_shift_is_the_relative_distance_moved():
    from applications.experiments.schedule import weight_shift

    assert weight_shift([np.ones(4)], [np.ones(4) * 1.5]) == pytest.approx(0.5)
    assert weight_shift([np.ones(4)], [np.ones(4)]) == 0.0
