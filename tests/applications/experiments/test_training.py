import numpy as np
import pytest
from keras import ops

from applications import SemiSupervisedDEC
from applications.experiments.config import TrainingConfig
from applications.experiments.dec_pretraining import make_dec_stage
from applications.experiments.training import build_backbone, build_task, compile_task, train_task
from tests.applications.conftest import DIMS, MAX_LEN, SMALL, make_backbone_decoder

# Steps run eagerly (the schedule's choices); the traced step: the task tests (run_task_test).
pytestmark = pytest.mark.usefixtures("eager_functions")


def test_fine_tuning_trains_at_the_given_learning_rate(tiny):
    x, labels, _ = tiny
    config = TrainingConfig(backbone=SMALL, head_units=(4,), epochs=1, batch_size=48, run_eagerly=True)
    model, _ = train_task("classifier", (x, labels), (x, labels), config, DIMS, MAX_LEN, learning_rate=3e-3)
    assert float(model.optimizer.learning_rate) == pytest.approx(3e-3)
    model, _ = train_task("classifier", (x, labels), (x, labels), config, DIMS, MAX_LEN)
    assert float(model.optimizer.learning_rate) == pytest.approx(config.learning_rate)


def test_monitor_keeps_the_epoch_best_by_what_it_names(tiny):
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


def test_models_are_compiled_with_their_optimizer_variables_built():
    config = TrainingConfig(backbone=SMALL)
    classifier = compile_task(build_task("classifier", config, DIMS, MAX_LEN), config)
    assert classifier.optimizer.built
    backbone, decoder = make_backbone_decoder()
    dec = make_dec_stage(backbone, decoder, config, stage=2)
    assert isinstance(dec, SemiSupervisedDEC) and dec.optimizer.built
    assert dec.clustering.built  # centroids exist before the first step


def test_a_text_encoder_from_the_config_learns_at_its_own_rate(tiny_bert_preset):
    audio_visual = {"audio": 6, "visual": 5}
    config = TrainingConfig(backbone=dict(SMALL, text_frozen_layers=1), learning_rate=1e-3,
                            text_encoder=str(tiny_bert_preset), text_learning_rate=2e-5)
    classifier = compile_task(build_task("classifier", config, audio_visual, MAX_LEN), config)
    encoder = classifier.backbone.text_encoder
    assert type(encoder).__name__ == "BertBackbone" and not encoder.trainable_weights  # its one block frozen
    config = TrainingConfig(backbone=SMALL, learning_rate=1e-3, text_encoder=str(tiny_bert_preset),
                            text_learning_rate=2e-5)
    classifier = compile_task(build_task("classifier", config, audio_visual, MAX_LEN), config)
    optimizer, encoder = classifier.optimizer, classifier.backbone.text_encoder
    assert optimizer.rate_multiplier == pytest.approx(0.02)
    assert len(optimizer._scaled) == len(encoder.trainable_variables) > 0
    same_rate = TrainingConfig(backbone=SMALL, text_encoder=str(tiny_bert_preset), text_learning_rate=None)
    assert compile_task(build_task("classifier", same_rate, audio_visual, MAX_LEN), same_rate).optimizer.rate_multiplier == 1.0
    default = TrainingConfig(backbone=SMALL, learning_rate=1e-3, text_encoder=str(tiny_bert_preset))  # the measured 5e-5
    optimizer = compile_task(build_task("classifier", default, audio_visual, MAX_LEN), default).optimizer
    assert optimizer.rate_multiplier == pytest.approx(0.05)


def test_fine_tuning_moves_the_encoder_at_its_own_rate_and_the_rest_at_the_tasks(tiny_bert_preset, eager_functions):
    """Adam's first step moves each weight by about its rate (m / sqrt(v) is
    the gradient's sign): the encoder's by 1e-4, its embedding tables
    included (their sparse gradients are summed before Adam squares them: a
    token in k rows, [CLS] in all, would otherwise move by up to sqrt(k)
    times the rate), the rest by 1e-2."""
    from mosi_keras.transcript_tokenizer import TOKEN_INPUTS, TranscriptTokenizer

    config = TrainingConfig(backbone=SMALL, learning_rate=1e-2, weight_decay=0.0, text_encoder=str(tiny_bert_preset),
                            text_learning_rate=1e-4)
    classifier = compile_task(build_task("classifier", config, {"audio": 6}, MAX_LEN), config)
    tokens, _ = TranscriptTokenizer.from_preset(tiny_bert_preset, max_words=MAX_LEN)(
        ["i loved this movie so good", "not for me", "unbelievable movie", "bad bad"])
    rng = np.random.default_rng(0)
    x = {**{TOKEN_INPUTS[name]: value for name, value in tokens.items()},
         "audio": rng.normal(size=(4, MAX_LEN, 6)).astype("float32"), "audio_mask": np.ones((4, MAX_LEN), "int32")}
    encoder = {id(w) for w in classifier.backbone.text_encoder.trainable_weights}
    before = [np.array(w) for w in classifier.trainable_weights]
    classifier.train_on_batch(x, np.array([1.0, 0.0, 1.0, 0.0]))
    moved = {True: [], False: []}
    for weight, start in zip(classifier.trainable_weights, before):
        moved[id(weight) in encoder].append(np.abs(np.array(weight) - start).max())
    assert len(moved[True]) == len(encoder) > 0
    assert max(moved[True]) == pytest.approx(1e-4, rel=0.05)  # the encoder: its own rate
    assert max(moved[False]) == pytest.approx(1e-2, rel=0.05)  # everything else: the task's


def test_a_task_reloaded_from_its_file_keeps_the_encoders_rate(tiny_bert_preset, tmp_path):
    import keras

    config = TrainingConfig(backbone=SMALL, learning_rate=1e-3, text_encoder=str(tiny_bert_preset),
                            text_learning_rate=2e-5)
    classifier = compile_task(build_task("classifier", config, {"audio": 6}, MAX_LEN), config)
    classifier.save(tmp_path / "task.keras")
    reloaded = keras.saving.load_model(tmp_path / "task.keras", safe_mode=True)
    optimizer, encoder = reloaded.optimizer, reloaded.backbone.text_encoder
    assert optimizer.rate_multiplier == pytest.approx(0.02)
    assert optimizer._scaled == {optimizer._var_key(v) for v in encoder.trainable_variables} != set()
