"""Evaluation in NumPy and scikit-learn: the MOSI protocol and clustering quality.

These score predictions after the fact (on whole validation or test sets);
they are not `keras.metrics`.
"""

import numpy as np
from scipy.optimize import linear_sum_assignment
from sklearn.metrics import adjusted_rand_score, f1_score, normalized_mutual_info_score

from mosi_keras.data.preprocessing import binary_labels


def sentiment_metrics(sentiment, predictions, predicts_score=False):
    """The metrics of the CMU-MOSI literature, for a classifier or a regressor.

    Binary accuracy and weighted F1 in both conventions: `acc2` / `f1`
    (positive is sentiment >= 0, all samples) and `acc2_non0` / `f1_non0`
    (samples with sentiment exactly 0 removed, < 0 negative, > 0 positive).
    A prediction >= 0 is positive, whether it is a logit or a score. When
    the predictions are sentiment scores in [-3, 3] (`predicts_score=True`),
    also `acc7` (both rounded to the nearest integer in [-3, 3]), `mae` and
    Pearson's `corr` (`None` when either side is constant), as reported by
    MulT, MISA, Self-MM and MMSA.

    Args:
        sentiment: true sentiment scores `(N,)` in [-3, 3].
        predictions: predicted logits or scores `(N,)`.
        predicts_score: whether `predictions` are sentiment scores.

    Returns:
        dict of floats (accuracies as fractions in [0, 1]) with the sample
        counts `n` and `n_non0`, and `predicted_positive`, the share of
        predictions >= 0 (0 or 1: one class predicted for everything).

    Example:

    >>> m = sentiment_metrics([-2.0, 0.0, 1.4], [-1.6, 0.3, 2.2], predicts_score=True)
    >>> m["acc2"], m["acc7"], round(m["mae"], 2)
    (1.0, 0.6666666666666666, 0.5)
    """
    sentiment = np.asarray(sentiment, dtype="float64").reshape(-1)
    predictions = np.asarray(predictions, dtype="float64").reshape(-1)
    if sentiment.shape != predictions.shape:
        raise ValueError(f"{sentiment.shape[0]} labels but {predictions.shape[0]} predictions.")
    truth, predicted = binary_labels(sentiment), binary_labels(predictions)
    out = {
        "acc2": float(np.mean(predicted == truth)),
        "f1": float(f1_score(truth, predicted, average="weighted")),
        "n": int(len(sentiment)),
        "predicted_positive": float(np.mean(predicted)),
    }
    non0 = sentiment != 0
    if non0.any():
        truth_non0, predicted_non0 = sentiment[non0] > 0, predictions[non0] > 0
        out["acc2_non0"] = float(np.mean(predicted_non0 == truth_non0))
        out["f1_non0"] = float(f1_score(truth_non0, predicted_non0, average="weighted"))
        out["n_non0"] = int(non0.sum())
    if predicts_score:
        seven = lambda values: np.round(np.clip(values, -3.0, 3.0))  # noqa: E731
        out["acc7"] = float(np.mean(seven(predictions) == seven(sentiment)))
        out["mae"] = float(np.mean(np.abs(predictions - sentiment)))
        constant = np.ptp(predictions) == 0 or np.ptp(sentiment) == 0
        out["corr"] = None if constant else float(np.corrcoef(predictions, sentiment)[0, 1])
    return out


def match_clusters_to_classes(clusters, labels, n_clusters):
    """The one-to-one cluster → class map that agrees with most labels.

    The Hungarian assignment (SciPy's `linear_sum_assignment`) on the
    cluster-by-class counts; used to score clusters (`cluster_accuracy`)
    and to start DEC with cluster `c` where class `c` is.

    Args:
        clusters: hard assignments `(N,)` in `[0, n_clusters)`.
        labels: classes `(N,)` in `[0, n_clusters)`.
        n_clusters: number of clusters (and at least the number of classes).

    Returns:
        `(mapping, matched)`: `mapping[c]` is the class of cluster `c`, and
        `matched` the number of rows whose label that map gets right.

    Example:

    >>> mapping, matched = match_clusters_to_classes([1, 1, 0], [0, 0, 1], 2)
    >>> mapping.tolist(), matched
    ([1, 0], 3)
    """
    clusters = np.asarray(clusters).astype(int).reshape(-1)
    labels = np.asarray(labels).astype(int).reshape(-1)
    counts = np.zeros((n_clusters, n_clusters), dtype=np.int64)
    np.add.at(counts, (clusters, labels), 1)
    rows, cols = linear_sum_assignment(-counts)
    mapping = np.empty(n_clusters, dtype=int)
    mapping[rows] = cols
    return mapping, int(counts[rows, cols].sum())


def cluster_accuracy(labels, clusters):
    """Accuracy under the best one-to-one cluster → label map (Hungarian)."""
    labels = np.asarray(labels).astype(int)
    clusters = np.asarray(clusters).astype(int)
    size = int(max(labels.max(), clusters.max()) + 1)
    return match_clusters_to_classes(clusters, labels, size)[1] / len(labels)


def clustering_metrics(labels, clusters):
    """Cluster accuracy (Hungarian), NMI and ARI (scikit-learn)."""
    return {
        "cluster_acc": float(cluster_accuracy(labels, clusters)),
        "nmi": float(normalized_mutual_info_score(labels, clusters)),
        "ari": float(adjusted_rand_score(labels, clusters)),
    }
