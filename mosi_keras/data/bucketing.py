"""Batches of rows of similar length, padded to a few widths chosen per data set."""

import math

import keras
import numpy as np

from mosi_keras.inputs import TOKEN_INPUTS, is_mask_name, mask_name


PAD_TO_MULTIPLE_OF = 4
"""The step that every padded width is a multiple of (or the axis's full
length): the granularity of the length ladder (`length_ladder`)."""

MAX_WIDTHS = 4
"""Widths of the length ladder, and so full-batch shapes of one pass: a
compiled step (JAX, TensorFlow with XLA, `torch.compile`) compiles once per
shape. On the word file with MiniLM's tokens (batch 32), 4 widths pad 21 %
of the served tokens, where a bucket every 4 tokens padded 9 % in 10 widths
(31 shapes in a fine-tuning fit, each bucket's short last batch included)
and one width pads 61 % (docs/PERFORMANCE.md)."""


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
    longest row; a text encoder's token inputs have an axis of their own
    (`padded_axes`), and any other input keeps its shape."""
    names = set()
    for name, value in x.items():
        if not is_mask_name(name) and mask_name(name) in x and not is_per_row(value):
            names |= {name, mask_name(name)}
    return names


def token_names(x):
    """The text encoder's token inputs of `x` (`TOKEN_INPUTS`), which share
    the token axis; none unless `x` has a padding mask of tokens."""
    names = set(TOKEN_INPUTS.values()) & set(x)
    return names if TOKEN_INPUTS["padding_mask"] in names else set()


def padded_axes(x):
    """The padded axes of `x`: a list of `(names, lengths)`, the inputs cut
    together and each row's valid steps on that axis. The token axis comes
    first when there is one (a batch's cost is mostly its encoder's tokens,
    so rows are bucketed by it); then the modalities' time axis (a row's
    longest modality)."""
    axes = []
    tokens = token_names(x)
    if tokens:
        axes.append((tokens, np.asarray(x[TOKEN_INPUTS["padding_mask"]]).sum(axis=1).astype("int64")))
    lengths = valid_lengths(x)
    if lengths:
        axes.append((sequence_names(x), np.max(np.stack(list(lengths.values())), axis=0)))
    return axes


def time_steps(x):
    """The longest time axis among the sequence inputs of `x` (without
    masks: among its inputs of two axes or more)."""
    names = [name for name in sequence_names(x) if not is_mask_name(name)] or [
        name for name, value in x.items() if not is_mask_name(name) and not is_per_row(value)]
    return max(np.shape(x[name])[1] for name in names)


def cut(x, rows, lengths):
    """Rows `rows` of every input of `x`, each input named in `lengths`
    (name → steps) cut to its steps."""
    return {name: np.asarray(value)[rows][:, :lengths[name]] if name in lengths else np.asarray(value)[rows]
            for name, value in x.items()}


def cut_lengths(x, rows, pad_to_multiple_of, axes=None):
    """name → steps that rows `rows` of `x` need on each padded axis: their
    longest, rounded up to a multiple of `pad_to_multiple_of` (only padding
    is cut). `axes`: `padded_axes(x)`, when already computed."""
    return {name: padded_length(lengths[rows].max(), pad_to_multiple_of, np.shape(x[name])[1])
            for names, lengths in (axes or padded_axes(x)) for name in names}


def shuffle_seed(seed, shuffle):
    """The seed of a batch order: `seed`, or, when shuffling without one, one
    drawn from NumPy's global generator (seeded by `keras.utils.set_random_seed`).
    Unshuffled batches (validation, prediction) draw none, so measuring a
    model never moves NumPy's generator."""
    return int(np.random.randint(2**31 - 1)) if seed is None and shuffle else int(seed or 0)


def trim_padding(x, pad_to_multiple_of=PAD_TO_MULTIPLE_OF):
    """A batch of inputs cut to its longest row on each padded axis, rounded
    up to a multiple of `pad_to_multiple_of` steps: only padding is cut."""
    return cut(x, slice(None), cut_lengths(x, slice(None), pad_to_multiple_of))


