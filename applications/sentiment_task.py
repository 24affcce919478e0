"""The base of the sentiment tasks: a backbone, an MLP head, one output."""


import keras
import numpy as np

from applications.batching import BatchedFeedMixin, is_input_arrays, raw_dataset
from applications.devices import resolve_jit_compile
from applications.presets import PresetMixin
from applications.training_defaults import LEARNING_RATE, PAPER_WEIGHT_DECAY, TEXT_LEARNING_RATE, WARMUP_FRACTION
from mosi_keras.data import binary_labels
from mosi_keras.data.video import VideoView
from mosi_keras.optimizers import MultiRateAdam, WarmupCosineDecay


def sentiment_head(x, head_units=(64, 32), head_dropout=0.3, output_name="sentiment_output", mask=None):
    """The head of §3.2: Dense → BatchNorm → ReLU → Dropout, then smaller
    ReLU Dense layers, then one float32 output unit named `output_name`.

    Dense layers act on the last axis, so `x` may be `(batch, d)` or, in a
    video-level model, `(videos, utterances, d)` with `mask` `(videos,
    utterances)`: batch statistics then count real utterances only."""
    x = keras.layers.Dense(head_units[0], name="head_dense_0")(x)
    x = keras.layers.BatchNormalization(name="head_batch_norm")(x, mask=mask)
    x = keras.layers.ReLU(name="head_relu")(x)
    x = keras.layers.Dropout(head_dropout, name="head_dropout")(x)
    for index, units in enumerate(head_units[1:], start=1):
        x = keras.layers.Dense(units, activation="relu", name=f"head_dense_{index}")(x)
    return keras.layers.Dense(1, name=output_name, dtype="float32")(x)


