"""The video-level classifier: padding, batch independence, one-utterance videos, files, runs."""

import keras
import numpy as np
import pytest

from applications import ContextualSentimentClassifier
from applications.batching import predict_videos
from applications.experiments.config import TrainingConfig
from applications.experiments.inference import load_task, predict_outputs
from applications.experiments.run import run_experiment
from mosi_keras.data import Preprocessor, binary_labels, make_synthetic_mosi
from mosi_keras.data.video import UTTERANCE_MASK, video_view
from mosi_keras.losses import LabelledBinaryCrossentropy
from tests.applications.conftest import DIMS, MAX_LEN, TINY, make_backbone, make_raw
from tests.task_testing import run_task_test

CONTEXT = dict(context_dim=8, context_heads=2, context_intermediate_dim=8, context_dropout=0.0)


@pytest.fixture(scope="module")
def videos():
    data = make_synthetic_mosi(n_videos=5, segments_per_video=(1, 6), max_len=MAX_LEN, feature_dims=DIMS, seed=3)
    x = Preprocessor(max_len=MAX_LEN).fit(data).transform(data)
    return data, x, video_view(x, data.video_ids, data.segment_index, binary_labels(data.sentiment))


def make_model():
    keras.utils.set_random_seed(0)
    return ContextualSentimentClassifier(make_backbone(), head_units=(8, 4), head_dropout=0.0, **CONTEXT)


def padded(view_inputs, labels, utterances=4, steps=3):
    """The same videos with more padded utterances and more padded steps."""
    out = {}
    for name, value in view_inputs.items():
        widths = [(0, 0), (0, utterances)] + ([(0, steps)] if value.ndim > 2 else []) + [(0, 0)] * (value.ndim - 3)
        out[name] = np.pad(value, widths)
    return out, np.pad(labels, [(0, 0), (0, utterances)], constant_values=-1)


def test_padded_utterances_change_neither_loss_nor_predictions(videos):
    _, _, view = videos
    model = make_model()
    wide, wide_labels = padded(view.inputs, view.labels)
    loss = LabelledBinaryCrossentropy()
    u = view.rows.shape[1]
    for training in (False, True):  # True: the head's batch statistics count real utterances only
        narrow_out = keras.ops.convert_to_numpy(model(view.inputs, training=training))
        wide_out = keras.ops.convert_to_numpy(model(wide, training=training))
        valid = view.rows >= 0
        np.testing.assert_allclose(wide_out[:, :u][valid], narrow_out[valid], atol=1e-5)
        np.testing.assert_allclose(float(loss(wide_labels, wide_out)), float(loss(view.labels, narrow_out)), rtol=1e-5)


@pytest.mark.usefixtures("eager_functions")  # predictions compared; the traced steps: the task test
def test_an_utterance_prediction_does_not_depend_on_the_other_videos_of_its_batch(videos):
    data, x, view = videos
    model = make_model()
    together = predict_videos(model, view, videos_per_batch=5)
    for video in range(len(view)):
        alone_rows = view.rows[video][view.rows[video] >= 0]
        alone = video_view(x, data.video_ids, data.segment_index, rows=alone_rows)
        np.testing.assert_allclose(alone.to_rows(predict_videos(model, alone)), together[video][: len(alone_rows)],
                                   atol=1e-5)


def test_a_video_of_one_utterance_is_predicted_and_trained_on(videos):
    data, x, _ = videos
    single = np.flatnonzero(data.video_ids == data.video_ids[0])[:1]
    view = video_view(x, data.video_ids, data.segment_index, binary_labels(data.sentiment), rows=single)
    assert view.inputs[UTTERANCE_MASK].shape == (1, 1)
    model = make_model()
    model.compile(optimizer=keras.optimizers.Adam(1e-2), run_eagerly=True)  # two steps: tracing would cost more
    before = predict_videos(model, view)
    model.fit(view.inputs, view.labels, epochs=2, verbose=0)
    after = predict_videos(model, view)
    assert after.shape == (1, 1) and np.isfinite(after).all() and not np.allclose(before, after)


@pytest.mark.usefixtures("eager_functions")  # predictions compared; the traced steps: the task test
def test_contextual_classifier_survives_a_keras_file_with_safe_mode(videos, tmp_path):
    _, _, view = videos
    model = make_model()
    model.save(tmp_path / "contextual.keras")
    loaded = keras.saving.load_model(tmp_path / "contextual.keras", safe_mode=True)
    assert loaded.get_config()["context_dim"] == CONTEXT["context_dim"]
    np.testing.assert_allclose(predict_videos(loaded, view), predict_videos(model, view), atol=1e-6)


def test_a_contextual_dec_run_fine_tunes_the_pretrained_encoder_and_scores_rows_in_place(tmp_path):
    data = make_synthetic_mosi(n_videos=10, segments_per_video=(3, 6), max_len=5, feature_dims=DIMS, seed=1)
    config = TrainingConfig.from_dict(dict(TINY, **CONTEXT))
    result = run_experiment(data, "contextual_dec", 0.4, 0, config, out_dir=str(tmp_path))
    record = result.record
    assert set(record.epochs) == {"autoencoder", "clustering", "contextual_classifier"}
    model = load_task(str(tmp_path / "contextual_dec_labels040_seed0.keras"))
    x = model.preprocessor.transform(data)
    rows = result.prepared.split.labelled_val  # videos in split order, rows mapped back to it
    outputs = predict_outputs(model, {k: v[rows] for k, v in x.items()}, video_ids=data.video_ids[rows],
                              segment_index=data.segment_index[rows])
    assert record.val["acc2"] == pytest.approx(np.mean((outputs >= 0) == binary_labels(data.sentiment[rows])))


def test_contextual_classifier_passes_the_task_test_reading_raw_segments_by_video(tmp_path):
    data = make_raw()
    model = run_task_test(ContextualSentimentClassifier, make_backbone(), data, tmp_path,
                          dict(head_units=(8, 4), **CONTEXT))
    view = video_view(model.preprocessor.transform(data), data.video_ids, data.segment_index)
    by_rows = view.to_rows(predict_videos(model, view))
    np.testing.assert_allclose(model.predict(data, verbose=0).ravel(), by_rows, atol=1e-5)
    np.testing.assert_allclose(model.predict(view, verbose=0), by_rows[:, None], atol=1e-5)  # a view: (N, 1)
    np.testing.assert_allclose(predict_outputs(model, data), by_rows, atol=1e-5)  # `evaluate` / `predict`'s path
