"""Training a sentiment task on labelled rows: the baseline and the fine-tuning of §4.3."""

import keras
import numpy as np

from applications.experiments.builders import build_task, compile_task, early_stopping
from applications.experiments.config import ConfigError
from mosi_keras.data.video import VideoView


def epochs_run(history):
    """Epochs in a Keras `History` or its `history` dict."""
    values = getattr(history, "history", history)
    return len(next(iter(values.values()), []))


def task_feed(train, validation, config):
    """`fit`'s data arguments for a task: `(inputs, targets)` pairs or, for
    the video-level task, `VideoView`s (batches of `videos_per_batch`
    videos), which the task batches itself
    (`applications.batching.BatchedFeedMixin`: as a user's `task.fit`
    does); no validation when `validation` is `None`."""
    if isinstance(train, VideoView):
        return dict(x=train, batch_size=config.videos_per_batch, validation_data=validation)
    feed = dict(x=train[0], y=np.asarray(train[1], "float32"), batch_size=config.batch_size)
    if validation is not None:
        feed.update(validation_data=(validation[0], np.asarray(validation[1], "float32")))
    return feed


def train_task(task, train, validation, config, feature_dims, max_len, backbone=None,
               preprocessor=None, callbacks=(), verbose=0, learning_rate=None, epochs=None, model=None,
               initial_epoch=0):
    """Trains a sentiment task on labelled rows: the baseline, or the
    fine-tuning of §4.3 when `backbone` is a pre-trained one.

    With `config.early_stopping` (the paper's way) the task stops once
    `config.monitor` on `validation` has not improved for `patience` epochs
    and keeps its best epoch. Without it, every epoch runs (a fixed budget,
    usually with `lr_schedule="cosine"`) and the last weights are kept;
    `validation` is then only measured. With `use_ema`, the weights kept
    are the moving average's, and validation measures them
    (`keras.callbacks.SwapEMAWeights`).

    Args:
        task: `"classifier"` (targets: binary labels) or `"regressor"`
            (targets: sentiment scores).
        train, validation: `(inputs, targets)` pairs; for the video-level
            `"contextual_classifier"`, `VideoView`s with their labels.
            `validation` may be `None` without early stopping.
        backbone: the backbone to build the task on (trained with it): for
            fine-tuning, `pretrained.clone()` keeps the DEC model's own.
            `None`: a new one with the config's sizes (the baseline).
        preprocessor: the fitted `Preprocessor`, saved with the model.
        learning_rate: Adam's rate; default `config.learning_rate` (for
            fine-tuning, `run_experiment` passes `finetune_learning_rate`).
        epochs: the most epochs to run; default `config.epochs`.
        model: an already built task to train (a tuner's, which it may have
            warm-started); default: built from `config` on `backbone`.
        initial_epoch: `fit`'s, for a model that resumes (Hyperband).

    Returns:
        `(model, history)`.
    """
    if task == "regressor" and config.monitor != "val_loss":
        raise ConfigError(f"monitor={config.monitor!r} is a classifier's; the regressor stops on val_loss.")
    if config.early_stopping and validation is None:
        raise ConfigError("early stopping needs validation data.")
    epochs = epochs or config.epochs
    if model is None:
        model = build_task(task, config, feature_dims, max_len, backbone, preprocessor)
    compile_task(model, config, learning_rate)  # the schedule spans the fit
    feed = task_feed(train, validation, config)
    selection = []
    if config.use_ema:  # validate (and, stopping early, keep) the averaged weights
        selection.append(keras.callbacks.SwapEMAWeights(swap_on_epoch=config.early_stopping))
    if config.early_stopping:
        selection.append(early_stopping(config.patience, monitor=config.monitor))
    history = model.fit(**feed, epochs=epochs, verbose=verbose, callbacks=[*selection, *callbacks],
                        initial_epoch=initial_epoch)
    return model, history