def length_ladder(lengths, max_widths=MAX_WIDTHS, multiple=PAD_TO_MULTIPLE_OF, limit=None):
    """The padded widths, at most `max_widths`, that serve rows of `lengths`
    steps with the fewest padded steps, each row at the narrowest width that
    holds it.

    Every width is a row's length rounded up to a multiple of `multiple`
    (within `limit`, the axis's length, when given), the widest holds the
    longest row; the widths are chosen by dynamic programming over those
    candidates, so they follow the data set's own lengths.

    Returns:
        the widths, a sorted list of ints.

    Example:

    >>> length_ladder([3, 5, 5, 6, 17, 30], max_widths=2)
    [8, 32]
    """
    limit = math.inf if limit is None else limit
    candidates, counts = np.unique([padded_length(n, multiple, limit) for n in lengths], return_counts=True)
    rows_up_to = np.cumsum(counts)  # rows whose candidate is <= candidates[j]
    widths = min(int(max_widths), len(candidates))
    # cost[k, j]: the fewest padded steps for the rows up to candidate j on k + 1 widths, the widest candidate j.
    cost = np.full((widths, len(candidates)), np.inf)
    cost[0] = candidates * rows_up_to
    below = np.zeros(cost.shape, "int64")  # the width under candidate j on that ladder
    for k in range(1, widths):
        for j in range(k, len(candidates)):
            options = cost[k - 1, :j] + candidates[j] * (rows_up_to[j] - rows_up_to[:j])
            below[k, j] = int(np.argmin(options))
            cost[k, j] = options[below[k, j]]
    chosen, j = [], len(candidates) - 1
    for k in range(widths - 1, -1, -1):
        chosen.append(int(candidates[j]))
        j = below[k, j]
    return sorted(chosen)


