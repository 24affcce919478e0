"""A sentiment task from a `TrainingConfig`: built (`build_backbone`, `build_task`), compiled as its own `compile()`
does (`compile_task`) and trained on labelled rows (`train_task`: the baseline and the fine-tuning of §4.3)."""

import keras
import numpy as np

from applications.contextual_sentiment_classifier import ContextualSentimentClassifier
from applications.multimodal_backbone import MultimodalBackbone
from applications.semi_supervised_classifier import SemiSupervisedClassifier
from applications.sentiment_classifier import SentimentClassifier
from applications.sentiment_regressor import SentimentRegressor
from applications.experiments.config import ConfigError, MONITORS
from mosi_keras.data.video import VideoView
from mosi_keras.text_encoder import load_text_backbone

TASKS = {
    "classifier": SentimentClassifier,
    "regressor": SentimentRegressor,
    "contextual_classifier": ContextualSentimentClassifier,
    "semi_supervised_classifier": SemiSupervisedClassifier,
}
"""The task class of each `Experiment.task`."""


def early_stopping(patience, min_delta=0.0, monitor="val_loss"):
    """Stops when `monitor` (`val_loss`, or a classifier's `val_accuracy`)
    has not improved by `min_delta` for `patience` epochs, and restores the
    best epoch's weights."""
    if monitor not in MONITORS:
        raise ConfigError(f"monitor must be one of {sorted(MONITORS)}, got {monitor!r}.")
    return keras.callbacks.EarlyStopping(
        monitor=monitor, mode=MONITORS[monitor], patience=patience, min_delta=min_delta,
        restore_best_weights=True, verbose=0,
    )


def compile_task(model, config, learning_rate=None, total_steps=None):
    """Compiles a sentiment task as its own `compile()` does, with the
    config's values: `SentimentTask.default_optimizer` at `learning_rate`
    (default the config's) under the config's `lr_schedule` (over
    `total_steps`, or the first `fit`), weight decay, moving average and
    text-encoder rate; the task's default loss and metrics."""
    optimizer = model.default_optimizer(
        learning_rate=learning_rate or config.learning_rate, text_learning_rate=config.text_learning_rate,
        weight_decay=config.weight_decay, lr_schedule=config.lr_schedule, warmup_fraction=config.warmup_fraction,
        total_steps=total_steps, use_ema=config.use_ema, ema_momentum=config.ema_momentum,
    )
    model.compile(optimizer=optimizer, jit_compile=config.jit_compile, run_eagerly=config.run_eagerly)
    return model


def build_backbone(config, feature_dims, max_len):
    """A new `MultimodalBackbone` with the config's sizes; with
    `config.text_encoder`, on that preset's pre-trained text encoder."""
    encoder = None if config.text_encoder is None else load_text_backbone(config.text_encoder)
    return MultimodalBackbone(feature_dims, max_len, text_encoder=encoder, **config.backbone)


def build_task(task, config, feature_dims, max_len, backbone=None, preprocessor=None):
    """The `task` (`"classifier"` or `"regressor"`) with the config's head, on
    `backbone`, or on a new `MultimodalBackbone` with the config's sizes."""
    if backbone is None:
        backbone = build_backbone(config, feature_dims, max_len)
    options = {name: getattr(config, name) for name in TASKS[task].OPTIONS}  # e.g. the context encoder's sizes
    return TASKS[task](backbone, config.head_units, config.head_dropout, preprocessor=preprocessor, **options)


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
            fine-tuning, a new one holding the pre-trained encoders
            (`dec_pretraining.transfer_modality_encoders`), so that the DEC
            model keeps its own.
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
