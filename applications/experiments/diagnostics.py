"""Measurements of a trained model that take no part in training: how far it moved, what its clusters hold."""

import keras
import numpy as np

from applications.batching import PREDICT_BATCH_SIZE
from mosi_keras.evaluation import clustering_metrics


def weight_shift(before, after):
    """`‖after − before‖ / ‖before‖` over all the weights: how far training moved a model."""
    change = sum(float(np.sum((np.asarray(a) - np.asarray(b)) ** 2)) for a, b in zip(after, before))
    size = sum(float(np.sum(np.asarray(b) ** 2)) for b in before)
    return float(np.sqrt(change / size)) if size else 0.0


def cluster_diagnostics(dec, x_train, x_eval, labels_eval):
    """How the clusters relate to sentiment: cluster accuracy, NMI and ARI of
    the hard assignments of `x_eval` against `labels_eval`, and the share of
    training rows in each cluster (a collapse shows as one share near 1)."""
    both = keras.tree.map_structure(lambda a, b: np.concatenate([a, b]), x_train, x_eval)  # one prediction
    clusters = dec.predict(both, PREDICT_BATCH_SIZE, verbose=0)["q"].argmax(1)
    train_clusters, eval_clusters = clusters[: len(clusters) - len(labels_eval)], clusters[-len(labels_eval):]
    shares = np.bincount(train_clusters, minlength=dec.n_clusters) / len(train_clusters)
    values = clustering_metrics(labels_eval, eval_clusters)
    values["train_cluster_shares"] = [round(float(share), 4) for share in shares]
    return values
