"""How a model's inputs reach `fit`, and predictions leave `predict`: the models' own feeding.

Word-level sequences go in length buckets, each batch padded only to its
own longest member (`mosi_keras.data.LengthBucketedBatches`); on
TensorFlow through a `tf.data` pipeline with a free time axis
(`to_tf_dataset`), repeated with `steps_per_epoch` so that one iterator
serves the whole `fit`. Utterance-level data (length 1) has nothing to trim:
arrays on JAX and PyTorch, a repeated `tf.data` pipeline on TensorFlow.
Video-level models get batches of whole videos (`video_fit_arguments`).

`BatchedFeedMixin` gives a model `fit`, `evaluate` and `predict` that feed
model-input arrays (and `VideoView`s) this way: the sentiment tasks
(`SentimentTask`, which also takes raw data, once preprocessed),
`SemiSupervisedDEC` and `SentimentEnsemble`, so `task.fit(data)` trains on
the batches the experiments measure, and DEC's stages are fed as a user's
`dec.fit(x, y)` is.
"""

import math

import keras
import numpy as np

from mosi_keras.data import LengthBucketedBatches, MultimodalDataset, to_tf_dataset
from mosi_keras.data.bucketing import time_steps
from mosi_keras.data.kit_format import arrays_to_dataset
from mosi_keras.data.video import VideoBatches, VideoView
from mosi_keras.inputs import is_mask_name


def raw_dataset(x):
    """`x` as a `MultimodalDataset` when it is raw data, else `None`.

    Raw data is a `MultimodalDataset` (what every reader returns) or a
    dict of arrays in the kit's file layout (`arrays_to_dataset`): raw
    modality arrays `(N, T, d)` (or `(N, d)`), each optionally with its
    valid lengths under `"<modality>_lengths"`. A dict holding
    `<modality>_mask` arrays is model input already (`Preprocessor.transform`
    writes one per modality), as are tensors, `tf.data` datasets and
    `PyDataset`s: those pass through untouched.
    """
    if isinstance(x, MultimodalDataset):
        return x
    if not isinstance(x, dict) or not x or any(is_mask_name(name) for name in x):
        return None
    return arrays_to_dataset({name: np.asarray(value) for name, value in x.items()}, "<raw arrays>",
                             require_sentiment=False)


def batch_arguments(batches):
    """Keyword arguments of `fit` that feed a `keras.utils.PyDataset` of
    varying-shape batches: as it is on JAX and PyTorch, through a repeated
    `to_tf_dataset` on TensorFlow."""
    if keras.backend.backend() != "tensorflow":
        return dict(x=batches)
    return dict(x=to_tf_dataset(batches), steps_per_epoch=len(batches), shuffle=False)


def as_validation(arguments):
    """The `fit` keyword arguments that validate on what `arguments` (of
    `fit_arguments` on utterance-level data, unshuffled) would train on."""
    if "steps_per_epoch" in arguments:
        return dict(validation_data=arguments["x"], validation_steps=arguments["steps_per_epoch"])
    return dict(validation_data=(arguments["x"], arguments["y"]), validation_batch_size=arguments["batch_size"])


VIDEOS_PER_PREDICTION = 8
"""Videos per batch when a video-level model predicts a `VideoView` (any number gives the same outputs)."""


def video_fit_arguments(view, videos_per_batch, shuffle=True, seed=None):
    """Keyword arguments of `fit` that feed a `VideoView` (and its labels)
    in batches of whole videos (`mosi_keras.data.video.VideoBatches`)."""
    return batch_arguments(VideoBatches(view, videos_per_batch=videos_per_batch, shuffle=shuffle, seed=seed))


def video_validation_arguments(view, videos_per_batch):
    """Keyword arguments of `fit` that validate on a `VideoView` every epoch:
    one pass of its batches each time (see `validation_arguments`)."""
    return dict(validation_data=one_pass(VideoBatches(view, videos_per_batch, shuffle=False)))


