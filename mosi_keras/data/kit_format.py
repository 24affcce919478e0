"""The kit's own layout, in `.npz` or HDF5.

One array per modality (`(N, d)` utterance vectors or `(N, T, d)`
sequences) with optional `<modality>_lengths`; `sentiment`; optional
`segment_id`, `video_id`, `segment_index` (a segment's position in its
video), `fold` and `transcript` (one string per segment, kept as the
dataset's `transcripts`). Any other numeric 2-D or 3-D array is a modality.
"""

import zipfile
import zlib

import h5py
import numpy as np

from mosi_keras.data.dataset import DataError, from_arrays
from mosi_keras.data.hdf5_arrays import read_h5_array

CONTENTS_ATTRIBUTE = "mosi_keras_contents"  # HDF5 root attribute: `name:crc32` of each array written
RESERVED = {"sentiment", "segment_id", "video_id", "fold", "segment_index", "transcript"}


def decode_strings(array):
    """Strings stored as bytes (HDF5) or objects, as a str array; other arrays unchanged."""
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
        ids=decode_strings(arrays["segment_id"]) if "segment_id" in arrays else None,
        video_ids=decode_strings(arrays["video_id"]) if "video_id" in arrays else None,
        folds=decode_strings(arrays["fold"]) if "fold" in arrays else None,
        source=source,
        segment_index=arrays.get("segment_index"),
        transcripts=decode_strings(arrays["transcript"]) if "transcript" in arrays else None,
    )


def read_arrays(path):
    """Every array of a kit-layout file, by name: HDF5 when it starts with
    HDF5's signature, else `.npz`; named errors for files that are neither."""
    with open(path, "rb") as file:
        is_hdf5 = file.read(8).startswith(b"\x89HDF")
    return _read_hdf5_arrays(path) if is_hdf5 else _read_npz_arrays(path)


def _read_npz_arrays(path):
    with open(path, "rb") as file:
        head = file.read(4)
    if not head.startswith(b"PK"):  # every zip archive, hence every .npz, starts so
        raise DataError(f"{path}: not a .npz (zip) archive: it starts with the bytes {head!r}.")
    try:
        _check_npz_sizes(path)
        with np.load(path, allow_pickle=False) as archive:
            return {key: archive[key] for key in archive.files}
    except DataError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, NotImplementedError) as error:
        raise DataError(f"{path}: a damaged or truncated .npz archive ({error}).") from None
    except ValueError as error:
        if "allow_pickle" in str(error):
            raise DataError(f"{path}: holds pickled objects, which are not loaded ({error}).") from None
        raise DataError(f"{path}: a damaged .npz archive ({error}).") from None


def _check_npz_sizes(path):
    """Checks, before anything is allocated, that each array of the archive
    holds the bytes its `.npy` header declares (a header that claims 10¹²
    rows would otherwise allocate terabytes)."""
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            name = info.filename[:-4] if info.filename.endswith(".npy") else info.filename
            with archive.open(info) as member:
                try:
                    version = np.lib.format.read_magic(member)
                    read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                                   else np.lib.format.read_array_header_2_0)
                    shape, _, dtype = read_header(member)
                except (ValueError, SyntaxError, EOFError) as error:
                    raise DataError(f"{path}: '{name}' has a damaged .npy header ({error}).") from None
                if dtype.hasobject:
                    continue  # refused by np.load(allow_pickle=False) with its own message
                declared = int(np.prod(shape, dtype=object)) * dtype.itemsize
                held = info.file_size - member.tell()
                if declared != held:
                    raise DataError(
                        f"{path}: '{name}' declares shape {shape} of {dtype} ({declared:,} bytes) but holds "
                        f"{held:,} bytes; the archive is damaged."
                    )


def _read_hdf5_arrays(path):
    try:
        with h5py.File(path, "r") as file:
            names = list(file.keys())
            if not all(isinstance(name, str) for name in names):  # h5py gives bytes for a name that is not UTF-8
                raise DataError(f"{path}: the array names {names} are not all text; the file is damaged.")
            arrays = {key: read_h5_array(file[key], path, key) for key in names if isinstance(file[key], h5py.Dataset)}
            written = file.attrs.get(CONTENTS_ATTRIBUTE)
    except DataError:
        raise
    except (OSError, RuntimeError, KeyError) as error:  # a damaged file's structure, before any data
        raise DataError(f"{path}: not a readable HDF5 file ({error}).") from None
    if written is not None:
        _check_contents(path, arrays, written.decode(errors="replace") if isinstance(written, bytes) else str(written))
    return arrays


def _contents(arrays):
    """`name:crc32,...` of `arrays` in name order: what a kit-written HDF5 file records of itself."""
    return ",".join(f"{key}:{zlib.crc32(np.ascontiguousarray(arrays[key]).tobytes())}" for key in sorted(arrays))


def _check_contents(path, arrays, written):
    if written == _contents(arrays):
        return
    recorded = dict(item.rpartition(":")[::2] for item in written.split(","))
    if sorted(recorded) != sorted(arrays):
        raise DataError(f"{path}: was written with the arrays {sorted(recorded)} but holds {sorted(arrays)}; "
                        "the file is damaged.")
    changed = [key for key in sorted(arrays) if recorded[key] != _contents({key: arrays[key]}).rpartition(":")[2]]
    raise DataError(f"{path}: {changed} hold other values than were written (CRC-32); the file is damaged.")


def read_npz(path, require_sentiment=True):
    return arrays_to_dataset(_read_npz_arrays(path), str(path), require_sentiment)


def read_hdf5(path, require_sentiment=True):
    return arrays_to_dataset(_read_hdf5_arrays(path), str(path), require_sentiment)


def write_dataset(dataset, path):
    """Writes `dataset` in the kit layout; `.npz` or `.h5` by suffix."""
    arrays = {}
    for name, array in dataset.modalities.items():
        arrays[name] = array
        arrays[f"{name}_lengths"] = dataset.lengths[name]
    if dataset.labelled:  # unlabelled segments (NaN) are written without one, as they are read
        arrays["sentiment"] = dataset.sentiment
    arrays["segment_id"] = dataset.ids.astype(str)
    arrays["video_id"] = dataset.video_ids.astype(str)
    if dataset.folds is not None:
        arrays["fold"] = dataset.folds.astype(str)
    if dataset.segment_index is not None:
        arrays["segment_index"] = dataset.segment_index
    if dataset.transcripts is not None:
        arrays["transcript"] = dataset.transcripts.astype(str)
    write_arrays(arrays, path)


def write_arrays(arrays, path):
    """Writes a dict of arrays in the kit layout; `.npz` or `.h5` by suffix.

    Both carry checksums: a `.npz` is a zip archive (CRC-32 per array) and
    every non-empty HDF5 dataset is written with the Fletcher-32 filter and
    the file's root records each array's name and CRC-32
    (`CONTENTS_ATTRIBUTE`: a renamed or lost array, or values changed through
    HDF5's own bookkeeping, are seen too), so a byte changed later is a
    named `DataError` on reading, not changed data.
    """
    path = str(path)
    if path.endswith(".npz"):
        np.savez(path, **arrays)
    else:
        with h5py.File(path, "w") as file:
            stored = {key: np.char.encode(value, "utf-8") if value.dtype.kind == "U" else value  # any language
                      for key, value in arrays.items()}
            file.attrs[CONTENTS_ATTRIBUTE] = np.bytes_(_contents(stored))  # fixed length: inline, no heap
            for key, value in stored.items():
                file.create_dataset(key, data=value, fletcher32=value.size > 0)
