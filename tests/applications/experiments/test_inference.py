import numpy as np
import pytest
from scipy.special import expit

from applications import SentimentClassifier, SentimentRegressor
from applications.experiments.inference import evaluate_tasks, load_task, predict_segments
from mosi_keras.data import DataError, Preprocessor
from mosi_keras.evaluation import sentiment_metrics
from tests.applications.conftest import MAX_LEN, make_backbone, make_raw


def new_task(task=SentimentClassifier, preprocessor="fitted"):
    """An untrained task on the tiny backbone, with a preprocessor fitted on `make_raw()` (or none)."""
    prep = Preprocessor(MAX_LEN).fit(make_raw()) if preprocessor == "fitted" else None
    return task(make_backbone(), (8, 4), preprocessor=prep)


def saved_task(tmp_path, name, task=SentimentClassifier, preprocessor="fitted"):
    model = new_task(task, preprocessor)
    path = str(tmp_path / f"{name}.keras")
    model.save(path)
    return path, model


def test_a_loaded_task_scores_raw_data_with_the_preprocessing_it_carries(tmp_path):
    path, model = saved_task(tmp_path, "one")
    data = make_raw()
    loaded = load_task(path)
    logits = model.predict(model.preprocessor.transform(data), verbose=0).ravel()
    assert evaluate_tasks([loaded], data) == sentiment_metrics(data.sentiment, logits)


@pytest.mark.usefixtures("eager_functions")  # the averaging; a traced predict: the test above
def test_an_ensemble_is_scored_on_the_mean_probability_of_its_members():
    tasks = [new_task(), new_task()]
    data = make_raw()
    probabilities = [expit(task.predict(data, verbose=0).ravel()) for task in tasks]
    columns = predict_segments(tasks, data)
    np.testing.assert_allclose(columns["probability"], np.mean(probabilities, axis=0), atol=1e-5)
    assert columns["predicted_class"].tolist() == (np.mean(probabilities, axis=0) >= 0.5).astype(int).tolist()
    assert list(columns) == ["segment_id", "video_id", "probability", "predicted_class"]


@pytest.mark.usefixtures("eager_functions")
def test_a_fold_ensemble_scores_raw_data_as_the_mean_of_its_members():
    """What `reproduce --test-data` scores for a run with `folds` (fold_use
    "ensemble"): one `SentimentEnsemble`, preparing raw data with its
    members' preprocessing."""
    from applications import SentimentEnsemble

    members = [new_task(), new_task()]
    data = make_raw()
    assert evaluate_tasks([SentimentEnsemble(members)], data) == pytest.approx(evaluate_tasks(members, data))


def test_classifiers_and_regressors_do_not_average_and_are_refused_before_predicting(monkeypatch):
    from applications.experiments import inference

    predicted = []
    monkeypatch.setattr(inference, "predict_outputs", lambda *args, **kwargs: predicted.append(args))
    tasks = [new_task(), new_task(SentimentRegressor)]
    for score in (evaluate_tasks, predict_segments):
        with pytest.raises(ValueError, match="cannot mix classifiers"):
            score(tasks, make_raw())
    assert predicted == []


def test_load_and_predict_name_what_is_wrong(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothing.keras: no such model file"):
        load_task(str(tmp_path / "nothing.keras"))
    with pytest.raises(ValueError, match="carries no preprocessing"):
        load_task(saved_task(tmp_path, "bare", preprocessor=None)[0])
    task = load_task(saved_task(tmp_path, "full")[0])
    with pytest.raises(DataError, match=r"missing \['visual'\]"):
        predict_segments([task], make_raw().select_modalities(["text", "audio"]))