def predict_videos(model, view, videos_per_batch=VIDEOS_PER_PREDICTION):
    """A video-level model's outputs for every place of `view`, `(V, U, ...)`.

    Every batch has the view's full width (its longest video, its longest
    utterance): one shape, traced once; the masks make the outputs those of
    any narrower padding. Padded places hold zeros.
    """
    outputs = np.array(model.predict(view.inputs, batch_size=videos_per_batch, verbose=0))
    outputs[view.rows < 0] = 0
    return outputs


def fit_arguments(x, y, batch_size, shuffle=True, seed=None):
    """Keyword arguments of `fit` that feed `(x, y)` in batches of `batch_size`.

    Every row is served once per epoch, reshuffled every epoch when
    `shuffle` (inside and across length buckets for sequences), the same
    batches for the same `seed` (default: drawn from NumPy's generator,
    which `keras.utils.set_random_seed` seeds). See `docs/PERFORMANCE.md`.
    """
    if time_steps(x) > 1:
        return batch_arguments(LengthBucketedBatches(x, y, batch_size, shuffle=shuffle, seed=seed))
    if keras.backend.backend() != "tensorflow":
        return dict(x=x, y=y, batch_size=batch_size, shuffle=shuffle)
    import tensorflow as tf

    # Keras turns arrays into a new tf.data iterator twice per epoch, which
    # costs as much as a training step on utterance-level data.
    dataset = tf.data.Dataset.from_tensor_slices((x, y))
    if shuffle:
        dataset = dataset.shuffle(len(y), seed=seed, reshuffle_each_iteration=True)
    return dict(
        x=dataset.batch(batch_size).repeat(),
        steps_per_epoch=math.ceil(len(y) / batch_size),
        shuffle=False,  # the pipeline shuffles; fit's own flag does not apply to datasets
    )


def one_pass(batches):
    """A `PyDataset` of varying-shape batches, served once (`evaluate`,
    `predict`): as it is on JAX and PyTorch, through `to_tf_dataset` on TensorFlow."""
    return to_tf_dataset(batches, repeat=False) if keras.backend.backend() == "tensorflow" else batches


def evaluate_arguments(x, y, batch_size):
    """Keyword arguments of `evaluate` over `(x, y)` in the batches `fit`
    validates on: length buckets for sequences, in order; whole videos for a `VideoView`."""
    if isinstance(x, VideoView):
        return dict(x=one_pass(VideoBatches(x, batch_size, shuffle=False)))
    if time_steps(x) == 1:
        return dict(x=x, y=y, batch_size=batch_size)
    return dict(x=one_pass(LengthBucketedBatches(x, y, batch_size, shuffle=False)))


def validation_arguments(x, y, batch_size):
    """Keyword arguments of `fit` that validate on `(x, y)` every epoch.

    Sequences: one pass of the batches `evaluate` reads (`one_pass`), not a
    repeated dataset. Keras drops its validation iterator before every
    validation (`EpochIterator.reset`), and on TensorFlow dropping the
    iterator of a repeated dataset took 6-8 s in about one fine-tuning epoch
    in three; an exhausted one-pass iterator goes at once
    (docs/PERFORMANCE.md, "Steady epochs")."""
    if time_steps(x) > 1:
        return dict(validation_data=one_pass(LengthBucketedBatches(x, y, batch_size, shuffle=False)))
    return as_validation(fit_arguments(x, y, batch_size, shuffle=False))


def is_input_arrays(x):
    """Whether `x` is model inputs as a dict of arrays (what `fit_arguments`
    batches), not tensors of a pipeline or a dataset."""
    return isinstance(x, dict) and bool(x) and all(isinstance(v, np.ndarray) for v in x.values())


def accepts_any_length(model):
    """Whether every sequence input of `model` (or of its `backbone`) has a free time axis."""
    model = getattr(model, "backbone", model)
    try:
        inputs = model.input
    except (AttributeError, ValueError):  # a subclassed model without a functional graph
        return False
    return isinstance(inputs, dict) and all(tensor.shape[1] is None for tensor in inputs.values())


