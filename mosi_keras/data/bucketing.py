"""Batches of rows of similar length, each padded only to its own longest member."""

import math

import keras
import numpy as np

from mosi_keras.data.dataset import is_mask_name, mask_name


PAD_TO_MULTIPLE_OF = 4
"""Default bucket width in steps: on the word-level file 8 buckets, 5 % faster
per epoch than 8-step buckets (docs/PERFORMANCE.md); wider buckets mean fewer
shapes for JAX to compile."""


def valid_lengths(x):
    """dict modality → `(N,)` valid steps, read from the `<modality>_mask` inputs of `x`."""
    return {
        name: np.asarray(x[mask_name(name)]).sum(axis=1).astype("int64")
        for name in x if not is_mask_name(name) and mask_name(name) in x
    }


def padded_length(longest, multiple, limit):
    """`longest` steps rounded up to a multiple of `multiple`, within `[1, limit]`."""
    return int(min(limit, max(1, math.ceil(longest / multiple) * multiple)))


def is_per_row(value):
    """Whether an input holds one value per row `(N,)` (e.g. a sample index)
    rather than a sequence: batches select its rows and cut nothing."""
    return np.ndim(value) < 2


def sequence_names(x):
    """The inputs of `x` on the modalities' time axis: each `<modality>` that
    has a `<modality>_mask`, and that mask. Batches cut these to their
    longest row; any other input (a per-row value, a text encoder's token
    inputs, which have an axis of their own) keeps its shape."""
    names = set()
    for name, value in x.items():
        if not is_mask_name(name) and mask_name(name) in x and not is_per_row(value):
            names |= {name, mask_name(name)}
    return names


def time_steps(x):
    """The longest time axis among the sequence inputs of `x` (without
    masks: among its inputs of two axes or more)."""
    names = [name for name in sequence_names(x) if not is_mask_name(name)] or [
        name for name, value in x.items() if not is_mask_name(name) and not is_per_row(value)]
    return max(np.shape(x[name])[1] for name in names)


def cut(x, rows, length):
    """Rows `rows` of every input of `x`, its sequences cut to `length` steps."""
    sequences = sequence_names(x)
    return {name: np.asarray(value)[rows][:, :length] if name in sequences else np.asarray(value)[rows]
            for name, value in x.items()}


def shuffle_seed(seed, shuffle):
    """The seed of a batch order: `seed`, or, when shuffling without one, one
    drawn from NumPy's global generator (seeded by `keras.utils.set_random_seed`).
    Unshuffled batches (validation, prediction) draw none, so measuring a
    model never moves NumPy's generator."""
    return int(np.random.randint(2**31 - 1)) if seed is None and shuffle else int(seed or 0)


def trim_padding(x, pad_to_multiple_of=PAD_TO_MULTIPLE_OF):
    """A batch of inputs cut to its longest row, rounded up to a multiple of
    `pad_to_multiple_of` steps: only padding is cut."""
    longest = max(int(lengths.max()) for lengths in valid_lengths(x).values())
    length = padded_length(longest, pad_to_multiple_of, time_steps(x))
    return cut(x, slice(None), length)


class LengthBucketedBatches(keras.utils.PyDataset):
    """Batches drawn from length buckets, each padded only as far as it needs.

    Every row goes to the bucket of its longest modality rounded up to a
    multiple of `pad_to_multiple_of` steps; a batch takes rows of one bucket
    and cuts every sequence input (features and `<modality>_mask`) to that
    bucket's length. Rows of a CMU-MOSI segment are mostly much shorter than
    the padded arrays, so the model attends over a fraction of the steps;
    the masks make the results the same as on fully padded arrays. With
    `shuffle`, rows are shuffled inside their bucket and the batches across
    buckets, anew each epoch (`on_epoch_end`), reproducibly for a `seed`;
    every row is served exactly once per epoch. The number of batch shapes
    is the number of buckets (at most `ceil(T / pad_to_multiple_of)`), so
    jit-compiled steps are traced a few times, not once per batch.

    Works as it is with `fit`, `evaluate` and `predict` on JAX and PyTorch;
    on TensorFlow pass `to_tf_dataset(batches)` instead, whose element spec
    leaves the time axis free (Keras's own adapter fixes a PyDataset's
    shapes from its first two batches).

    Args:
        x: dict of model inputs with valid steps first: `<modality>` arrays
            `(N, T, d)` and `<modality>_mask` `(N, T)`, as
            `Preprocessor.transform` returns them; `(N,)` inputs (one value
            per row) are batched as they are.
        y: optional targets `(N, ...)`.
        batch_size: rows per batch (a bucket's last batch may be smaller).
        shuffle: reshuffle every epoch; without it batches come bucket by
            bucket, rows in order (see `order` and `restore_order`).
        seed: shuffling seed; `None` draws one from NumPy's global generator
            (seeded by `keras.utils.set_random_seed`) when `shuffle`.
        pad_to_multiple_of: bucket width in steps. Defaults to
            `PAD_TO_MULTIPLE_OF` (4).
        **kwargs: `keras.utils.PyDataset` arguments.

    Example:

    >>> import numpy as np
    >>> mask = (np.arange(30)[None, :] < np.array([[3], [5], [12], [30]])).astype("int32")
    >>> x = {"text": np.zeros((4, 30, 2), "float32"), "text_mask": mask}
    >>> batches = LengthBucketedBatches(x, batch_size=2, shuffle=False)
    >>> [tuple(batch["text"].shape) for batch in batches]
    [(1, 4, 2), (1, 8, 2), (1, 12, 2), (1, 30, 2)]
    """

    def __init__(self, x, y=None, batch_size=128, shuffle=True, seed=None, pad_to_multiple_of=PAD_TO_MULTIPLE_OF,
                 **kwargs):
        super().__init__(**kwargs)
        lengths = valid_lengths(x)
        if not lengths:
            raise ValueError("no `<modality>_mask` input found: the batches need masks to know the lengths.")
        self.x, self.y = x, y
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self.seed = shuffle_seed(seed, shuffle)
        self.pad_to_multiple_of = int(pad_to_multiple_of)
        limit = time_steps(x)
        longest = np.max(np.stack(list(lengths.values())), axis=0)
        bucket_of = np.array([padded_length(n, self.pad_to_multiple_of, limit) for n in longest])
        self.buckets = {int(b): np.flatnonzero(bucket_of == b) for b in np.unique(bucket_of)}
        self.epoch = 0
        self.batches = self.plan()

    def plan(self):
        """The `(length, rows)` batches of the current epoch."""
        rng = np.random.default_rng([self.seed, self.epoch])
        batches = []
        for length, rows in self.buckets.items():
            rows = rng.permutation(rows) if self.shuffle else rows
            batches += [(length, rows[i : i + self.batch_size]) for i in range(0, len(rows), self.batch_size)]
        if self.shuffle:
            batches = [batches[i] for i in rng.permutation(len(batches))]
        return batches

    def __len__(self):
        return len(self.batches)

    def __getitem__(self, index):
        length, rows = self.batches[index]
        x = cut(self.x, rows, length)
        return x if self.y is None else (x, np.asarray(self.y)[rows])

    def on_epoch_end(self):
        if self.shuffle:
            self.epoch += 1
            self.batches = self.plan()

    @property
    def order(self):
        """Row indices in the order this epoch serves them."""
        return np.concatenate([rows for _, rows in self.batches])

    def restore_order(self, outputs):
        """Puts outputs (an array, or a dict of arrays) of one pass back in row order."""
        inverse = np.argsort(self.order)
        return keras.tree.map_structure(lambda array: np.asarray(array)[inverse], outputs)


