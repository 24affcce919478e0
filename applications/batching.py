"""How a model's inputs reach `fit`, and predictions leave `predict`: the models' own feeding.

Word-level sequences go in length buckets, each batch padded only to its
own longest member (`mosi_keras.data.LengthBucketedBatches`); on
TensorFlow through a `tf.data` pipeline with a free time axis
(`to_tf_dataset`), repeated with `steps_per_epoch` so that one iterator
serves the whole `fit`. Utterance-level data (length 1) has nothing to trim:
arrays on JAX and PyTorch, a repeated `tf.data` pipeline on TensorFlow.
Video-level models get batches of whole videos (`video_fit_arguments`).

`SentimentTask.fit/evaluate/predict` feed model-input arrays (and raw data,
once preprocessed) this way, so `task.fit(data)` trains on the batches the
experiments measure; DEC pre-training and the autoencoder use the same
functions.
"""

import math

import keras
import numpy as np

from mosi_keras.data import LengthBucketedBatches, to_tf_dataset
from mosi_keras.data.bucketing import time_steps
from mosi_keras.data.video import VideoBatches


def batch_arguments(batches):
    """Keyword arguments of `fit` that feed a `keras.utils.PyDataset` of
    varying-shape batches: as it is on JAX and PyTorch, through a repeated
    `to_tf_dataset` on TensorFlow."""
    if keras.backend.backend() != "tensorflow":
        return dict(x=batches)
    return dict(x=to_tf_dataset(batches), steps_per_epoch=len(batches), shuffle=False)


def as_validation(arguments):
    """The `fit` keyword arguments that validate on what `arguments` (of
    `fit_arguments` or `video_fit_arguments`, unshuffled) would train on."""
    if "steps_per_epoch" in arguments:
        return dict(validation_data=arguments["x"], validation_steps=arguments["steps_per_epoch"])
    if "y" not in arguments:
        return dict(validation_data=arguments["x"])
    return dict(validation_data=(arguments["x"], arguments["y"]), validation_batch_size=arguments["batch_size"])


def video_fit_arguments(view, videos_per_batch, shuffle=True, seed=None):
    """Keyword arguments of `fit` that feed a `VideoView` (and its labels)
    in batches of whole videos (`mosi_keras.data.video.VideoBatches`)."""
    return batch_arguments(VideoBatches(view, videos_per_batch=videos_per_batch, shuffle=shuffle, seed=seed))


def video_validation_arguments(view, videos_per_batch):
    """Keyword arguments of `fit` that validate on a `VideoView` every epoch."""
    return as_validation(video_fit_arguments(view, videos_per_batch, shuffle=False))


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


def steps_per_epoch(arguments):
    """Training steps per epoch of `fit` fed with `arguments` (of
    `fit_arguments` or `video_fit_arguments`)."""
    if "steps_per_epoch" in arguments:
        return arguments["steps_per_epoch"]
    if "batch_size" in arguments:
        return math.ceil(len(arguments["y"]) / arguments["batch_size"])
    return len(arguments["x"])  # a PyDataset: one batch per index


def validation_arguments(x, y, batch_size):
    """Keyword arguments of `fit` that validate on `(x, y)` every epoch."""
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


def in_buckets(model, x):
    """Whether `model` reads the input arrays `x` in length buckets: a
    sequence longer than one step, and a model whose time axes are free."""
    return is_input_arrays(x) and time_steps(x) > 1 and accepts_any_length(model)


def predict_in_buckets(model, x, batch_size=256, **kwargs):
    """`model.predict(x)` in length buckets (padded per batch, `in_buckets`),
    outputs in row order; otherwise the arrays as they are."""
    if not in_buckets(model, x):
        return keras.tree.map_structure(np.asarray, model.predict(x, batch_size=batch_size, **kwargs))
    batches = LengthBucketedBatches(x, batch_size=batch_size, shuffle=False)
    feed = to_tf_dataset(batches, repeat=False) if keras.backend.backend() == "tensorflow" else batches
    return batches.restore_order(model.predict(feed, **kwargs))