class LengthBucketedBatches(keras.utils.PyDataset):
    """Batches of rows of similar length, padded to a few widths chosen for the data.

    Rows are ordered by length — their longest modality or, with a text
    encoder's token inputs, their token count, which costs most — and cut
    into batches of `batch_size` consecutive rows; each batch is padded to
    the narrowest width of a short ladder (`length_ladder`: at most
    `max_widths` widths, chosen to pad the rows least) that holds its
    longest row. Every other padded axis (the modalities' features and
    `<modality>_mask` next to tokens) is cut to what the rows up to that
    width need, so each width is one batch shape. Only the last batch of a
    pass is short: a pass serves at most `max_widths + 1` shapes, so a
    compiled step (JAX, TensorFlow with XLA, `torch.compile`) compiles a
    handful of times, not once per batch. Rows of a CMU-MOSI segment are
    mostly much shorter than the padded arrays; the masks make the results
    the same as on fully padded arrays.

    With `shuffle`, rows of one width are shuffled before the cut and the
    batches after it, anew each epoch (`on_epoch_end`), reproducibly for a
    `seed` (as transformers' `group_by_length` sampler, over the whole
    set); every row is served exactly once per epoch.

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
        batch_size: rows per batch (the last batch of a pass may be smaller).
        shuffle: reshuffle every epoch; without it rows come width by
            width, in order within one (see `order` and `restore_order`).
        seed: shuffling seed; `None` draws one from NumPy's global generator
            (seeded by `keras.utils.set_random_seed`) when `shuffle`.
        pad_to_multiple_of: every width is a multiple of this many steps
            (or the axis's length). Defaults to `PAD_TO_MULTIPLE_OF` (4).
        max_widths: widths of the ladder. Defaults to `MAX_WIDTHS` (4).
        **kwargs: `keras.utils.PyDataset` arguments.

    Example:

    >>> import numpy as np
    >>> mask = (np.arange(30)[None, :] < np.array([[3], [5], [12], [30]])).astype("int32")
    >>> x = {"text": np.zeros((4, 30, 2), "float32"), "text_mask": mask}
    >>> batches = LengthBucketedBatches(x, batch_size=2, shuffle=False, max_widths=2)
    >>> batches.widths, [tuple(batch["text"].shape) for batch in batches]
    ([12, 30], [(2, 12, 2), (2, 30, 2)])
    """

    def __init__(self, x, y=None, batch_size=128, shuffle=True, seed=None, pad_to_multiple_of=PAD_TO_MULTIPLE_OF,
                 max_widths=MAX_WIDTHS, **kwargs):
        super().__init__(**kwargs)
        axes = padded_axes(x)
        if not axes:
            raise ValueError("no `<modality>_mask` or token padding-mask input found: the batches need masks to "
                             "know the lengths.")
        self.x, self.y = x, y
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self.seed = shuffle_seed(seed, shuffle)
        self.pad_to_multiple_of = int(pad_to_multiple_of)
        names, self.row_lengths = axes[0]
        limit = max(np.shape(x[name])[1] for name in names)  # the axis's widest input
        self.widths = length_ladder(self.row_lengths, max_widths, self.pad_to_multiple_of, limit)
        self.width_of = np.searchsorted(self.widths, self.row_lengths)  # each row's width, by index
        # One shape per width: every axis cut to what the rows up to that width need.
        self.lengths = [cut_lengths(x, np.flatnonzero(self.width_of <= w), self.pad_to_multiple_of, axes)
                        for w in range(len(self.widths))]
        self.epoch = 0
        self.batches = self.plan()

    def plan(self):
        """The `(width index, rows)` batches of the current epoch."""
        rng = np.random.default_rng([self.seed, self.epoch])
        order = np.concatenate([
            rng.permutation(rows) if self.shuffle else rows
            for rows in (np.flatnonzero(self.width_of == w) for w in range(len(self.widths)))])
        batches = [order[i : i + self.batch_size] for i in range(0, len(order), self.batch_size)]
        if self.shuffle:
            batches = [batches[i] for i in rng.permutation(len(batches))]
        return [(int(self.width_of[rows].max()), rows) for rows in batches]

    def __len__(self):
        return len(self.batches)

    def __getitem__(self, index):
        width, rows = self.batches[index]
        x = cut(self.x, rows, self.lengths[width])
        return x if self.y is None else (x, np.asarray(self.y)[rows])

    def on_epoch_end(self):
        if self.shuffle:
            self.epoch += 1
            self.batches = self.plan()

    @property
    def shapes(self):
        """The distinct batch shapes of this epoch, `(rows, width)` on the length axis."""
        return sorted({(len(rows), self.widths[width]) for width, rows in self.batches})

    @property
    def padding(self):
        """The share of padding among the steps this epoch serves on the length axis."""
        served = sum(len(rows) * self.widths[width] for width, rows in self.batches)
        return 1 - float(self.row_lengths.sum()) / served

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

    def spec(array, features):
        # Every axis free but a feature array's last (its width): batch,
        # time, tokens (and a video's utterances) change from batch to batch.
        array = np.asarray(array)
        shape = (None,) * (array.ndim - 1) + (array.shape[-1] if features else None,)
        return tf.TensorSpec(shape, tf.as_dtype(array.dtype))

    first = batches[0]
    x, y = first if isinstance(first, tuple) else (first, None)
    signature = {name: spec(value, np.ndim(value) > 2 and not is_mask_name(name)) for name, value in x.items()}
    if y is not None:
        signature = (signature, spec(y, False))

    if not batches.shuffle:
        dataset = None
        for index in range(len(batches)):
            one = tf.data.Dataset.from_tensors(batches[index])
            dataset = one if dataset is None else dataset.concatenate(one)
        # Batches of one shape alone would fix the spec to it, and every
        # `predict` of another row count would trace the step anew: a
        # dataset of no element whose free axes are 0 makes them free.
        dataset = dataset.concatenate(tf.data.Dataset.from_tensor_slices(keras.tree.map_structure(
            lambda one: np.zeros((0, *[0 if size is None else size for size in one.shape]), one.dtype.as_numpy_dtype),
            signature)))
        return dataset.repeat() if repeat else dataset

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
