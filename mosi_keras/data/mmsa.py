"""MMSA / MulT pickles, loaded without running code.

Layout: `{"train" | "valid" | "test": {"text", "audio", "vision", "id",
"regression_labels" or "labels", optional "<modality>_lengths"}}`.
"""

import io
import pickle
import pickletools

import numpy as np

from mosi_keras.data.dataset import DataError, from_arrays

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


def read_mmsa_pickle(path):
    try:
        with open(path, "rb") as file:
            raw = file.read()
        for _ in pickletools.genops(raw):  # every opcode whole: a damaged length field is seen here, before
            pass  # the unpickler would allocate the gigabytes it declares
        content = RestrictedUnpickler(io.BytesIO(raw)).load()
    except DataError as error:
        raise DataError(f"{path}: {error}") from None
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, SystemError, RuntimeError, MemoryError,
            AttributeError, KeyError, IndexError, OverflowError, UnicodeDecodeError) as error:
        raise DataError(f"{path}: not a readable pickle ({type(error).__name__}: {error}).") from None
    if not isinstance(content, dict) or not any(s in content for s in ("train", "valid", "test")):
        raise DataError(f"{path}: expected a dict with 'train', 'valid' and/or 'test' splits.")
    parts = {m: [] for m in MODALITY_KEYS}
    lengths = {m: [] for m in MODALITY_KEYS}
    sentiment, ids, folds = [], [], []
    for fold in ("train", "valid", "test"):
        if fold not in content:
            continue
        split = content[fold]
        label_key = "regression_labels" if "regression_labels" in split else "labels"
        if label_key not in split:
            raise DataError(f"{path}: split '{fold}' has no 'regression_labels' or 'labels'.")
        labels = _real(split[label_key], path, fold, label_key).reshape(-1)
        for key in MODALITY_KEYS:
            if key not in split:
                raise DataError(f"{path}: split '{fold}' has no '{key}' array.")
            array = _real(split[key], path, fold, key)
            parts[key].append(array if array.ndim == 3 else array[:, None, :])
            given = split.get(f"{key}_lengths")
            lengths[key].append(
                np.asarray(given, "int64") if given is not None
                else np.full(len(array), parts[key][-1].shape[1], "int64")
            )
        split_ids = [str(v) for v in np.asarray(split.get("id", np.arange(len(labels)))).reshape(len(labels), -1)[:, 0]]
        ids.extend(split_ids)
        sentiment.append(labels)
        folds.extend([fold] * len(labels))
    ids = np.array(ids)
    video_ids = np.array([i.split("$_$")[0] if "$_$" in i else i.rsplit("_", 1)[0] for i in ids])
    return from_arrays(
        {MODALITY_KEYS[k]: np.concatenate(v) for k, v in parts.items()},
        np.concatenate(sentiment),
        lengths={MODALITY_KEYS[k]: np.concatenate(v) for k, v in lengths.items()},
        ids=ids,
        video_ids=video_ids,
        folds=np.array(folds),
        source=str(path),
    )
