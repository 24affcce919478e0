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


def stage_callbacks(monkeypatch, tiny, **options):
    """Runs `pretrain_dec` on the tiny data; returns (its result, {stage model: callbacks})."""
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
                            kmeans_n_init=1, batch_size=16, run_eagerly=True, **options)
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


def test_early_stopping_options_put_each_stages_rewind_back(monkeypatch, tiny):
    result, callbacks = stage_callbacks(monkeypatch, tiny, dec_early_stopping=True, ae_early_stopping=True)
    assert "EarlyStopping" in callbacks["dec_stage_2"]
    assert "EarlyStopping" in callbacks["dec_stage_1"]
    assert "val_loss" in result.histories["autoencoder"]


def test_weight_shift_is_the_relative_distance_moved():
    from applications.experiments.schedule import weight_shift

    assert weight_shift([np.ones(4)], [np.ones(4) * 1.5]) == pytest.approx(0.5)
    assert weight_shift([np.ones(4)], [np.ones(4)]) == 0.0


def test_dec_cluster_weight_sets_the_kl_weight_of_stage_two_only():
    config = TrainingConfig(**SMALL, dec_cluster_weight=0.0)
    assert make_dec_stage(*make_backbone_decoder(), config, stage=2).cluster_weight == 0.0
    assert make_dec_stage(*make_backbone_decoder(), TrainingConfig(**SMALL), stage=2).cluster_weight == 1.0
    assert make_dec_stage(*make_backbone_decoder(), config, stage=1).cluster_weight == 0.0


def test_fine_tuning_trains_at_the_given_learning_rate(tiny):
    from applications.experiments.schedule import train_task

    x, labels, _ = tiny
    config = TrainingConfig(**SMALL, head_units=(4,), epochs=1, batch_size=16, run_eagerly=True)
    model, _ = train_task("classifier", (x, labels), (x, labels), config, DIMS, MAX_LEN, learning_rate=3e-3)
    assert float(model.optimizer.learning_rate) == pytest.approx(3e-3)
    model, _ = train_task("classifier", (x, labels), (x, labels), config, DIMS, MAX_LEN)
    assert float(model.optimizer.learning_rate) == pytest.approx(config.learning_rate)


def test_monitor_keeps_the_epoch_best_by_what_it_names(tiny):
    from applications.experiments.schedule import train_task

    x, labels, _ = tiny
    half = len(labels) // 2
    train, validation = ({k: v[:half] for k, v in x.items()}, labels[:half]), (
        {k: v[half:] for k, v in x.items()}, labels[half:])
    for monitor, best in (("val_accuracy", max), ("val_loss", min)):
        config = TrainingConfig(**SMALL, head_units=(4,), epochs=5, patience=5, batch_size=8, learning_rate=3e-3,
                                monitor=monitor, run_eagerly=True)
        model, history = train_task("classifier", train, validation, config, DIMS, MAX_LEN)
        kept = model.evaluate(*validation, verbose=0, return_dict=True)[monitor[4:]]
        assert kept == pytest.approx(best(history.history[monitor]), abs=1e-5)
    with pytest.raises(ValueError, match="regressor stops on val_loss"):
        train_task("regressor", train, validation, TrainingConfig(**SMALL, monitor="val_accuracy"), DIMS, MAX_LEN)
    with pytest.raises(ValueError, match="monitor must be one of"):
        train_task("classifier", train, validation, TrainingConfig(**SMALL, monitor="val_f1"), DIMS, MAX_LEN)


def test_stage_one_is_read_back_by_a_run_that_shares_it_with_the_same_result(tmp_path, tiny):
    import keras

    from applications.experiments.feeding import predict
    from applications.experiments.schedule import pretrain_dec

    x, _, semi = tiny
    config = TrainingConfig(**SMALL, decoder_hidden_dim=8, ae_epochs=2, dec_epochs=2, patience=5,
                            kmeans_n_init=1, batch_size=16, run_eagerly=True)

    def pretrain(y, cache):
        keras.utils.set_random_seed(0)
        return pretrain_dec(x, y, (x, y), config, DIMS, MAX_LEN, seed=0, autoencoder_cache=cache)

    trained = pretrain(semi, str(tmp_path))  # trains stage 1 and keeps it
    kept = sorted(path.name for path in tmp_path.iterdir())
    assert len(kept) == 2 and kept[0].endswith(".json") and kept[1].endswith(".weights.h5")
    read = pretrain(semi, str(tmp_path))  # the same run again: stage 1 read back, not trained
    assert read.autoencoder_reused and not trained.autoencoder_reused
    assert read.histories["autoencoder"] == trained.histories["autoencoder"]
    np.testing.assert_allclose(predict(read.dec, x)["q"], predict(trained.dec, x)["q"], atol=1e-6)

def test_stage_one_key_changes_with_what_stage_one_depends_on_only(tiny):
    from applications.experiments.schedule import autoencoder_key

    x, _, _ = tiny
    config = TrainingConfig(**SMALL)
    key = autoencoder_key(config, 0, x, x)
    for changed in (dict(ae_learning_rate=1e-2), dict(hidden_dim=16), dict(ae_early_stopping=True)):
        assert autoencoder_key(TrainingConfig(**{**config.to_dict(), **changed}), 0, x, x) != key
    assert autoencoder_key(config, 1, x, x) != key
    assert autoencoder_key(config, 0, {**x, "text": x["text"] + 1}, x) != key
    for unrelated in (dict(dec_learning_rate=1e-2), dict(dec_cluster_weight=0.0), dict(learning_rate=1e-3)):
        assert autoencoder_key(TrainingConfig(**{**config.to_dict(), **unrelated}), 0, x, x) == key


