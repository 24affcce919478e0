"""Choices made on folds of the training videos, never on the validation videos.

With `TrainingConfig(folds=k)` a run splits its labelled training videos
into k video-grouped folds (`video_folds`) and trains the task k times,
each time on k − 1 folds with the held fold as its validation data (early
stopping, when on, watches the held fold). What it keeps
(`TrainingConfig.fold_use`):

- `"ensemble"`: the k fold models, averaged (`SentimentEnsemble`);
- `"retrain"`: one model trained on every labelled training video for the
  epoch count the folds chose (the mean of their kept epochs with early
  stopping; the budget itself without).

The held folds' scores (`cv`) estimate the recipe without any validation
video, so the validation videos only report. Costs k (ensemble) or
k + 1 (retrain) trainings of the task.
"""

import dataclasses

import numpy as np

from applications.experiments.config import ConfigError, MONITORS
from applications.experiments.inference import predict_outputs
from applications.experiments.training import epochs_run, train_task
from applications.sentiment_ensemble import SentimentEnsemble
from mosi_keras.data import DataError
from mosi_keras.evaluation import sentiment_metrics


def video_folds(video_ids, k, seed=0):
    """`k` `(fit, held)` pairs of positions into `video_ids`, grouped by video:
    every video is held out exactly once and never in two folds
    (scikit-learn's `GroupKFold`, videos shuffled by `seed`)."""
    from sklearn.model_selection import GroupKFold

    video_ids = np.asarray(video_ids)
    videos = len(np.unique(video_ids))
    if videos < k:
        raise DataError(f"{k} folds need at least {k} labelled training videos; there are {videos}.")
    splitter = GroupKFold(n_splits=k, shuffle=True, random_state=seed)
    return list(splitter.split(np.zeros(len(video_ids)), groups=video_ids))


def take(rows, positions):
    """`(inputs, targets)` of the rows at `positions` (inputs a dict of arrays)."""
    inputs, targets = rows
    return {name: value[positions] for name, value in inputs.items()}, targets[positions]


def mean_metrics(scores):
    """The mean of each metric over a list of metric dicts (a `None`, as a
    constant fold's `corr`, is left out of its mean)."""
    means = {}
    for name in scores[0]:
        values = [score[name] for score in scores if score.get(name) is not None]
        if values:
            means[name] = float(np.mean(values))
    return means


def kept_epochs(history, config):
    """The epochs whose weights a fold model keeps: the best by
    `config.monitor` with early stopping, else all of them."""
    values = history.history
    if not config.early_stopping:
        return epochs_run(values)
    scores = np.asarray(values[config.monitor])
    best = np.argmin(scores) if MONITORS[config.monitor] == "min" else np.argmax(scores)
    return int(best) + 1


@dataclasses.dataclass
class FoldTraining:
    """What `train_in_folds` returns.

    Attributes:
        model: the `SentimentEnsemble` of the fold models, or the model
            retrained on every fold.
        histories: Keras history dicts: `fold<i>` for each fold model, and
            `all` for the retrained one.
        epochs: the epochs whose weights each of them kept.
        cv: the fold models' `sentiment_metrics` on their held folds, averaged.
    """

    model: object
    histories: dict
    epochs: dict
    cv: dict


def train_in_folds(task, train, sentiment, video_ids, config, feature_dims, max_len, backbone=None,
                   preprocessor=None, learning_rate=None, seed=0, progress=None):
    """Trains `task` on `config.folds` video-grouped folds of `train`.

    Args:
        task: `"classifier"` or `"regressor"`.
        train: `(inputs, targets)` of the labelled training rows.
        sentiment: `(N,)` sentiment scores of those rows (to score the held folds).
        video_ids: `(N,)` video of each row.
        backbone: a pre-trained backbone each model starts from (cloned for
            each), or `None` for new ones.
        progress: optional `progress(stage, epochs)` → callbacks, for the
            stages `"<task> fold <i>"` and `"<task> on every fold"` (e.g.
            `StageProgress`).

    Returns:
        A `FoldTraining`.
    """
    if task not in ("classifier", "regressor"):
        raise ConfigError(f"folds train segment-level tasks (classifier, regressor), not {task!r}.")

    def start():
        return None if backbone is None else backbone.clone()

    def callbacks(stage, epochs):
        return list(progress(stage, epochs)) if progress else []

    members, histories, epochs, scores = [], {}, {}, []
    for index, (fit, held) in enumerate(video_folds(video_ids, config.folds, seed)):
        model, history = train_task(task, take(train, fit), take(train, held), config, feature_dims, max_len, start(),
                                    preprocessor, callbacks(f"{task} fold {index}", config.epochs),
                                    learning_rate=learning_rate)
        members.append(model)
        histories[f"fold{index}"] = history.history
        epochs[f"fold{index}"] = kept_epochs(history, config)
        scores.append(sentiment_metrics(sentiment[held], predict_outputs(model, take(train, held)[0]),
                                        predicts_score=model.PREDICTS_SCORE))
    cv = mean_metrics(scores)
    if config.fold_use == "ensemble":
        return FoldTraining(SentimentEnsemble(members), histories, epochs, cv)
    chosen = max(1, int(round(np.mean(list(epochs.values())))))
    final = dataclasses.replace(config, early_stopping=False)
    model, history = train_task(task, train, None, final, feature_dims, max_len, start(), preprocessor,
                                callbacks(f"{task} on every fold", chosen), learning_rate=learning_rate,
                                epochs=chosen)
    histories["all"] = history.history
    epochs["all"] = epochs_run(history)
    return FoldTraining(model, histories, epochs, cv)
