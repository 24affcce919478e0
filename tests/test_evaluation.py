import numpy as np
import pytest

from mosi_keras.evaluation import (
    cluster_accuracy,
    clustering_metrics,
    match_clusters_to_classes,
    sentiment_metrics,
)


def test_binary_accuracy_follows_both_conventions_of_the_literature():
    sentiment = np.array([-1.2, 0.0, 0.4, -0.2, 2.0])
    logits = np.array([-0.5, -0.1, 0.3, 0.2, 0.0])
    m = sentiment_metrics(sentiment, logits)
    # acc2: sentiment >= 0 positive, prediction >= 0 positive -> rows 0, 2, 4 right
    assert m["acc2"] == pytest.approx(3 / 5) and m["n"] == 5
    # acc2_non0: the zero-sentiment row dropped, > 0 on both sides -> rows 0, 2 right (4 has logit 0)
    assert m["acc2_non0"] == pytest.approx(2 / 4) and m["n_non0"] == 4
    assert "acc7" not in m and "mae" not in m


def test_score_metrics_match_hand_computed_values():
    sentiment = np.array([-2.6, -0.4, 0.0, 1.4, 3.0])
    scores = np.array([-3.4, 0.6, 0.2, 1.6, 2.4])
    m = sentiment_metrics(sentiment, scores, predicts_score=True)
    # rounded into [-3, 3]: truth -3, 0, 0, 1, 3; predictions -3, 1, 0, 2, 2
    assert m["acc7"] == pytest.approx(2 / 5)
    assert m["mae"] == pytest.approx(np.mean([0.8, 1.0, 0.2, 0.2, 0.6]))
    assert m["corr"] == pytest.approx(np.corrcoef(sentiment, scores)[0, 1])


def test_corr_is_none_when_the_predictions_are_constant():
    assert sentiment_metrics([-1.0, 1.0, 2.0], [0.5, 0.5, 0.5], predicts_score=True)["corr"] is None


def test_mismatched_lengths_are_a_clear_error():
    with pytest.raises(ValueError, match="3 labels but 2 predictions"):
        sentiment_metrics([1.0, 2.0, 3.0], [0.1, 0.2])


def test_hungarian_match_finds_the_permutation_that_agrees_most():
    clusters = np.array([2, 2, 0, 0, 1, 1, 1])
    labels = np.array([0, 0, 1, 1, 2, 2, 0])
    mapping, matched = match_clusters_to_classes(clusters, labels, 3)
    assert mapping.tolist() == [1, 2, 0] and matched == 6
    assert cluster_accuracy(labels, clusters) == pytest.approx(6 / 7)


def test_clustering_metrics_are_one_for_a_relabelled_perfect_clustering():
    labels = np.array([0, 0, 1, 1, 1])
    m = clustering_metrics(labels, 1 - labels)
    assert m == pytest.approx({"cluster_acc": 1.0, "nmi": 1.0, "ari": 1.0})
