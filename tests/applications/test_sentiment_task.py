import numpy as np
import pytest

import keras
from keras import ops

from applications import SentimentClassifier, SentimentRegressor
from mosi_keras.data import Preprocessor, binary_labels, from_arrays, make_synthetic_mosi
from tests.applications.conftest import DIMS, MAX_LEN, make_backbone, make_raw
from tests.conftest import save_and_reload

# Steps run eagerly (what a task's fit, predict and save do); the traced step: the task tests (run_task_test).
pytestmark = pytest.mark.usefixtures("eager_functions")


@pytest.mark.backend_agnostic
@pytest.mark.parametrize("task,target", [(SentimentClassifier, "labels"), (SentimentRegressor, "scores")])
def test_task_outputs_one_value_per_row_and_learns(tiny, task, target):
    x, labels, _ = tiny
    y = labels.astype("float32") if target == "labels" else (labels * 4.0 - 2.0).astype("float32")
    model = task(make_backbone())
    model.compile(optimizer=keras.optimizers.Adam(1e-2))
    assert tuple(model(x).shape) == (48, 1)
    history = model.fit(x, y, epochs=4, batch_size=48, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]


def test_task_built_on_a_backbone_trains_that_backbone(tiny):
    x, labels, _ = tiny
    backbone = make_backbone()
    before = [w.copy() for w in backbone.get_weights()]
    model = SentimentClassifier(backbone)
    assert model.backbone is backbone
    model.compile(optimizer=keras.optimizers.Adam(1e-2))
    model.fit(x, labels.astype("float32"), epochs=1, batch_size=48, verbose=0)
    assert any(not np.allclose(a, b) for a, b in zip(before, backbone.get_weights()))


@pytest.mark.backend_agnostic
@pytest.mark.parametrize("task", [SentimentClassifier, SentimentRegressor])
def test_task_file_carries_its_hyperparameters_and_preprocessing(tiny, tmp_path, task):
    x, labels, _ = tiny
    data = make_synthetic_mosi(n_videos=2, segments_per_video=(3, 3), max_len=MAX_LEN, feature_dims=DIMS)
    preprocessor = Preprocessor(MAX_LEN).fit(data)
    model = task(make_backbone(), head_units=(8, 4), head_dropout=0.2, preprocessor=preprocessor)
    model.compile()
    model.fit(x, labels.astype("float32"), epochs=1, batch_size=48, verbose=0)
    reloaded = save_and_reload(model, tmp_path)
    assert type(reloaded) is task
    assert (reloaded.head_units, reloaded.head_dropout) == ((8, 4), 0.2)
    assert reloaded.backbone.get_config() == model.backbone.get_config()
    np.testing.assert_allclose(reloaded.preprocessor.transform(data)["text"],
                               preprocessor.transform(data)["text"], atol=1e-6)
    np.testing.assert_allclose(
        ops.convert_to_numpy(reloaded.predict(x, verbose=0)), ops.convert_to_numpy(model.predict(x, verbose=0)),
        atol=1e-5,
    )


def test_a_loaded_task_predicts_raw_arrays_as_the_manual_path_did(tmp_path):
    data = make_raw()
    preprocessor = Preprocessor(MAX_LEN).fit(data)
    model = SentimentClassifier(make_backbone(), (8, 4), preprocessor=preprocessor)
    reloaded = save_and_reload(model, tmp_path)
    by_hand = ops.convert_to_numpy(model.predict(preprocessor.transform(data), verbose=0))
    arrays = {**data.modalities, **{f"{name}_lengths": lengths for name, lengths in data.lengths.items()}}
    np.testing.assert_allclose(ops.convert_to_numpy(reloaded.predict(data, verbose=0)), by_hand, atol=1e-5)
    np.testing.assert_allclose(ops.convert_to_numpy(reloaded.predict(arrays, verbose=0)), by_hand, atol=1e-5)
    unscaled = ops.convert_to_numpy(reloaded.predict(
        {**{name: np.pad(array, ((0, 0), (0, MAX_LEN - array.shape[1]), (0, 0)))
            for name, array in data.modalities.items()},
         **{f"{name}_mask": np.arange(MAX_LEN)[None] < lengths[:, None] for name, lengths in data.lengths.items()}},
        verbose=0))
    assert not np.allclose(unscaled, by_hand, atol=1e-3)  # model inputs pass through: raw values are not scaled


def test_raw_data_needs_a_preprocessor_and_training_needs_labels():
    data = make_raw()
    with pytest.raises(ValueError, match="carries no preprocessor"):
        SentimentClassifier(make_backbone()).predict(data, verbose=0)
    model = SentimentClassifier(make_backbone(), preprocessor=Preprocessor(MAX_LEN).fit(data))
    model.compile()
    unlabelled = from_arrays(data.modalities, None, lengths=data.lengths)
    assert model.predict(unlabelled, verbose=0).shape == (len(data), 1)
    with pytest.raises(ValueError, match="no sentiment to train"):
        model.fit(unlabelled, epochs=1, verbose=0)


