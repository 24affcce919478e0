"""Evaluation metrics: the binary sentiment protocol and clustering quality."""

import numpy as np
from scipy.optimize import linear_sum_assignment
from sklearn.metrics import adjusted_rand_score, f1_score, normalized_mutual_info_score


def sentiment_metrics(sentiment, scores):
    """Binary sentiment metrics in both conventions of the literature.

    Args:
        sentiment: true sentiment scores `(N,)` in [-3, 3].
        scores: predicted logits or scores `(N,)`; > 0 (or >= 0) is positive.

    Returns:
        dict with `acc2` and `f1` (positive is sentiment >= 0, all samples)
        and `acc2_non0` and `f1_non0` (samples with sentiment exactly 0
        removed, < 0 negative, > 0 positive). F1 is weighted over classes.
        Accuracies are fractions in [0, 1].
    """
    sentiment = np.asarray(sentiment).reshape(-1)
    scores = np.asarray(scores, dtype="float64").reshape(-1)
    if sentiment.shape != scores.shape:
        raise ValueError(f"{sentiment.shape[0]} labels but {scores.shape[0]} predictions.")
    predicted = scores >= 0
    truth = sentiment >= 0
    non0 = sentiment != 0
    out = {
        "acc2": float(np.mean(predicted == truth)),
        "f1": float(f1_score(truth, predicted, average="weighted")),
        "n": int(len(sentiment)),
    }
    if non0.any():
        truth_non0, predicted_non0 = sentiment[non0] > 0, scores[non0] > 0
        out["acc2_non0"] = float(np.mean(predicted_non0 == truth_non0))
        out["f1_non0"] = float(f1_score(truth_non0, predicted_non0, average="weighted"))
        out["n_non0"] = int(non0.sum())
    return out


def cluster_accuracy(labels, clusters):
    """Accuracy under the best one-to-one cluster→label map (Hungarian, SciPy)."""
    labels = np.asarray(labels).astype(int)
    clusters = np.asarray(clusters).astype(int)
    size = max(labels.max(), clusters.max()) + 1
    counts = np.zeros((size, size), dtype=np.int64)
    np.add.at(counts, (clusters, labels), 1)
    rows, cols = linear_sum_assignment(-counts)
    return float(counts[rows, cols].sum() / len(labels))


def clustering_metrics(labels, clusters):
    """Cluster accuracy (Hungarian), NMI and ARI (scikit-learn)."""
    return {
        "cluster_acc": cluster_accuracy(labels, clusters),
        "nmi": float(normalized_mutual_info_score(labels, clusters)),
        "ari": float(adjusted_rand_score(labels, clusters)),
    }