class SentimentTask(PresetMixin, BatchedFeedMixin, keras.Model):
    """A backbone with the §3.2 head: the common part of the classifier and
    the regressor (keras-hub's `Task` pattern).

    Subclasses name their output (`OUTPUT_NAME`) and give `compile()` its
    default loss and metrics (`default_loss`, `default_metrics`); the
    default optimizer is the one `mosi-keras train` trains with
    (`default_optimizer`: the `small_data` recipe's Adam, warm-up and cosine
    decay over the first `fit`; with a text encoder, the `text` recipe's
    rate for the encoder), so `task.compile(); task.fit(data, epochs=40)`
    trains the model the command line does. The task shares the backbone
    it is given (pass `backbone.clone()` to keep a pre-trained one apart)
    and carries an optional fitted `mosi_keras.data.Preprocessor` in its
    config, so a `.keras` file holds everything needed to score new data.

    Like a keras-hub task, it applies its preprocessor itself: `fit`,
    `evaluate` and `predict` take raw data — a `MultimodalDataset` or a
    dict of raw modality arrays (`raw_dataset`) — and scale, pad and mask
    it with the preprocessor (targets from the dataset's sentiment when
    `y` is not given: binary labels, or scores for a regressor). Model
    inputs (a dict with the `<modality>_mask` arrays, a `tf.data` dataset)
    pass through untouched, so a training pipeline that prepares its own
    batches feeds them as before.

    Args:
        backbone: a `MultimodalBackbone`.
        head_units: widths of the head's hidden Dense layers; the first is
            followed by BatchNorm, ReLU and Dropout. Defaults to `(64, 32)`.
        head_dropout: dropout rate after the first head layer.
        preprocessor: optional fitted `Preprocessor` of the training data.
    """

    OUTPUT_NAME = "sentiment_output"
    PREDICTS_SCORE = False  # whether the output is a sentiment score (else a logit)
    OPTIONS = ()  # a subclass's own `__init__` arguments, passed to `assemble` and kept in the config
    TARGETS_DTYPE = "float32"

    def __init__(self, backbone, head_units=(64, 32), head_dropout=0.3, preprocessor=None, **kwargs):
        options = {name: kwargs.pop(name) for name in self.OPTIONS}
        inputs, output = self.assemble(backbone, head_units, head_dropout, **options)
        super().__init__(inputs=inputs, outputs=output, **kwargs)
        # Set after the functional graph exists (PyTorch modules refuse attributes before).
        self.backbone = backbone
        self.preprocessor = preprocessor
        self.head_units = tuple(head_units)
        self.head_dropout = head_dropout
        for name, value in options.items():
            setattr(self, name, value)

    def assemble(self, backbone, head_units, head_dropout):
        """The functional graph, `(inputs, output)`: the backbone's inputs,
        its embedding through `sentiment_head`; subclasses with `OPTIONS`
        take them as keyword arguments."""
        inputs = backbone.input
        return inputs, sentiment_head(backbone(inputs), head_units, head_dropout, self.OUTPUT_NAME)

    def targets(self, dataset):
        """What the task is trained on for each segment: binary labels, or scores (`PREDICTS_SCORE`)."""
        if not dataset.labelled:
            raise ValueError(f"{dataset.source}: no sentiment to train or evaluate on (labelled=False).")
        values = dataset.sentiment if self.PREDICTS_SCORE else binary_labels(dataset.sentiment)
        return np.asarray(values, "float32").reshape(-1, 1)

    def prepare(self, x, y=None, training=False):
        """`(inputs, targets)` for `fit` and `evaluate`: raw data
        (`raw_dataset`) through the preprocessor, with its targets unless
        `y` is given; anything else as it is. `training`: the data is for
        `fit` (a subclass may then shuffle it)."""
        dataset = raw_dataset(x)
        if dataset is None:
            return x, y
        return self.preprocess(dataset), self.targets(dataset) if y is None else y

    def default_loss(self):
        raise NotImplementedError

    def default_metrics(self):
        return []

    def default_optimizer(self, learning_rate=LEARNING_RATE, text_learning_rate=TEXT_LEARNING_RATE,
                          weight_decay=PAPER_WEIGHT_DECAY, lr_schedule="cosine", warmup_fraction=WARMUP_FRACTION,
                          total_steps=None, use_ema=False, ema_momentum=0.99):
        """The optimizer of `compile()`, and of every run of the command line
        (which passes its recipe's values): `MultiRateAdam`.

        Its rate is `learning_rate`, held (`lr_schedule="constant"`) or
        (`"cosine"`) warmed up from 0 over `warmup_fraction` of the steps,
        then decayed to 0 at the last (`WarmupCosineDecay`); its length is
        `total_steps`, or, when `None`, the first `fit`'s epochs × steps per
        epoch. Decoupled weight decay `weight_decay`; with `use_ema`, a
        moving average of the weights (`ema_momentum`) replaces them at the
        end of `fit`. The backbone's text encoder, if any, learns at
        `text_learning_rate` (the schedule scaled alike; `None`: the task's
        rate), its update compiled by XLA on TensorFlow (its millions of
        weights in one fused function, compiled once). The defaults are the
        `small_data` and `text` recipes' (`applications.training_defaults`).
        """
        if lr_schedule not in ("constant", "cosine"):
            raise ValueError(f"lr_schedule must be 'constant' or 'cosine', got {lr_schedule!r}.")
        rate = learning_rate if lr_schedule == "constant" else WarmupCosineDecay(
            learning_rate, warmup_fraction, total_steps)
        encoder = getattr(self.backbone, "text_encoder", None)
        text_rate = text_learning_rate if encoder is not None else None
        return MultiRateAdam(rate, rate_multiplier=(text_rate or learning_rate) / learning_rate,
                             scaled_variables=encoder.trainable_variables if text_rate else (),
                             weight_decay=weight_decay, use_ema=use_ema, ema_momentum=ema_momentum,
                             jit_compile=encoder is not None)

    def compile(self, optimizer="auto", loss="auto", *, metrics="auto", jit_compile="auto", **kwargs):
        """`keras.Model.compile`, where `"auto"` means the task's defaults
        (`default_optimizer`, `default_loss`, `default_metrics`; for
        `jit_compile`, Keras's choice except no XLA with TensorFlow on a
        CPU, `devices.resolve_jit_compile`); the optimizer's variables are
        created here, not in the first step."""
        if optimizer == "auto":
            optimizer = self.default_optimizer()
        if loss == "auto":
            loss = self.default_loss()
        if metrics == "auto":
            metrics = self.default_metrics()
        super().compile(optimizer=optimizer, loss=loss, metrics=metrics, jit_compile=resolve_jit_compile(jit_compile),
                        **kwargs)
        if self.built and not self.optimizer.built:
            # The optimizer's variables now (as Keras's `compile_from_config`
            # does): TensorFlow would create them while tracing the first
            # training step, and then trace that step a second time.
            self.optimizer.build(self.trainable_variables)

    def fit(self, x=None, y=None, batch_size=None, epochs=1, **kwargs):
        """`keras.Model.fit` on raw data or model inputs (see the class); a
        `WarmupCosineDecay` without a length (`default_optimizer`'s) is set
        to span this fit: its `epochs` × the steps of one epoch."""
        x, y = self.prepare(x, y, training=True)
        optimizer = getattr(self, "optimizer", None)  # none before compile: Keras says so in its fit
        schedule = getattr(optimizer, "_learning_rate", None)  # the schedule given; Keras has no public handle
        if isinstance(schedule, WarmupCosineDecay) and schedule.total_steps is None:
            schedule.total_steps = epochs * self.steps_per_epoch(x, batch_size, kwargs.get("steps_per_epoch"))
        return super().fit(x, y, batch_size=batch_size, epochs=epochs, **kwargs)

    def steps_per_epoch(self, x, batch_size=None, steps_per_epoch=None):
        """The training steps of one epoch of `fit(x, batch_size=...)`: model
        inputs batched by the task (`batches_per_epoch`), or a dataset's length."""
        if steps_per_epoch:
            return steps_per_epoch
        if isinstance(x, VideoView) or is_input_arrays(x):
            return self.batches_per_epoch(x, batch_size)
        try:
            return len(x)  # a PyDataset; a tf.data dataset of known cardinality
        except TypeError:
            raise ValueError(
                f"{self.name}: the schedule spans the fit, but the steps of one epoch of {type(x).__name__} are "
                "unknown: pass steps_per_epoch, or set the schedule's total_steps."
            ) from None

    def compile_from_config(self, config):
        """Compiles a loaded task as it was saved (Keras's own version skips
        models whose `compile` is overridden, with a warning)."""
        self.compile(**keras.saving.deserialize_keras_object(config))

    def get_config(self):
        return {
            **super().get_config(),  # name, trainable, dtype policy
            "backbone": keras.saving.serialize_keras_object(self.backbone),
            "head_units": list(self.head_units),
            "head_dropout": self.head_dropout,
            "preprocessor": (
                None if self.preprocessor is None else keras.saving.serialize_keras_object(self.preprocessor)
            ),
        } | {name: getattr(self, name) for name in self.OPTIONS}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["backbone"] = keras.saving.deserialize_keras_object(config["backbone"])
        if config.get("preprocessor") is not None:
            config["preprocessor"] = keras.saving.deserialize_keras_object(config["preprocessor"])
        return cls(**config)