def distributed(model):
    """Whether `model` trains data-parallel: a `keras.distribution` is set,
    or it was built in a `tf.distribute` strategy of several replicas. Its
    arrays then go to Keras as they are: a length bucket's last batch,
    split between replicas, would give them unequal shares, and each
    replica's mean loss would no longer make the global batch's."""
    if keras.distribution.distribution() is not None:
        return True
    strategy = getattr(model, "distribute_strategy", None)  # the TensorFlow trainer's
    return strategy is not None and strategy.num_replicas_in_sync > 1


def in_buckets(model, x):
    """Whether `model` reads the input arrays `x` in length buckets: a
    sequence longer than one step, and a model whose time axes are free."""
    return is_input_arrays(x) and time_steps(x) > 1 and accepts_any_length(model)


PREDICT_BATCH_SIZE = 256
"""Rows per batch when the experiments and DEC's callbacks predict (prediction holds no optimizer state)."""


def predict_in_buckets(model, x, batch_size=PREDICT_BATCH_SIZE, **kwargs):
    """`model.predict(x)` in length buckets (padded per batch, `in_buckets`),
    outputs in row order; otherwise the arrays as they are."""
    if not in_buckets(model, x):
        return keras.tree.map_structure(np.asarray, model.predict(x, batch_size=batch_size, **kwargs))
    batches = LengthBucketedBatches(x, batch_size=batch_size, shuffle=False)
    return batches.restore_order(model.predict(one_pass(batches), **kwargs))


DEFAULT_BATCH_SIZE = 32
"""Keras's own default batch size, which `fit`, `evaluate` and `predict` keep."""


