"""Saved tasks at work: load a `.keras` file, score it (or an ensemble of several) on a dataset, predict new segments."""

import os

import keras
import numpy as np
from scipy.special import expit

from applications.batching import PREDICT_BATCH_SIZE
from applications.experiments.config import ConfigError
from applications.presets import load_preset, register_models
from mosi_keras.layers.ensemble_average import average_outputs
from mosi_keras.data import DataError
from mosi_keras.data.video import VideoView, video_view
from mosi_keras.evaluation import sentiment_metrics
from mosi_keras.inputs import UTTERANCE_MASK


def is_video_model(model):
    """Whether `model` reads whole videos (it has an `utterance_mask` input)."""
    inputs = getattr(model, "input", None)
    return isinstance(inputs, dict) and UTTERANCE_MASK in inputs


def predict_outputs(model, x, video_ids=None, segment_index=None):
    """A sentiment task's output per row `(N,)`: logits or scores, in row
    order, the task feeding `x` itself (`applications.batching.BatchedFeedMixin`:
    raw data through its preprocessor, length buckets; whole videos for a
    `VideoView`).

    A video-level model (`is_video_model`) given model-input rows reads them
    grouped by video: pass the rows' `video_ids` (and `segment_index`, their
    order); raw data it groups itself (`model_inputs`).
    """
    x = model.model_inputs(x)
    if is_video_model(model) and not isinstance(x, VideoView):
        if video_ids is None:
            raise ValueError(f"{model.name} reads whole videos: pass the rows' video_ids.")
        x = video_view(x, video_ids, segment_index)
    batch_size = None if isinstance(x, VideoView) else PREDICT_BATCH_SIZE
    return np.asarray(model.predict(x, batch_size, verbose=0)).reshape(-1)


def load_task(path):
    """A sentiment task saved as `.keras` (by `train` or `reproduce`) or as a
    preset folder (`task.save_to_preset`), loaded with `safe_mode=True`; it
    carries its preprocessing."""
    if not os.path.exists(path):
        raise FileNotFoundError(f"{path}: no such model file or preset folder.")
    register_models()  # any saved model class loads (an ensemble of fold models too)
    model = load_preset(path) if os.path.isdir(path) else keras.saving.load_model(path, safe_mode=True)
    if getattr(model, "preprocessor", None) is None:
        raise ConfigError(f"{path} carries no preprocessing (built without one): retrain it with `mosi-keras train`.")
    return model


def evaluate_tasks(tasks, dataset):
    """`sentiment_metrics` on `dataset` of one sentiment task or of the
    ensemble of several (`segment_outputs`); a mix of classifiers and
    regressors is refused before anything is predicted."""
    scores = predicts_score(tasks)
    return sentiment_metrics(dataset.sentiment, segment_outputs(tasks, dataset), predicts_score=scores)


def predicts_score(tasks):
    """Whether the tasks predict scores (regressors) rather than logits; a
    mix of the two cannot be averaged."""
    kinds = {getattr(model, "PREDICTS_SCORE", False) for model in tasks}
    if len(kinds) > 1:
        raise ConfigError("an ensemble cannot mix classifiers (logits) and regressors (scores).")
    return kinds.pop()


def segment_outputs(tasks, dataset):
    """The output `(N,)` of each segment of `dataset`: of one task, or the
    mean of several (`average_outputs`: probabilities for classifiers,
    scores for regressors). Each task prepares the raw data with its own
    preprocessor (`model_inputs`), so models of different splits (seeds)
    average too; video-level models group the segments by video, in
    `segment_index` order."""
    outputs = [predict_outputs(model, dataset) for model in tasks]
    if len(outputs) == 1:
        return outputs[0]
    return keras.ops.convert_to_numpy(average_outputs(np.stack(outputs), predicts_score(tasks)))


def check_modalities(tasks, dataset):
    """A `DataError` naming the modalities of `dataset` that differ from a
    task's (a `text` array is not one for a task that reads transcripts)."""
    for model in tasks:
        given = [name for name in dataset.feature_dims if model.preprocessor.scaled(name)]
        trained = model.preprocessor.feature_dims
        if set(given) != set(trained):
            raise DataError(
                f"{dataset.source}: modalities {sorted(given)} differ from the model's {sorted(trained)}"
                + "".join(f"; {label} {names}" for label, names in (
                    ("missing", sorted(set(trained) - set(given))),
                    ("not in the model", sorted(set(given) - set(trained)))) if names) + "."
            )


def predict_segments(tasks, dataset):
    """The prediction of one sentiment task, or of the ensemble of several,
    for each segment of `dataset` (labels not needed).

    Args:
        tasks: sentiment tasks carrying their preprocessing (`load_task`).
        dataset: the segments; the file's modalities must be each model's,
            with the widths it was trained on (a `DataError` names the ones
            that differ).

    Returns:
        dict of columns: `segment_id`, `video_id`, then `probability` (of
        positive sentiment, a classifier) or `score` (a regressor), and
        `predicted_class` (1: positive, sentiment ≥ 0; 0: negative).
    """
    scores = predicts_score(tasks)
    check_modalities(tasks, dataset)
    outputs = segment_outputs(tasks, dataset)
    if scores:
        column, value = "score", outputs
    else:
        column, value = "probability", expit(outputs)  # the logistic function, without overflow
    return {"segment_id": dataset.ids, "video_id": dataset.video_ids, column: value,
            "predicted_class": (outputs >= 0).astype(int)}
