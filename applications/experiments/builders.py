"""What a run is built from: the tasks, backbones, optimizers and their schedules, early stopping."""

import keras

from applications.contextual_sentiment_classifier import ContextualSentimentClassifier
from applications.multimodal_backbone import MultimodalBackbone
from applications.semi_supervised_classifier import SemiSupervisedClassifier
from applications.sentiment_classifier import SentimentClassifier
from applications.sentiment_regressor import SentimentRegressor
from applications.experiments.config import ConfigError, MONITORS
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
