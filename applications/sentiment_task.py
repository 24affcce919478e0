"""The base of the sentiment tasks: a backbone, an MLP head, one output."""


import keras
import numpy as np

from applications.batching import BatchedFeedMixin, raw_dataset
from applications.paper_defaults import PAPER_LEARNING_RATE, PAPER_WEIGHT_DECAY
from applications.presets import PresetMixin
from mosi_keras.data import binary_labels


def paper_optimizer():
    """Adam with the paper's learning rate and weight decay (§4.2)."""
    return keras.optimizers.Adam(PAPER_LEARNING_RATE, weight_decay=PAPER_WEIGHT_DECAY)


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
    default optimizer is the paper's Adam (learning rate 4e-5, weight decay
    1e-2, §4.2). The task shares the backbone it is given (pass
    `backbone.clone()` to keep a pre-trained one apart) and carries an
    optional fitted `mosi_keras.data.Preprocessor` in its config, so a
    `.keras` file holds everything needed to score new data.

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

    def compile(self, optimizer="auto", loss="auto", *, metrics="auto", **kwargs):
        """`keras.Model.compile`, where `"auto"` means the task's defaults;
        the optimizer's variables are created here, not in the first step."""
        if optimizer == "auto":
            optimizer = paper_optimizer()
        if loss == "auto":
            loss = self.default_loss()
        if metrics == "auto":
            metrics = self.default_metrics()
        super().compile(optimizer=optimizer, loss=loss, metrics=metrics, **kwargs)
        if self.built and not self.optimizer.built:
            # The optimizer's variables now (as Keras's `compile_from_config`
            # does): TensorFlow would create them while tracing the first
            # training step, and then trace that step a second time.
            self.optimizer.build(self.trainable_variables)

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