def to_tf_dataset(batches, repeat=True):
    """A `tf.data.Dataset` serving a `keras.utils.PyDataset` of varying-length batches.

    Its element spec leaves the batch and time axes free, so TensorFlow
    traces one step for every length. With `repeat`, it serves epoch after
    epoch (calling `on_epoch_end` in between): pass `steps_per_epoch=len(batches)`
    to `fit`.

    Unshuffled batches (validation, prediction) are the same every epoch:
    they are served from tensors, without a Python generator, whose
    iterator costs about 0.24 s to tear down on the project's CPU — and
    Keras makes a new validation iterator every epoch and a new one per
    `predict` (docs/PERFORMANCE.md). Shuffled batches come from a generator
    that draws each epoch's batches anew (one iterator per `fit`).
    """
    import tensorflow as tf

    if not batches.shuffle:
        dataset = None
        for index in range(len(batches)):
            one = tf.data.Dataset.from_tensors(batches[index])
            dataset = one if dataset is None else dataset.concatenate(one)
        return dataset.repeat() if repeat else dataset

    def spec(array, features):
        # Every axis free but a feature array's last (its width): batch,
        # time (and a video's utterances) change from batch to batch.
        array = np.asarray(array)
        shape = (None,) * (array.ndim - 1) + (array.shape[-1] if features else None,)
        return tf.TensorSpec(shape, tf.as_dtype(array.dtype))

    first = batches[0]
    x, y = first if isinstance(first, tuple) else (first, None)
    signature = {name: spec(value, not (is_mask_name(name) or is_per_row(value))) for name, value in x.items()}
    if y is not None:
        signature = (signature, spec(y, False))

    def generate():
        while True:
            for index in range(len(batches)):
                yield batches[index]
            batches.on_epoch_end()
            if not repeat:
                return

    dataset = tf.data.Dataset.from_generator(generate, output_signature=signature)
    if not repeat:  # a known length: Keras then reads exactly one pass, without a warning
        dataset = dataset.apply(tf.data.experimental.assert_cardinality(len(batches)))
    return dataset.prefetch(2)


def accepts_any_length(model):
    """Whether every sequence input of `model` (or of its `backbone`) has a free time axis."""
    model = getattr(model, "backbone", model)
    try:
        inputs = model.input
    except (AttributeError, ValueError):  # a subclassed model without a functional graph
        return False
    return isinstance(inputs, dict) and all(tensor.shape[1] is None for tensor in inputs.values())


def predict_in_buckets(model, x, batch_size=256):
    """`model.predict(x)` in length buckets (padded per batch), outputs in row order.

    Models whose inputs have a fixed length (or sequences of length 1) are
    fed the arrays as they are.
    """
    if time_steps(x) == 1 or not accepts_any_length(model):
        return keras.tree.map_structure(np.asarray, model.predict(x, batch_size=batch_size, verbose=0))
    batches = LengthBucketedBatches(x, batch_size=batch_size, shuffle=False)
    feed = to_tf_dataset(batches, repeat=False) if keras.backend.backend() == "tensorflow" else batches
    return batches.restore_order(model.predict(feed, verbose=0))
