import numpy as np
import pytest
from keras import ops

from applications.experiments.config import TrainingConfig
from tests.applications.conftest import DIMS, MAX_LEN, SMALL

# Steps run eagerly (the schedule's choices); the traced step: the task tests (run_task_test).
pytestmark = pytest.mark.usefixtures("eager_functions")


def test_fine_tuning_trains_at_the_given_learning_rate(tiny):
    from applications.experiments.training import train_task

    x, labels, _ = tiny
    config = TrainingConfig(backbone=SMALL, head_units=(4,), epochs=1, batch_size=48, run_eagerly=True)
    model, _ = train_task("classifier", (x, labels), (x, labels), config, DIMS, MAX_LEN, learning_rate=3e-3)
    assert float(model.optimizer.learning_rate) == pytest.approx(3e-3)
    model, _ = train_task("classifier", (x, labels), (x, labels), config, DIMS, MAX_LEN)
    assert float(model.optimizer.learning_rate) == pytest.approx(config.learning_rate)


def test_monitor_keeps_the_epoch_best_by_what_it_names(tiny):
    from applications.experiments.training import train_task

    x, labels, _ = tiny
    half = len(labels) // 2
    # Validated on the training rows with the opposite labels: the better
    # the model learns, the worse it scores on them, so the best epoch is
    # not the last one, whose weights fit leaves.
    rows = {k: v[:half] for k, v in x.items()}
    train, validation = (rows, labels[:half]), (rows, 1 - labels[:half])
    for monitor, best in (("val_accuracy", max), ("val_loss", min)):
        config = TrainingConfig(backbone=SMALL, head_units=(4,), epochs=4, patience=4, batch_size=24,
                                learning_rate=1e-2, monitor=monitor, run_eagerly=True)
        model, history = train_task("classifier", train, validation, config, DIMS, MAX_LEN)
        scores = history.history[monitor]
        assert scores[-1] != best(scores)
        kept = model.evaluate(*validation, verbose=0, return_dict=True)[monitor[4:]]
        assert kept == pytest.approx(best(scores), abs=1e-5)
    with pytest.raises(ValueError, match="regressor stops on val_loss"):
        train_task("regressor", train, validation, TrainingConfig(backbone=SMALL, monitor="val_accuracy"), DIMS,
                   MAX_LEN)
    with pytest.raises(ValueError, match="monitor must be one of"):
        TrainingConfig(backbone=SMALL, monitor="val_f1")


def test_a_fixed_budget_runs_every_epoch_at_the_scheduled_rate_and_keeps_the_last_weights(tiny):
    from applications.experiments.training import train_task

    x, labels, _ = tiny
    config = TrainingConfig(backbone=SMALL, head_units=(4,), epochs=3, patience=1, batch_size=24, learning_rate=1e-2,
                            early_stopping=False, lr_schedule="cosine", run_eagerly=True)
    model, history = train_task("classifier", (x, labels), None, config, DIMS, MAX_LEN)
    assert len(history.history["loss"]) == 3 and "val_loss" not in history.history
    assert int(model.optimizer.iterations) == 3 * model.batches_per_epoch(x, config.batch_size)
    assert float(ops.convert_to_numpy(model.optimizer.learning_rate)) == pytest.approx(0.0, abs=1e-9)  # decayed
    with pytest.raises(ValueError, match="early stopping needs validation data"):
        train_task("classifier", (x, labels), None, TrainingConfig(backbone=SMALL), DIMS, MAX_LEN)


def test_ema_keeps_the_averaged_weights_not_the_raw_ones_and_saves_them(tiny, tmp_path):
    import keras

    from applications.experiments.training import train_task

    x, labels, _ = tiny
    raw = {}

    class LastRawWeights(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):  # before fit swaps the average in
            raw["weights"] = [ops.convert_to_numpy(w).copy() for w in self.model.trainable_weights]

    config = TrainingConfig(backbone=SMALL, head_units=(4,), epochs=3, batch_size=24, learning_rate=1e-2,
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


@pytest.mark.cited
@pytest.mark.slow  # run with -m slow; in the default suite: the EMA test
def test_ema_with_early_stopping_validates_and_keeps_the_averaged_weights(tiny):
    from applications.experiments.training import train_task

    x, labels, _ = tiny
    half = len(labels) // 2
    train, validation = ({k: v[:half] for k, v in x.items()}, labels[:half]), (
        {k: v[half:] for k, v in x.items()}, labels[half:])
    config = TrainingConfig(backbone=SMALL, head_units=(4,), epochs=5, patience=5, batch_size=8, learning_rate=3e-3,
                            use_ema=True, ema_momentum=0.8, run_eagerly=True)
    model, history = train_task("classifier", train, validation, config, DIMS, MAX_LEN)
    kept = model.evaluate(*validation, verbose=0, return_dict=True)["loss"]
    assert kept == pytest.approx(min(history.history["val_loss"]), abs=1e-5)


def test_a_run_and_a_users_task_fit_on_raw_data_with_the_same_seed_and_config_give_the_same_weights():
    """`run_experiment` trains its task through `task.fit` on model inputs;
    a user's `task.fit(dataset)` on the raw rows (the task's preprocessor,
    its length buckets, its per-batch padding) trains the same weights."""
    import keras

    from applications.experiments.builders import build_backbone, build_task, compile_task
    from applications.experiments.preparation import prepare_experiment
    from applications.experiments.run import run_experiment
    from mosi_keras.data import make_synthetic_mosi

    data = make_synthetic_mosi(n_videos=10, segments_per_video=(4, 6), max_len=9, feature_dims=DIMS, seed=3)
    config = TrainingConfig(backbone=SMALL, head_units=(4,), epochs=2, batch_size=8, early_stopping=False,
                            lr_schedule="cosine", run_eagerly=True)
    ran = run_experiment(data, "baseline", label_fraction=1.0, seed=5, config=config).model

    keras.utils.set_random_seed(5)  # what a user writes, in the run's order: split, backbone, task, fit
    prepared = prepare_experiment(data, 1.0, 5)
    train, val = (data.subset(prepared.split.labelled_train), data.subset(prepared.split.labelled_val))
    task = build_task("classifier", config, prepared.feature_dims, prepared.max_len,
                      build_backbone(config, prepared.feature_dims, prepared.max_len), prepared.preprocessor)
    compile_task(task, config, total_steps=config.epochs * task.batches_per_epoch(train, config.batch_size))
    task.fit(train, validation_data=val, batch_size=config.batch_size, epochs=config.epochs, verbose=0)

    assert len(task.weights) == len(ran.weights)
    for mine, theirs in zip(task.weights, ran.weights):
        np.testing.assert_allclose(ops.convert_to_numpy(mine), ops.convert_to_numpy(theirs), atol=1e-6,
                                   err_msg=mine.path)
