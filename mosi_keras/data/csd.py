"""CMU Multimodal SDK computational sequences (`.csd`), read with h5py alone.

A `.csd` file is HDF5 whose root group (or its single top-level group, as
the SDK writes it) holds `data/<video_id>/features` `(n, d)`,
`data/<video_id>/intervals` `(n, 2)` (start and end, seconds) and
`metadata/`. A labels `.csd` has one row per opinion segment: its sentiment
and interval. A segment's sequence in another modality is the feature rows
whose intervals fall inside the segment's interval, which is what the SDK's
alignment to the labels produces.
"""

import glob
import os

import h5py
import numpy as np

from mosi_keras.data.dataset import DataError, from_arrays
from mosi_keras.data.hdf5_arrays import read_h5_array

MODALITY_HINTS = {
    "text": ("glove", "word", "text", "bert", "language"),
    "audio": ("covarep", "opensmile", "audio", "acoustic"),
    "visual": ("facet", "openface", "visual", "vision", "video"),
}


def modality_name(stem):
    lowered = stem.lower()
    for name, hints in MODALITY_HINTS.items():
        if any(hint in lowered for hint in hints):
            return name
    return stem


def _data_group(file, path):
    if "data" in file:
        return file["data"]
    groups = [key for key in file if isinstance(file[key], h5py.Group) and "data" in file[key]]
    if len(groups) != 1:
        raise DataError(f"{path}: no 'data' group found (top-level keys: {list(file)}).")
    return file[groups[0]]["data"]


def read_sequence(path):
    """dict video id → (features `(n, d)`, intervals `(n, 2)`) of one `.csd`."""
    try:
        with h5py.File(path, "r") as file:
            data = _data_group(file, path)
            out = {}
            for video in data:
                group = data[video]
                if not isinstance(group, h5py.Group):
                    raise DataError(f"{path}: 'data/{video}' is not a group of 'features' and 'intervals'.")
                if "features" not in group or "intervals" not in group:
                    raise DataError(f"{path}: video '{video}' lacks 'features' or 'intervals'.")
                features = read_h5_array(group["features"], path, f"{video}/features")
                intervals = read_h5_array(group["intervals"], path, f"{video}/intervals")
                if features.dtype.kind not in "iuf" or intervals.dtype.kind not in "iuf":
                    raise DataError(
                        f"{path}: video '{video}' has features of {features.dtype} and intervals of "
                        f"{intervals.dtype}; expected real numbers."
                    )
                features, intervals = features.astype("float32"), intervals.astype("float64")
                if features.ndim != 2 or intervals.shape != (len(features), 2):
                    raise DataError(
                        f"{path}: video '{video}' has features {features.shape} and "
                        f"intervals {intervals.shape}; expected (n, d) and (n, 2)."
                    )
                out[video] = (features, intervals)
            return out
    except (OSError, RuntimeError, KeyError) as error:  # a damaged file's structure
        raise DataError(f"{path}: not a readable HDF5/.csd file ({error}).") from None


def read_csd_folder(folder, labels=None, max_len=None):
    """Aligns every `.csd` in `folder` to the opinion segments of the labels file.

    Args:
        folder: directory of `.csd` files.
        labels: file name of the labels sequence; by default the one file
            whose name contains "label".
        max_len: keep at most this many rows per segment (the first ones);
            `None` keeps the longest segment's count.
    """
    paths = sorted(glob.glob(os.path.join(folder, "*.csd")))
    if not paths:
        raise DataError(f"{folder}: no .csd files in this folder.")
    if labels is None:
        candidates = [p for p in paths if "label" in os.path.basename(p).lower()]
        if len(candidates) != 1:
            raise DataError(
                f"{folder}: cannot tell the labels file among {[os.path.basename(p) for p in paths]}; "
                "name it with labels=."
            )
        labels_path = candidates[0]
    else:
        labels_path = os.path.join(folder, labels)
    label_data = read_sequence(labels_path)
    segments = []  # (video, index, start, end, sentiment)
    for video in sorted(label_data):
        values, intervals = label_data[video]
        for index, (value, (start, end)) in enumerate(zip(values[:, 0], intervals)):
            segments.append((video, index, start, end, float(value)))
    if not segments:
        raise DataError(f"{labels_path}: no labelled segment.")
    modalities, lengths = {}, {}
    for path in paths:
        if path == labels_path:
            continue
        name = modality_name(os.path.splitext(os.path.basename(path))[0])
        sequence = read_sequence(path)
        rows = []
        for video, _, start, end, _ in segments:
            if video not in sequence:
                raise DataError(f"{path}: video '{video}' of the labels is missing.")
            features, intervals = sequence[video]
            inside = (intervals[:, 0] >= start) & (intervals[:, 1] <= end)
            rows.append(features[inside])
        width = max(len(r) for r in rows) if max_len is None else max_len
        width = max(width, 1)
        dim = rows[0].shape[1]
        array = np.zeros((len(rows), width, dim), "float32")
        length = np.zeros(len(rows), "int64")
        for i, r in enumerate(rows):
            r = r[:width]
            array[i, : len(r)] = r
            length[i] = len(r)
        modalities[name] = array
        lengths[name] = length
    return from_arrays(
        modalities,
        [s[4] for s in segments],
        lengths=lengths,
        ids=[f"{s[0]}[{s[1]}]" for s in segments],
        video_ids=[s[0] for s in segments],
        source=str(folder),
    )