def test_freeze_target_trains_stage_two_on_refreshed_per_row_targets(monkeypatch, tiny):
    result, callbacks = stage_callbacks(monkeypatch, tiny, update_interval=2, freeze_target=True, tol=0.0)
    dec = result.dec
    assert dec.target_rows == len(tiny[2])
    assert "TargetRefresh" in callbacks["dec_stage_2"]
    table = ops.convert_to_numpy(dec.frozen_target)
    np.testing.assert_allclose(table.sum(1), 1.0, rtol=1e-5)  # every row refreshed
    assert make_dec_stage(*make_backbone_decoder(), TrainingConfig(**SMALL), stage=2).frozen_target is None
    with pytest.raises(ValueError, match="set update_interval"):
        stage_callbacks(monkeypatch, tiny, freeze_target=True)


def test_cosine_schedule_warms_up_linearly_then_decays_to_zero_at_the_last_step():
    from applications.experiments.schedule import learning_rate_schedule

    config = TrainingConfig(lr_schedule="cosine", warmup_fraction=0.1)
    schedule = learning_rate_schedule(config, 1e-3, total_steps=100)
    rate = {step: float(ops.convert_to_numpy(schedule(step))) for step in (0, 5, 10, 55, 100)}
    assert rate[0] == pytest.approx(0.0, abs=1e-12)
    assert rate[5] == pytest.approx(5e-4)
    assert rate[10] == pytest.approx(1e-3)
    assert rate[55] == pytest.approx(5e-4, rel=1e-4)  # half-way through the decay: cos(π/2)
    assert rate[100] == pytest.approx(0.0, abs=1e-9)
    assert learning_rate_schedule(TrainingConfig(), 3e-4, total_steps=100) == 3e-4
    with pytest.raises(ValueError, match="lr_schedule must be one of"):
        TrainingConfig(lr_schedule="linear")


def test_a_fixed_budget_runs_every_epoch_at_the_scheduled_rate_and_keeps_the_last_weights(tiny):
    from applications.experiments.feeding import steps_per_epoch
    from applications.experiments.schedule import task_feed, train_task

    x, labels, _ = tiny
    config = TrainingConfig(**SMALL, head_units=(4,), epochs=4, patience=1, batch_size=16, learning_rate=1e-2,
                            early_stopping=False, lr_schedule="cosine", run_eagerly=True)
    model, history = train_task("classifier", (x, labels), None, config, DIMS, MAX_LEN)
    assert len(history.history["loss"]) == 4 and "val_loss" not in history.history
    assert int(model.optimizer.iterations) == 4 * steps_per_epoch(task_feed((x, labels), None, config))
    assert float(ops.convert_to_numpy(model.optimizer.learning_rate)) == pytest.approx(0.0, abs=1e-9)  # decayed
    with pytest.raises(ValueError, match="early stopping needs validation data"):
        train_task("classifier", (x, labels), None, TrainingConfig(**SMALL), DIMS, MAX_LEN)


def test_ema_keeps_the_averaged_weights_not_the_raw_ones_and_saves_them(tiny, tmp_path):
    import keras

    from applications.experiments.schedule import train_task

    x, labels, _ = tiny
    raw = {}

    class LastRawWeights(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):  # before fit swaps the average in
            raw["weights"] = [ops.convert_to_numpy(w).copy() for w in self.model.trainable_weights]

    config = TrainingConfig(**SMALL, head_units=(4,), epochs=3, batch_size=16, learning_rate=1e-2,
                            early_stopping=False, use_ema=True, ema_momentum=0.9, run_eagerly=True)
    model, _ = train_task("classifier", (x, labels), None, config, DIMS, MAX_LEN, callbacks=[LastRawWeights()])
    kept = [ops.convert_to_numpy(w) for w in model.trainable_weights]
    averages = [ops.convert_to_numpy(v) for v in model.optimizer._model_variables_moving_average]
    for weight, average in zip(kept, averages):
        np.testing.assert_allclose(weight, average, atol=1e-6)
    assert any(not np.allclose(k, r) for k, r in zip(kept, raw["weights"]))
    path = tmp_path / "ema.keras"
    model.save(path)
    reloaded = keras.saving.load_model(path, safe_mode=True)
    for weight, saved in zip(kept, reloaded.trainable_weights):
        np.testing.assert_allclose(ops.convert_to_numpy(saved), weight)


def test_ema_with_early_stopping_validates_and_keeps_the_averaged_weights(tiny):
    from applications.experiments.schedule import train_task

    x, labels, _ = tiny
    half = len(labels) // 2
    train, validation = ({k: v[:half] for k, v in x.items()}, labels[:half]), (
        {k: v[half:] for k, v in x.items()}, labels[half:])
    config = TrainingConfig(**SMALL, head_units=(4,), epochs=5, patience=5, batch_size=8, learning_rate=3e-3,
                            use_ema=True, ema_momentum=0.8, run_eagerly=True)
    model, history = train_task("classifier", train, validation, config, DIMS, MAX_LEN)
    kept = model.evaluate(*validation, verbose=0, return_dict=True)["loss"]
    assert kept == pytest.approx(min(history.history["val_loss"]), abs=1e-5)
