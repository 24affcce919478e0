"""The kit's own layout, in `.npz` or HDF5.

One array per modality (`(N, d)` utterance vectors or `(N, T, d)`
sequences) with optional `<modality>_lengths`; `sentiment`; optional
`segment_id`, `video_id`, `segment_index` (a segment's position in its
video) and `fold`. Any other numeric 2-D or 3-D array is a modality; other
1-D arrays (`transcript`) are ignored.
"""

import zipfile

import h5py
import numpy as np

from mosi_keras.data.dataset import DataError, from_arrays

RESERVED = {"sentiment", "segment_id", "video_id", "fold", "segment_index", "transcript"}


def _decode(array):
    array = np.asarray(array)
    if array.dtype.kind in "SO":
        return np.array([v.decode() if isinstance(v, bytes) else str(v) for v in array])
    return array


def arrays_to_dataset(arrays, source, require_sentiment=True):
    """Turns the kit layout (a dict of arrays) into a `MultimodalDataset`;
    without `require_sentiment` a file with no `sentiment` gives unlabelled
    segments (`labelled=False`)."""
    if "sentiment" not in arrays and require_sentiment:
        raise DataError(f"{source}: no 'sentiment' array (keys: {sorted(arrays)}).")
    modalities, lengths = {}, {}
    for key, array in arrays.items():
        if key in RESERVED or key.endswith("_lengths"):
            continue
        if array.ndim in (2, 3) and np.issubdtype(array.dtype, np.number):
            modalities[key] = array
            lengths[key] = arrays.get(f"{key}_lengths")
        elif array.ndim > 3:
            raise DataError(
                f"{source}: '{key}' has shape {array.shape}; a modality is (N, d) or (N, T, d)."
            )
    orphans = [k for k in arrays if k.endswith("_lengths") and k[: -len("_lengths")] not in modalities]
    if orphans:
        raise DataError(f"{source}: {orphans} given but there is no such modality array.")
    return from_arrays(
        modalities,
        arrays.get("sentiment"),
        lengths=lengths,
        ids=_decode(arrays["segment_id"]) if "segment_id" in arrays else None,
        video_ids=_decode(arrays["video_id"]) if "video_id" in arrays else None,
        folds=_decode(arrays["fold"]) if "fold" in arrays else None,
        source=source,
        segment_index=arrays.get("segment_index"),
    )


def read_npz(path, require_sentiment=True):
    with open(path, "rb") as file:
        head = file.read(4)
    if not head.startswith(b"PK"):  # every zip archive, hence every .npz, starts so
        raise DataError(f"{path}: not a .npz (zip) archive: it starts with the bytes {head!r}.")
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {key: archive[key] for key in archive.files}
    except (zipfile.BadZipFile, OSError, EOFError) as error:
        raise DataError(f"{path}: a damaged or truncated .npz archive ({error}).") from None
    except ValueError as error:
        raise DataError(f"{path}: holds pickled objects, which are not loaded ({error}).") from None
    return arrays_to_dataset(arrays, str(path), require_sentiment)


def read_hdf5(path, require_sentiment=True):
    try:
        with h5py.File(path, "r") as file:
            arrays = {
                key: file[key][()] for key in file.keys() if isinstance(file[key], h5py.Dataset)
            }
    except OSError as error:
        raise DataError(f"{path}: not a readable HDF5 file ({error}).") from None
    return arrays_to_dataset(arrays, str(path), require_sentiment)


def write_dataset(dataset, path):
    """Writes `dataset` in the kit layout; `.npz` or `.h5` by suffix."""
    arrays = {}
    for name, array in dataset.modalities.items():
        arrays[name] = array
        arrays[f"{name}_lengths"] = dataset.lengths[name]
    arrays["sentiment"] = dataset.sentiment
    arrays["segment_id"] = dataset.ids.astype(str)
    arrays["video_id"] = dataset.video_ids.astype(str)
    if dataset.folds is not None:
        arrays["fold"] = dataset.folds.astype(str)
    if dataset.segment_index is not None:
        arrays["segment_index"] = dataset.segment_index
    path = str(path)
    if path.endswith(".npz"):
        np.savez(path, **arrays)
    else:
        with h5py.File(path, "w") as file:
            for key, value in arrays.items():
                if value.dtype.kind == "U":
                    value = value.astype("S")
                file.create_dataset(key, data=value)