class BatchedFeedMixin:
    """`fit`, `evaluate` and `predict` of a `keras.Model` that feed
    model-input arrays (a dict of NumPy arrays, `(N, T, ...)`) in length
    buckets, each batch padded to its own longest row and shuffled anew
    each epoch (`fit_arguments`), validation likewise unshuffled, outputs
    in row order; anything else (tensors, datasets, `PyDataset`s, sample
    weights, `steps_per_epoch`) goes to Keras's own as it is.

    A `VideoView` (`mosi_keras.data.video_view`: rows grouped by video,
    labels inside) is fed to a video-level model in batches of whole videos,
    `batch_size` videos each (`VideoBatches`), shuffled for `fit`; `predict`
    returns one output per row of the view, `(N, 1)` for a logit per
    utterance, in its row order. Data-parallel (`distributed`), arrays go
    to Keras as they are.

    Raw data (`raw_dataset`) reaches the model through its `preprocessor`
    (a fitted `mosi_keras.data.Preprocessor`, or `None`): `model_inputs`.
    A model overrides `prepare` (`(inputs, targets)` from what `fit` and
    `evaluate` are given: the targets of raw data are the model's own) and,
    to read other data, `model_inputs` (the inputs of what `predict` is
    given); `TARGETS_DTYPE` casts the targets (`None`: as given).
    """

    BATCHES_ROWS = True  # `fit`/`evaluate`/`predict` batch model-input arrays by row (a video model: by video)
    TARGETS_DTYPE = None
    videos_per_batch = 4  # a `VideoView`'s videos per training batch when `fit` is given no `batch_size`
    preprocessor = None  # the model's fitted `Preprocessor`, set by a model that takes raw data

    def prepare(self, x, y=None, training=False):
        """`(inputs, targets)` of what `fit` or `evaluate` were given (`training`: for `fit`)."""
        return x, y

    def preprocess(self, dataset):
        """The model inputs of a `MultimodalDataset`, by the model's preprocessor."""
        if self.preprocessor is None:
            raise ValueError(
                f"{self.name} carries no preprocessor: pass model inputs (Preprocessor.transform), or build "
                "the model with preprocessor=<a fitted Preprocessor>."
            )
        return self.preprocessor.transform(dataset)

    def model_inputs(self, x):
        """The model inputs of `x`: raw data (`raw_dataset`) through the preprocessor, anything else as it is."""
        dataset = raw_dataset(x)
        return x if dataset is None else self.preprocess(dataset)

    def targets_array(self, y):
        return np.asarray(y, self.TARGETS_DTYPE)

    def batched(self, x, y):
        """Whether `fit` feeds `(x, y)` itself: model-input arrays with their
        targets, of a model that reads any sequence length (or sequences of
        one step), trained on one device (`distributed`)."""
        return (self.BATCHES_ROWS and is_input_arrays(x) and y is not None and not distributed(self)
                and (time_steps(x) == 1 or in_buckets(self, x)))

    def batches_per_epoch(self, x, batch_size=None):
        """Training steps of one epoch of `fit(x, batch_size=...)`: length
        buckets counted; draws no random number."""
        x = self.model_inputs(x)
        if isinstance(x, VideoView):
            return len(VideoBatches(x, batch_size or self.videos_per_batch, shuffle=False))
        batch_size = batch_size or DEFAULT_BATCH_SIZE
        if self.BATCHES_ROWS and in_buckets(self, x):
            return len(LengthBucketedBatches(x, None, batch_size, shuffle=False))
        return math.ceil(len(next(iter(x.values()))) / batch_size)

    def fit(self, x=None, y=None, batch_size=None, validation_data=None, shuffle=True, **kwargs):
        """`keras.Model.fit`; model-input arrays fed in length buckets (see the class)."""
        x, y = self.prepare(x, y, training=True)
        if isinstance(validation_data, tuple) and len(validation_data) == 2:  # (inputs, targets)
            inputs, targets = validation_data
        else:
            inputs, targets = self.prepare(validation_data)  # anything but raw data comes back as it was
        own = not {"steps_per_epoch", "validation_split", "sample_weight", "class_weight"} & set(kwargs)
        if isinstance(x, VideoView):
            return super().fit(**self.video_feed(x, batch_size, shuffle, inputs), **kwargs)
        if not (own and self.batched(x, y)):
            validation_data = inputs if targets is None else (inputs, targets)
            return super().fit(x, y, batch_size=batch_size, validation_data=validation_data, shuffle=shuffle,
                               **kwargs)
        batch_size = batch_size or DEFAULT_BATCH_SIZE
        feed = fit_arguments(x, self.targets_array(y), batch_size, shuffle=shuffle)
        if self.batched(inputs, targets):
            feed.update(validation_arguments(inputs, self.targets_array(targets), batch_size))
        elif validation_data is not None:
            feed.update(validation_data=inputs if targets is None else (inputs, targets))
        return super().fit(**feed, **kwargs)

    def video_feed(self, view, batch_size, shuffle, validation):
        """`fit`'s data arguments for a `VideoView` (and an optional validation one): whole videos."""
        batch_size = batch_size or self.videos_per_batch
        feed = video_fit_arguments(view, batch_size, shuffle=shuffle)
        if validation is not None:
            feed.update(video_validation_arguments(validation, batch_size))
        return feed

    def evaluate(self, x=None, y=None, batch_size=None, **kwargs):
        """`keras.Model.evaluate`; model-input arrays in length buckets, as `fit` validates."""
        x, y = self.prepare(x, y)
        if isinstance(x, VideoView):
            return super().evaluate(**evaluate_arguments(x, None, batch_size or self.videos_per_batch), **kwargs)
        if not ({"steps", "sample_weight"} & set(kwargs)) and self.batched(x, y):
            feed = evaluate_arguments(x, self.targets_array(y), batch_size or DEFAULT_BATCH_SIZE)
            return super().evaluate(**feed, **kwargs)
        return super().evaluate(x, y, batch_size=batch_size, **kwargs)

    def predict(self, x, batch_size=None, **kwargs):
        """`keras.Model.predict`; model-input arrays in length buckets, outputs in row order;
        a `VideoView` by whole videos, one output per row of the view."""
        x = self.model_inputs(x)
        if isinstance(x, VideoView):
            outputs = x.to_rows(predict_videos(self, x, batch_size or VIDEOS_PER_PREDICTION))
            return outputs.reshape(len(outputs), -1)  # (N, 1) for a logit per utterance, as the row tasks'
        if not (self.BATCHES_ROWS and in_buckets(self, x)):
            return super().predict(x, batch_size=batch_size, **kwargs)
        return predict_in_buckets(self, x, batch_size or DEFAULT_BATCH_SIZE, **kwargs)
