import numpy as np
import pytest
from scipy.special import expit

from applications import SentimentClassifier, SentimentRegressor
from applications.experiments.inference import evaluate_tasks, load_task, predict_segments
from mosi_keras.data import DataError, Preprocessor
from mosi_keras.evaluation import sentiment_metrics
from tests.applications.conftest import MAX_LEN, make_backbone, make_raw


def saved_task(tmp_path, name, task=SentimentClassifier, preprocessor="fitted"):
    data = make_raw()
    prep = Preprocessor(MAX_LEN).fit(data) if preprocessor == "fitted" else None
    model = task(make_backbone(), (8, 4), preprocessor=prep)
    path = str(tmp_path / f"{name}.keras")
    model.save(path)
    return path, model


def test_a_loaded_task_scores_raw_data_with_the_preprocessing_it_carries(tmp_path):
    path, model = saved_task(tmp_path, "one")
    data = make_raw()
    loaded = load_task(path)
    logits = model.predict(model.preprocessor.transform(data), verbose=0).ravel()
    assert evaluate_tasks([loaded], data) == sentiment_metrics(data.sentiment, logits)


def test_an_ensemble_is_scored_on_the_mean_probability_of_its_members(tmp_path):
    tasks = [load_task(saved_task(tmp_path, name)[0]) for name in ("a", "b")]
    data = make_raw()
    probabilities = [expit(task.predict(data, verbose=0).ravel()) for task in tasks]
    columns = predict_segments(tasks, data)
    np.testing.assert_allclose(columns["probability"], np.mean(probabilities, axis=0), atol=1e-5)
    assert columns["predicted_class"].tolist() == (np.mean(probabilities, axis=0) >= 0.5).astype(int).tolist()
    assert list(columns) == ["segment_id", "video_id", "probability", "predicted_class"]


def test_classifiers_and_regressors_do_not_average(tmp_path):
    tasks = [load_task(saved_task(tmp_path, "c")[0]), load_task(saved_task(tmp_path, "r", SentimentRegressor)[0])]
    with pytest.raises(ValueError, match="cannot mix classifiers"):
        evaluate_tasks(tasks, make_raw())


def test_load_and_predict_name_what_is_wrong(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothing.keras: no such model file"):
        load_task(str(tmp_path / "nothing.keras"))
    with pytest.raises(ValueError, match="carries no preprocessing"):
        load_task(saved_task(tmp_path, "bare", preprocessor=None)[0])
    task = load_task(saved_task(tmp_path, "full")[0])
    with pytest.raises(DataError, match=r"missing \['visual'\]"):
        predict_segments([task], make_raw().select_modalities(["text", "audio"]))
