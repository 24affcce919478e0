"""How training and validation arrays reach `fit`."""

import math

import keras


def fit_arguments(x, y, batch_size, shuffle=True):
    """Keyword arguments of `fit` that feed `(x, y)` in batches of `batch_size`.

    Other backends take the arrays as they are. On TensorFlow, Keras turns
    arrays into a new `tf.data` iterator twice per epoch, which costs as
    much as a training step on utterance-level data; a repeated pipeline
    with `steps_per_epoch` keeps one iterator for the whole `fit` (the
    same batches: reshuffled every epoch, last batch partial). See
    `docs/PERFORMANCE.md`.
    """
    if keras.backend.backend() != "tensorflow":
        return dict(x=x, y=y, batch_size=batch_size, shuffle=shuffle)
    import tensorflow as tf

    dataset = tf.data.Dataset.from_tensor_slices((x, y))
    if shuffle:
        dataset = dataset.shuffle(len(y), reshuffle_each_iteration=True)
    return dict(
        x=dataset.batch(batch_size).repeat(),
        steps_per_epoch=math.ceil(len(y) / batch_size),
        shuffle=False,  # the pipeline shuffles; fit's own flag does not apply to datasets
    )


def validation_arguments(x, y, batch_size):
    """Keyword arguments of `fit` that validate on `(x, y)` every epoch."""
    arguments = fit_arguments(x, y, batch_size, shuffle=False)
    if "steps_per_epoch" in arguments:
        return dict(validation_data=arguments["x"], validation_steps=arguments["steps_per_epoch"])
    return dict(validation_data=(x, y), validation_batch_size=batch_size)