def test_fit_on_raw_data_trains_on_binary_labels_or_scores(tmp_path):
    data = make_raw()
    model = SentimentClassifier(make_backbone(), preprocessor=Preprocessor(MAX_LEN).fit(data))
    np.testing.assert_array_equal(model.targets(data).ravel(), binary_labels(data.sentiment))
    model.compile()
    history = model.fit(data, validation_data=data, epochs=1, verbose=0)
    assert {"loss", "val_loss", "accuracy", "val_accuracy"} <= set(history.history)


def test_a_preset_folder_of_another_model_or_none_is_refused_by_name(tmp_path):
    from applications import SemiSupervisedDEC, SentimentTask

    classifier = SentimentClassifier(make_backbone(), head_units=(8, 4))
    classifier.save_to_preset(tmp_path / "preset")
    assert isinstance(SentimentTask.from_preset(tmp_path / "preset"), SentimentClassifier)  # a base class loads it
    with pytest.raises(ValueError, match="holds a SentimentClassifier, not a SemiSupervisedDEC"):
        SemiSupervisedDEC.from_preset(tmp_path / "preset")
    with pytest.raises(ValueError, match="not a mosi_keras preset folder"):
        SentimentClassifier.from_preset(tmp_path)
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "mine.txt").write_text("a user's file")
    with pytest.raises(FileExistsError, match="a folder that is not a preset"):
        classifier.save_to_preset(tmp_path / "notes")
    assert (tmp_path / "notes" / "mine.txt").read_text() == "a user's file"
    classifier.save_to_preset(tmp_path / "preset")  # an earlier preset is replaced
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes", "preset"]  # no partial folder left


def test_fit_on_raw_data_feeds_batches_cut_to_the_widths_of_the_length_ladder(monkeypatch):
    import tensorflow as tf

    data = make_raw(n_videos=8)
    task = SentimentClassifier(make_backbone(), preprocessor=Preprocessor(MAX_LEN).fit(data))
    fed = {}
    monkeypatch.setattr(keras.Model, "fit", lambda self, *args, **kwargs: fed.update(kwargs))
    task.fit(data, validation_data=data, batch_size=4, epochs=1)
    widths = set()
    batches = fed["x"].take(fed["steps_per_epoch"]) if isinstance(fed["x"], tf.data.Dataset) else fed["x"]
    for x, _ in batches:
        width = np.asarray(x["audio_mask"]).shape[1]  # a width of the ladder: a multiple of 4, or the whole axis
        assert width % 4 == 0 or width == MAX_LEN
        widths.add(width)
    assert len(widths) > 1 and min(widths) < MAX_LEN
    assert task.batches_per_epoch(data, 4) == fed["steps_per_epoch"] >= -(-len(data) // 4)
    assert_one_pass_of_validation_batches(fed, task.batches_per_epoch(data, 4))  # the validation rows likewise
    inputs, targets = task.preprocess(data), task.targets(data)
    fed.clear()
    task.fit(inputs, targets, validation_data=(inputs, targets), batch_size=4)  # model inputs, as a run passes them
    assert fed["steps_per_epoch"] == task.batches_per_epoch(inputs, 4)
    assert_one_pass_of_validation_batches(fed, task.batches_per_epoch(inputs, 4))


def assert_one_pass_of_validation_batches(fed, batches):
    """Validation is one pass of the unshuffled batches, not a repeated dataset read `validation_steps` at a time:
    TensorFlow took seconds to drop a repeated dataset's iterator, which Keras does before every validation."""
    import tensorflow as tf

    assert "validation_steps" not in fed
    assert int(fed["validation_data"].cardinality()) == batches != tf.data.INFINITE_CARDINALITY


@pytest.mark.backend_agnostic
def test_compile_defaults_to_the_train_recipe_whose_schedule_spans_the_first_fit():
    from mosi_keras.optimizers import MultiRateAdam

    data = make_synthetic_mosi(n_videos=4, max_len=MAX_LEN, feature_dims=DIMS, seed=0)
    task = SentimentClassifier(make_backbone(), preprocessor=Preprocessor(MAX_LEN).fit(data))
    task.compile()
    optimizer = task.optimizer
    assert isinstance(optimizer, MultiRateAdam) and optimizer.rate_multiplier == 1.0  # no text encoder
    assert optimizer.get_config()["weight_decay"] == pytest.approx(1e-2)
    schedule = optimizer.get_config()["learning_rate"]["config"]
    assert schedule == {"learning_rate": 1e-3, "warmup_fraction": 0.1, "total_steps": None}
    task.fit(data, epochs=2, batch_size=8, verbose=0)
    steps = 2 * task.steps_per_epoch(task.preprocess(data), 8)
    assert int(optimizer.iterations) == steps
    assert optimizer.get_config()["learning_rate"]["config"]["total_steps"] == steps
    assert float(ops.convert_to_numpy(optimizer.learning_rate)) == pytest.approx(0.0, abs=1e-9)  # decayed to 0
    constant = SentimentClassifier(make_backbone())
    constant.compile(optimizer=constant.default_optimizer(learning_rate=3e-4, lr_schedule="constant"))
    assert float(ops.convert_to_numpy(constant.optimizer.learning_rate)) == pytest.approx(3e-4)
