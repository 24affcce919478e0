"""MMSA / MulT pickles, loaded without running code.

Layout: `{"train" | "valid" | "test": {"text", "audio", "vision", "id",
"regression_labels" or "labels", optional "<modality>_lengths"}}`.
"""

import io
import pickle
import pickletools

import numpy as np

from mosi_keras.data.dataset import DataError, concatenate_padded, from_arrays

MODALITY_KEYS = {"text": "text", "audio": "audio", "vision": "visual"}

# What a pickle of NumPy arrays and builtin containers needs, and nothing else.
ALLOWED_GLOBALS = {
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "scalar"),
    ("numpy.core.numeric", "_frombuffer"),
    ("numpy._core.numeric", "_frombuffer"),
    ("collections", "OrderedDict"),
    ("builtins", "dict"),
    ("builtins", "list"),
    ("builtins", "tuple"),
    ("builtins", "set"),
    ("builtins", "frozenset"),
    ("builtins", "bytearray"),
    ("builtins", "slice"),
    ("builtins", "complex"),
}


class RestrictedUnpickler(pickle.Unpickler):
    """Admits NumPy arrays, dtypes and builtin containers only."""

    def find_class(self, module, name):
        if (module, name) in ALLOWED_GLOBALS:
            return super().find_class(module, name)
        raise DataError(
            f"the pickle refers to '{module}.{name}', which is not plain data (NumPy "
            "arrays, dtypes, builtin containers); it was not loaded because "
            "unpickling it could run arbitrary code."
        )


def _real(value, path, fold, key):
    """`value` as float32, or a `DataError` when it is not an array of real numbers."""
    array = np.asarray(value)
    if array.dtype.kind not in "iufb":
        raise DataError(f"{path}: split '{fold}' '{key}' holds {array.dtype} values; expected real numbers.")
    return array.astype("float32")


def _unpickle(path):
    """The pickle's content, loaded without running code; a `DataError` for
    the errors a damaged or hostile pickle causes in the unpickler."""
    try:
        with open(path, "rb") as file:
            raw = file.read()
        for _ in pickletools.genops(raw):  # every opcode whole: a damaged length field is seen here, before
            pass  # the unpickler would allocate the gigabytes it declares
        return RestrictedUnpickler(io.BytesIO(raw)).load()
    except DataError as error:
        raise DataError(f"{path}: {error}") from None
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, SystemError, RuntimeError, MemoryError,
            AttributeError, KeyError, IndexError, OverflowError, UnicodeDecodeError) as error:
        # what the unpickler raises on damaged opcodes or arguments; nothing after `load` is covered
        raise DataError(f"{path}: not a readable pickle ({type(error).__name__}: {error}).") from None


def _ids(value, path, fold, n):
    """`n` segment ids as strings (the first column of a 2-D `id`)."""
    array = np.asarray(value)
    if array.dtype.kind not in "USOiu" or array.ndim not in (1, 2) or len(array) != n or array.size < n:
        raise DataError(f"{path}: split '{fold}' 'id' has shape {array.shape} of {array.dtype}; "
                        f"expected {n} ids, one per label.")
    array = array.reshape(n, -1)[:, 0]
    if array.dtype.kind == "U":
        codes = np.ascontiguousarray(array.astype(array.dtype.newbyteorder("="))).view("uint32")
        if codes.size and (codes.max() > 0x10FFFF or ((codes >= 0xD800) & (codes <= 0xDFFF)).any()):
            raise DataError(f"{path}: split '{fold}' 'id' holds characters that are not Unicode; the pickle is "
                            "damaged.")
    if array.dtype.kind == "O" and not all(isinstance(v, (str, bytes, int)) for v in array):
        raise DataError(f"{path}: split '{fold}' 'id' holds {sorted({type(v).__name__ for v in array})}; "
                        "expected strings.")
    return [v.decode("utf-8", errors="replace") if isinstance(v, bytes) else str(v) for v in array.tolist()]


def _read_split(split, path, fold):
    """(labels `(n,)`, {modality: (array `(n, T, d)`, lengths `(n,)`)}, ids) of one split."""
    if not isinstance(split, dict):
        raise DataError(f"{path}: split '{fold}' is a {type(split).__name__}; expected a dict of arrays.")
    label_key = "regression_labels" if "regression_labels" in split else "labels"
    if label_key not in split:
        raise DataError(f"{path}: split '{fold}' has no 'regression_labels' or 'labels'.")
    labels = _real(split[label_key], path, fold, label_key)
    if labels.ndim not in (1, 2) or (labels.ndim == 2 and labels.shape[1] != 1):
        raise DataError(f"{path}: split '{fold}' '{label_key}' has shape {labels.shape}; expected (n,) or (n, 1).")
    labels = labels.reshape(-1)
    n = len(labels)
    arrays = {}
    for key in MODALITY_KEYS:
        if key not in split:
            raise DataError(f"{path}: split '{fold}' has no '{key}' array.")
        array = _real(split[key], path, fold, key)
        if array.ndim not in (2, 3) or len(array) != n:
            raise DataError(f"{path}: split '{fold}' '{key}' has shape {array.shape}; expected ({n}, T, d) or "
                            f"({n}, d), one row per label.")
        array = array if array.ndim == 3 else array[:, None, :]
        given = split.get(f"{key}_lengths")
        lengths = np.full(n, array.shape[1], "int64") if given is None else np.asarray(given)
        if lengths.dtype.kind not in "iu" or lengths.shape != (n,):
            raise DataError(f"{path}: split '{fold}' '{key}_lengths' has shape {lengths.shape} of {lengths.dtype};"
                            f" expected {n} integers.")
        arrays[MODALITY_KEYS[key]] = (array, lengths.astype("int64"))
    ids = _ids(split["id"], path, fold, n) if "id" in split else [str(i) for i in range(n)]
    return labels, arrays, ids


def read_mmsa_pickle(path):
    content = _unpickle(path)
    if not isinstance(content, dict) or not any(s in content for s in ("train", "valid", "test")):
        raise DataError(f"{path}: expected a dict with 'train', 'valid' and/or 'test' splits.")
    splits = {fold: _read_split(content[fold], path, fold) for fold in ("train", "valid", "test") if fold in content}
    for name in MODALITY_KEYS.values():
        shapes = {fold: split[1][name][0].shape[2] for fold, split in splits.items()}
        if len(set(shapes.values())) > 1:
            raise DataError(f"{path}: '{name}' has {shapes} features per step in the splits; expected one width.")
    ids = np.array([i for split in splits.values() for i in split[2]])
    video_ids = np.array([i.split("$_$")[0] if "$_$" in i else i.rsplit("_", 1)[0] for i in ids])
    return from_arrays(
        {name: concatenate_padded([split[1][name][0] for split in splits.values()]) for name in MODALITY_KEYS.values()},
        np.concatenate([split[0] for split in splits.values()]),
        lengths={name: np.concatenate([split[1][name][1] for split in splits.values()])
                 for name in MODALITY_KEYS.values()},
        ids=ids,
        video_ids=video_ids,
        folds=np.array([fold for fold, split in splits.items() for _ in split[0]]),
        source=str(path),
    )
