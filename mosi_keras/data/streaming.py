"""Streaming from kit-layout HDF5 files larger than memory."""

import math

import h5py
import keras
import numpy as np

from mosi_keras.data.bucketing import PAD_TO_MULTIPLE_OF, trim_padding
from mosi_keras.data.dataset import DataError
from mosi_keras.data.kit_format import RESERVED, arrays_to_dataset
from mosi_keras.data.preprocessing import binary_labels


def hdf5_rows(path):
    """Number of rows of a kit-layout HDF5 file (its `sentiment` length)."""
    with h5py.File(path, "r") as file:
        if "sentiment" not in file:
            raise DataError(f"{path}: no 'sentiment' dataset (keys: {sorted(file)}).")
        return len(file["sentiment"])


def read_hdf5_rows(file, rows, source):
    """The rows `rows` (sorted, unique) of an open kit-layout HDF5 file."""
    arrays = {}
    for key in file:
        dataset = file[key]
        if isinstance(dataset, h5py.Dataset) and dataset.shape and dataset.shape[0] == file["sentiment"].shape[0]:
            if key in RESERVED - {"sentiment", "segment_id", "video_id", "fold"}:
                continue
            arrays[key] = dataset[rows]
    return arrays_to_dataset(arrays, f"{source} rows {rows[0]}..{rows[-1]}")


def iter_hdf5_chunks(path, rows=None, chunk_rows=4096):
    """Yields `MultimodalDataset` chunks of `rows` (all by default), in order."""
    rows = np.arange(hdf5_rows(path)) if rows is None else np.sort(np.asarray(rows))
    with h5py.File(path, "r") as file:
        for start in range(0, len(rows), chunk_rows):
            yield read_hdf5_rows(file, rows[start : start + chunk_rows], str(path))


class HDF5Sequence(keras.utils.PyDataset):
    """Batches of model inputs read from a kit-layout HDF5 file on demand.

    Only one batch is in memory at a time, so the file can be far larger
    than memory. Fit the preprocessing first in one streaming pass:
    `Preprocessor().fit_batches(iter_hdf5_chunks(path, train_rows))`. Each
    batch is padded only to its own longest row (rounded up to a multiple
    of `pad_to_multiple_of` steps), so batch shapes vary: on TensorFlow,
    fit on `mosi_keras.data.to_tf_dataset(sequence)` with
    `steps_per_epoch=len(sequence)`.

    Args:
        path: HDF5 file in the kit layout (`write_dataset` writes one).
        preprocessor: a fitted `Preprocessor`.
        rows: row indices to serve (e.g. the training rows); all by default.
        labels: `"binary"` (sentiment >= 0), `"sentiment"` (the raw score),
            or an array over the file's rows (e.g. `-1` for unlabelled rows,
            for `SemiSupervisedDEC`).
        batch_size: rows per batch.
        shuffle: reshuffle the rows every epoch (seeded).
        seed: shuffling seed.
        pad_to_multiple_of: batches are padded to a multiple of this many
            steps. Defaults to `PAD_TO_MULTIPLE_OF` (4).
        **kwargs: `keras.utils.PyDataset` arguments (`workers`,
            `use_multiprocessing`, `max_queue_size`).

    Example:

    >>> import os, tempfile
    >>> from mosi_keras.data import Preprocessor, make_synthetic_mosi, write_dataset
    >>> path = os.path.join(tempfile.mkdtemp(), "data.h5")
    >>> write_dataset(make_synthetic_mosi(n_videos=3, seed=0), path)
    >>> prep = Preprocessor().fit_batches(iter_hdf5_chunks(path, chunk_rows=10))
    >>> x, y = HDF5Sequence(path, prep, batch_size=8)[0]
    >>> x["text"].shape[1] <= 30, x["text"].shape[1] % 4 in (0, 30 % 4), y.shape
    (True, True, (8,))
    """

    def __init__(self, path, preprocessor, rows=None, labels="binary", batch_size=128, shuffle=False,
                 seed=0, pad_to_multiple_of=PAD_TO_MULTIPLE_OF, **kwargs):
        super().__init__(**kwargs)
        self.path = str(path)
        self.preprocessor = preprocessor
        self.rows = np.arange(hdf5_rows(path)) if rows is None else np.asarray(rows)
        self.labels = labels
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self.pad_to_multiple_of = int(pad_to_multiple_of)
        self.rng = np.random.default_rng(seed)
        self.order = self.rng.permutation(self.rows) if shuffle else self.rows
        self._file = None

    def __len__(self):
        return math.ceil(len(self.rows) / self.batch_size)

    def __getitem__(self, index):
        if self._file is None:
            self._file = h5py.File(self.path, "r")
        wanted = self.order[index * self.batch_size : (index + 1) * self.batch_size]
        rows, inverse = np.unique(wanted, return_inverse=True)  # h5py reads increasing rows
        batch = read_hdf5_rows(self._file, rows, self.path).subset(inverse)
        inputs = trim_padding(self.preprocessor.transform(batch), self.pad_to_multiple_of)
        if isinstance(self.labels, str):
            if self.labels == "binary":
                target = binary_labels(batch.sentiment).astype("float32")
            elif self.labels == "sentiment":
                target = batch.sentiment
            else:
                raise ValueError(f"labels must be 'binary', 'sentiment' or an array, got {self.labels!r}.")
        else:
            target = np.asarray(self.labels)[wanted]
        return inputs, target

    def on_epoch_end(self):
        if self.shuffle:
            self.order = self.rng.permutation(self.rows)
