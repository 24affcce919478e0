import numpy as np

from applications.experiments.run import RunRecord, prepare_experiment
from mosi_keras.data import binary_labels, make_synthetic_mosi


def test_run_record_round_trips_through_its_json_form():
    record = RunRecord("dec", 0.4, 3, 100, {"classifier": 2}, 10, 20, 5, {"acc2": 0.5}, None, 1.5,
                       val_all={"acc2": 0.6}, backbone_shift=0.1, clustering_val={"cluster_acc": 0.6},
                       clusters={"kmeans_start": {"nmi": 0.1}})
    assert RunRecord.from_dict(record.to_dict()) == record
    baseline = RunRecord("baseline", 1.0, 0, 100, {"classifier": 2}, 30, 0, 5, {"acc2": 0.5})
    assert {"clustering_val", "clusters"}.isdisjoint(baseline.to_dict())  # only DEC runs have clusters
    assert baseline.to_dict()["test"] is None


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
