"""What a run is built from: the tasks, backbones, optimizers and their schedules, early stopping."""

import keras

from applications.contextual_sentiment_classifier import ContextualSentimentClassifier
from applications.multimodal_backbone import MultimodalBackbone
from applications.semi_supervised_classifier import SemiSupervisedClassifier
from applications.sentiment_classifier import SentimentClassifier
from applications.sentiment_regressor import SentimentRegressor
from applications.experiments.config import ConfigError, MONITORS
from applications.experiments.devices import resolve_jit_compile
from mosi_keras.optimizers import MultiRateAdam
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


def learning_rate_schedule(config, learning_rate, total_steps):
    """The task's learning rate: `learning_rate` held (`lr_schedule="constant"`),
    or (`"cosine"`) a linear warm-up from 0 over `warmup_fraction` of
    `total_steps`, then a cosine decay to 0 at the last step (Keras's
    `CosineDecay`)."""
    if config.lr_schedule == "constant":
        return learning_rate
    if not total_steps:
        raise ValueError("lr_schedule='cosine' needs the number of training steps.")
    warmup = int(round(config.warmup_fraction * total_steps))
    return keras.optimizers.schedules.CosineDecay(
        0.0, decay_steps=max(1, total_steps - warmup), warmup_target=learning_rate, warmup_steps=warmup,
    )


def compile_task(model, config, learning_rate=None, total_steps=None):
    """Compiles a sentiment task with the config's Adam and the task's
    default loss and metrics.

    Adam's rate is `learning_rate` (default the config's) under the
    config's `lr_schedule` over `total_steps` training steps; weight decay
    `weight_decay`; with `use_ema`, Adam keeps a moving average of the
    weights (`ema_momentum`), which replaces them at the end of `fit`. A
    backbone's `text_encoder` learns at `text_learning_rate` (the schedule
    scaled alike, `MultiRateAdam`) when the config sets one; with an
    encoder, Adam's update is compiled by XLA (`MultiRateAdam(jit_compile=True)`:
    its millions of weights updated in one fused function, compiled once).
    """
    learning_rate = learning_rate or config.learning_rate
    rate = learning_rate_schedule(config, learning_rate, total_steps)
    encoder = getattr(getattr(model, "backbone", None), "text_encoder", None)
    text_rate = config.text_learning_rate if encoder is not None else None
    model.compile(
        optimizer=MultiRateAdam(rate, rate_multiplier=(text_rate or learning_rate) / learning_rate,
                                scaled_variables=encoder.trainable_variables if text_rate else (),
                                weight_decay=config.weight_decay, use_ema=config.use_ema,
                                ema_momentum=config.ema_momentum, jit_compile=encoder is not None),
        jit_compile=resolve_jit_compile(config.jit_compile),
        run_eagerly=config.run_eagerly,
    )
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
