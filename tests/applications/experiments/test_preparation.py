import numpy as np
import pytest

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


def test_unlabelled_rows_from_elsewhere_join_only_the_unlabelled_training_part_labels_unread():
    from applications.experiments.preparation import prepare_experiment

    data = make_synthetic_mosi(n_videos=10, segments_per_video=(4, 5), max_len=5,
                               feature_dims={"text": 6, "audio": 4, "visual": 3}, seed=0)
    extra = make_synthetic_mosi(n_videos=3, segments_per_video=(4, 4), max_len=7,
                                feature_dims={"text": 6, "audio": 4, "visual": 3}, seed=5)
    alone = prepare_experiment(data, 0.4, 0)
    pooled = prepare_experiment(data, 0.4, 0, unlabelled=extra)
    added = np.arange(len(data), len(data) + len(extra))
    split = pooled.split
    for part in ("labelled_train", "labelled_val", "unlabelled_val"):  # the data's own split is unchanged
        np.testing.assert_array_equal(getattr(split, part), getattr(alone.split, part))
    np.testing.assert_array_equal(split.unlabelled_train, np.concatenate([alone.split.unlabelled_train, added]))
    assert np.all(pooled.semi_supervised_labels()[added] == -1)
    flipped = extra.subset(np.arange(len(extra)))
    flipped.sentiment[:] = -flipped.sentiment
    again = prepare_experiment(data, 0.4, 0, unlabelled=flipped)
    for name, value in pooled.inputs.items():
        np.testing.assert_array_equal(again.inputs[name], value)
    np.testing.assert_array_equal(again.sentiment, pooled.sentiment)  # their labels are not even kept


def test_unlabelled_rows_with_other_modalities_are_a_named_error():
    from applications.experiments.preparation import with_unlabelled
    from mosi_keras.data import DataError

    data = make_synthetic_mosi(n_videos=3, feature_dims={"text": 6, "audio": 4}, seed=0)
    other = make_synthetic_mosi(n_videos=3, feature_dims={"text": 6, "audio": 5}, seed=1)
    other.source = "more.npz"
    with pytest.raises(DataError, match=r"--unlabelled more.npz: modalities .*'audio': 5.* differ"):
        with_unlabelled(data, other)
