"""`load_dataset`: one entry point for every supported format."""

import os

from mosi_keras.data.csd import read_csd_folder
from mosi_keras.data.dataset import DataError
from mosi_keras.data.kit_format import read_hdf5, read_npz
from mosi_keras.data.mmsa import read_mmsa_pickle

READERS = {"npz": read_npz, "hdf5": read_hdf5, "csd": read_csd_folder, "mmsa": read_mmsa_pickle}
SUFFIXES = {".npz": "npz", ".h5": "hdf5", ".hdf5": "hdf5", ".hdf": "hdf5", ".pkl": "mmsa", ".pickle": "mmsa"}


def detect_format(path):
    """Names the format of `path` from its kind, suffix or first bytes."""
    if os.path.isdir(path):
        return "csd"
    suffix = os.path.splitext(path)[1].lower()
    if suffix in SUFFIXES:
        return SUFFIXES[suffix]
    with open(path, "rb") as file:
        head = file.read(8)
    if head.startswith(b"\x89HDF"):
        return "hdf5"
    if head.startswith(b"PK"):
        return "npz"
    if head[:1] == b"\x80":
        return "mmsa"
    raise DataError(
        f"{path}: unknown format (suffix '{suffix}'); name one of {sorted(READERS)} with format=."
    )


def load_dataset(path, format=None, modalities=None, require_sentiment=True):
    """Loads a multimodal sentiment dataset.

    Args:
        path: a `.npz` or HDF5 file in the kit layout, a folder of CMU
            Multimodal SDK `.csd` files, or an MMSA/MulT pickle.
        format: `"npz"`, `"hdf5"`, `"csd"` or `"mmsa"`; detected when `None`.
        modalities: optional list of modality names to keep (an absent one
            is an error).
        require_sentiment: `False` accepts a kit-layout file without a
            `sentiment` array (segments to predict on: `labelled=False`).

    Returns:
        A `MultimodalDataset`.

    Raises:
        FileNotFoundError: `path` does not exist.
        DataError: the content is not usable; the message names the file and
            the key, modality or value at fault.
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"{path}: no such file or folder.")
    format = format or detect_format(path)
    if format not in READERS:
        raise DataError(f"{path}: unknown format '{format}'; use one of {sorted(READERS)}.")
    if format in ("npz", "hdf5"):
        dataset = READERS[format](path, require_sentiment=require_sentiment)
    else:
        dataset = READERS[format](path)
    if modalities is not None:
        dataset = dataset.select_modalities(list(modalities))
    return dataset
