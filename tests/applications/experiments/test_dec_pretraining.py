import numpy as np
import pytest
from keras import ops

from applications import SemiSupervisedDEC
from applications.experiments.config import TrainingConfig
from applications.experiments.dec_pretraining import make_dec_stage, transfer_modality_encoders
from tests.applications.conftest import DIMS, MAX_LEN, SMALL, make_backbone_decoder


def test_initialize_centroids_matches_clusters_to_classes(tiny):
    x, labels, semi = tiny
    dec = make_dec_stage(*make_backbone_decoder(), TrainingConfig(backbone=SMALL), stage=2)
    dec(x)
    assignments = dec.initialize_centroids(x, semi, n_init=3)
    z = ops.convert_to_numpy(dec.backbone(x))
    from sklearn.cluster import KMeans

    reference = KMeans(2, n_init=3, random_state=0).fit(z)
    centroids = ops.convert_to_numpy(dec.clustering.centroids)
    assert np.allclose(np.sort(centroids, axis=0), np.sort(reference.cluster_centers_, axis=0), atol=1e-4)
    known = semi >= 0
    agree = np.mean(assignments[known] == semi[known])
    assert agree >= 0.5  # matched, so at least as good as the swapped assignment


def stage_callbacks(monkeypatch, tiny, **options):
    """Runs `pretrain_dec` on the tiny data; returns (its result, {stage model: callbacks})."""
    import keras

    from applications.experiments.dec_pretraining import pretrain_dec

    seen = {}
    fit = SemiSupervisedDEC.fit

    def recording_fit(self, *args, **kwargs):
        seen[self.name] = [type(c).__name__ for c in kwargs.get("callbacks", [])]
        return fit(self, *args, **kwargs)

    monkeypatch.setattr(SemiSupervisedDEC, "fit", recording_fit)
    x, labels, semi = tiny
    config = TrainingConfig(backbone=SMALL, decoder_hidden_dim=8, ae_epochs=1, dec_epochs=4, patience=1,
                            kmeans_n_init=1, batch_size=48, run_eagerly=True, **options)
    keras.utils.set_random_seed(0)
    result = pretrain_dec(x, semi, (x, semi), config, DIMS, MAX_LEN, diagnose=(x, labels))
    return result, seen


def test_both_stages_run_their_epochs_and_are_never_rewound_by_default(monkeypatch, tiny):
    result, callbacks = stage_callbacks(monkeypatch, tiny)
    assert "EarlyStopping" not in callbacks["dec_stage_2"]
    assert "EarlyStopping" not in callbacks["dec_stage_1"]
    assert "val_loss" not in result.histories["autoencoder"]  # nothing reads it: not computed
    assert result.epochs["clustering"] == 4
    for moment in ("kmeans_start", "after_clustering"):
        assert set(result.diagnostics[moment]) >= {"cluster_acc", "nmi", "train_cluster_shares"}
        assert sum(result.diagnostics[moment]["train_cluster_shares"]) == pytest.approx(1.0, abs=1e-3)


@pytest.mark.slow  # run with -m slow; in the default suite: the stages' default run
def test_early_stopping_options_put_each_stages_rewind_back(monkeypatch, tiny):
    result, callbacks = stage_callbacks(monkeypatch, tiny, dec_early_stopping=True, ae_early_stopping=True)
    assert "EarlyStopping" in callbacks["dec_stage_2"]
    assert "EarlyStopping" in callbacks["dec_stage_1"]
    assert "val_loss" in result.histories["autoencoder"]


def test_dec_cluster_weight_sets_the_kl_weight_of_stage_two_only():
    config = TrainingConfig(backbone=SMALL, dec_cluster_weight=0.0)
    assert make_dec_stage(*make_backbone_decoder(), config, stage=2).cluster_weight == 0.0
    assert make_dec_stage(*make_backbone_decoder(), TrainingConfig(backbone=SMALL), stage=2).cluster_weight == 1.0
    assert make_dec_stage(*make_backbone_decoder(), config, stage=1).cluster_weight == 0.0


@pytest.mark.slow  # run with -m slow; in the default suite: the TargetRefresh callback tests
def test_freeze_target_trains_stage_two_on_refreshed_per_row_targets(monkeypatch, tiny):
    result, callbacks = stage_callbacks(monkeypatch, tiny, update_interval=2, freeze_target=True, tol=0.0)
    dec = result.dec
    assert dec.target_rows == len(tiny[2])
    assert "TargetRefresh" in callbacks["dec_stage_2"]
    table = ops.convert_to_numpy(dec.frozen_target)
    np.testing.assert_allclose(table.sum(1), 1.0, rtol=1e-5)  # every row refreshed
    assert make_dec_stage(*make_backbone_decoder(), TrainingConfig(backbone=SMALL), stage=2).frozen_target is None
    with pytest.raises(ValueError, match="set update_interval"):
        stage_callbacks(monkeypatch, tiny, freeze_target=True)


def test_the_transfer_starts_a_new_backbone_at_decs_without_a_text_encoder(tiny):
    """Fine-tuning (and the DEC search's `start`) builds a new backbone and
    transfers DEC's modality encoders: without a text encoder those are all
    its weights, so the new backbone is DEC's, weight for weight."""
    x = tiny[0]
    pretrained, _ = make_backbone_decoder()
    new, _ = make_backbone_decoder()
    assert not np.allclose(ops.convert_to_numpy(new(x)), ops.convert_to_numpy(pretrained(x)))
    transfer_modality_encoders(pretrained, new)
    for a, b in zip(new.get_weights(), pretrained.get_weights()):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(ops.convert_to_numpy(new(x)), ops.convert_to_numpy(pretrained(x)), atol=1e-6)
