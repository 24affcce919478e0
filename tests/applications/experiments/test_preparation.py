import numpy as np

from applications.experiments.preparation import prepare_experiment
from mosi_keras.data import binary_labels, make_synthetic_mosi


def test_prepared_experiment_gives_labels_or_scores_of_the_labelled_videos_only():
    data = make_synthetic_mosi(n_videos=12, segments_per_video=(3, 4), max_len=6,
                               feature_dims={"text": 4, "audio": 3}, seed=1)
    prepared = prepare_experiment(data, label_fraction=0.5, seed=0)
    x, labels = prepared.labelled("train")
    _, scores = prepared.labelled("train", scores=True)
    rows = prepared.split.labelled_train
    np.testing.assert_array_equal(labels, binary_labels(data.sentiment[rows]))
    np.testing.assert_array_equal(scores, data.sentiment[rows])
    assert len(x["text"]) == len(rows)
    semi = prepared.semi_supervised_labels()
    assert np.all(semi[prepared.split.unlabelled_train] == -1)


def test_the_preprocessing_is_fitted_on_the_training_videos_only():
    data = make_synthetic_mosi(n_videos=12, segments_per_video=(3, 4), max_len=6,
                               feature_dims={"text": 4, "audio": 3}, seed=1)
    prepared = prepare_experiment(data, seed=0)
    val = prepared.split.val
    shifted = data.subset(np.arange(len(data)))
    shifted.modalities["text"][val] += 100.0  # only validation rows change
    again = prepare_experiment(shifted, seed=0)
    assert again.preprocessor.get_config() == prepared.preprocessor.get_config()
    train = prepared.split.train
    np.testing.assert_array_equal(again.inputs["text"][train], prepared.inputs["text"][train])
    assert prepared.feature_dims == {"text": 4, "audio": 3} and prepared.max_len == 6
