"""A seeded mutation fuzzer for the kit's readers (`load_dataset`).

Each case starts from a small valid file of one format (`.npz`, HDF5, a
`.csd` folder, an MMSA pickle), changes it one way, seeded, and loads it.
Mutations: bytes flipped, the file cut at a random offset, a span zeroed or
random bytes inserted; and, rewritten through the format's own library, an
array's dtype, shape or rows changed, lengths out of range, non-finite
values, a key removed, and sizes declared far beyond the file (a header
that claims 10¹² rows). A case ends in one of:

- `valid`: a `MultimodalDataset` that passes its own checks;
- `changed`: after a byte mutation, a dataset whose values differ from the
  seed's: silent damage. A failure for the files the kit writes (`.npz`:
  zip CRC-32; HDF5: Fletcher-32 on every dataset), expected for `.csd` and
  pickles, which carry no checksums;
- `check` or `library`: a named `DataError`, raised by a reader's own check
  or where it handles its format library's error at the read (`outcome_of`);
- anything else (another exception, a case over `TIMEOUT` seconds, its
  worker process killed, or one that allocated more than `MEMORY_BOUND`
  bytes, measured with `tracemalloc`): a failure.

Used by `tests/data/test_fuzzing.py` (a few hundred cases) and
`bench/fuzz_readers.py` (thousands, with a summary table).
"""

import io
import multiprocessing
import os
import pickle
import shutil
import time
import tracemalloc
import zipfile

import h5py
import numpy as np

from mosi_keras.data import DataError, load_dataset, make_synthetic_mosi, write_dataset

FORMATS = ("npz", "hdf5", "csd", "mmsa")
TIMEOUT = 10  # seconds a case may take
MEMORY_BOUND = 256 * 2**20  # bytes a case may allocate (the files are ~10-100 kB)
HUGE = 10**12


def small_dataset():
    return make_synthetic_mosi(n_videos=3, segments_per_video=(2, 3), max_len=6,
                               feature_dims={"text": 5, "audio": 3, "visual": 2}, seed=0)


def write_csd(path, root, videos):
    """A `.csd` file: `<root>/data/<video>/{features, intervals}` and metadata."""
    with h5py.File(path, "w") as file:
        data = file.create_group(root).create_group("data")
        for video, (features, intervals) in videos.items():
            data.create_group(video)
            data[video].create_dataset("features", data=features)
            data[video].create_dataset("intervals", data=intervals)
        file[root].create_group("metadata").create_dataset("root name", data=root)


def mmsa_content(rng, n=6):
    split = {
        "text": rng.normal(size=(n, 5, 6)).astype("float32"),
        "audio": rng.normal(size=(n, 5, 3)).astype("float32"),
        "vision": rng.normal(size=(n, 5, 4)).astype("float32"),
        "id": np.array([f"vid{i // 2}$_${i % 2}" for i in range(n)]),
        "regression_labels": rng.uniform(-3, 3, size=n).astype("float32"),
    }
    return {"train": split, "test": {k: v[:2] for k, v in split.items()}}


def csd_videos(rng):
    """(labels, words, covarep) sequences of two videos."""
    labels = {"vidA": (np.array([[1.5], [-2.0]]), np.array([[0.0, 2.0], [2.0, 5.0]])),
              "vidB": (np.array([[0.4]]), np.array([[0.0, 1.0]]))}
    words = {"vidA": (rng.normal(size=(5, 3)), np.array([[0, .5], [.5, 1.5], [1.5, 2.0], [2.0, 3.0], [3.0, 4.9]])),
             "vidB": (rng.normal(size=(1, 3)), np.array([[0.1, 0.9]]))}
    covarep = {"vidA": (rng.normal(size=(3, 4)), np.array([[0, 1.0], [1.0, 2.0], [2.5, 5.0]])),
               "vidB": (rng.normal(size=(1, 4)), np.array([[0, 1.0]]))}
    return {"CMU_MOSI_Opinion_Labels.csd": ("labels", labels), "CMU_MOSI_Words.csd": ("glove", words),
            "CMU_MOSI_COVAREP.csd": ("covarep", covarep)}


def write_seed(format, folder):
    """A small valid file (or `.csd` folder) of `format` in `folder`; its path."""
    rng = np.random.default_rng(0)
    if format in ("npz", "hdf5"):
        path = os.path.join(folder, "seed.npz" if format == "npz" else "seed.h5")
        write_dataset(small_dataset(), path)
    elif format == "csd":
        path = os.path.join(folder, "seed_csd")
        os.makedirs(path)
        for name, (root, videos) in csd_videos(rng).items():
            write_csd(os.path.join(path, name), root, videos)
    else:
        path = os.path.join(folder, "seed.pkl")
        with open(path, "wb") as file:
            pickle.dump(mmsa_content(rng), file)
    return path


# --- byte mutations (any format) --------------------------------------------

def flip_bytes(raw, rng):
    for position in rng.integers(0, len(raw), size=rng.integers(1, 9)):
        raw[position] ^= int(rng.integers(1, 256))
    return raw


def truncate(raw, rng):
    return raw[: int(rng.integers(0, len(raw)))]


def zero_span(raw, rng):
    start = int(rng.integers(0, len(raw)))
    raw[start: start + int(rng.integers(1, 256))] = bytes(min(len(raw) - start, 255))[: len(raw[start:start + 255])]
    return raw


def insert_bytes(raw, rng):
    start = int(rng.integers(0, len(raw)))
    return raw[:start] + bytearray(rng.integers(0, 256, size=int(rng.integers(1, 64)), dtype="uint8")) + raw[start:]


BYTE_MUTATIONS = {"flip": flip_bytes, "truncate": truncate, "zero": zero_span, "insert": insert_bytes}


# --- structural mutations (through each format's library) -------------------

def change_array(array, rng):
    """(kind, array) with its dtype, shape, rows or values changed."""
    choice = int(rng.integers(0, 9))
    if choice == 0:
        dtype = str(rng.choice(["complex64", "int8", "bool", "float16", "U3", "uint64"]))
        try:
            return f"dtype_{dtype}", array.astype(dtype)
        except ValueError:  # strings that are no numbers
            return "dtype_float32", np.zeros(array.shape, "float32")
    if choice == 1:
        return "extra_dim", array[..., None]
    if choice == 2:
        return "fewer_dims", array.reshape(-1) if array.ndim > 1 else array.reshape(1, -1)
    if choice == 3:
        return "rows", array[: max(len(array) - int(rng.integers(1, 3)), 0)] if array.ndim else array
    if choice == 4 and array.dtype.kind in "iuf":
        return "negative", -np.abs(array) - 1
    if choice == 5 and array.dtype.kind in "iuf":
        return "huge_values", np.full_like(array, np.iinfo("int32").max if array.dtype.kind in "iu" else 1e38)
    if choice == 6 and array.dtype.kind == "f":
        changed = array.copy()
        changed.flat[int(rng.integers(0, max(changed.size, 1)))] = rng.choice([np.nan, np.inf, -np.inf])
        return "non_finite", changed
    if choice == 7:
        return "empty", array[:0]
    return "scalar", np.asarray(array.flat[0] if array.size else 0)


def structured_npz(seed, out, rng):
    with np.load(seed) as archive:
        arrays = {key: archive[key] for key in archive.files}
    key = str(rng.choice(sorted(arrays)))
    if rng.random() < 0.15:
        del arrays[key]
        kind = "missing"
    elif rng.random() < 0.2:
        huge_npz(arrays, key, out)
        return f"huge_header:{key}"
    else:
        kind, arrays[key] = change_array(arrays[key], rng)
    np.savez(out, **arrays)
    return f"{kind}:{key}"


def huge_npz(arrays, key, out):
    """Writes a `.npz` whose member `key` declares 10¹² rows in its `.npy`
    header but holds the original bytes (the zip's own checksums are right)."""
    buffer = io.BytesIO()
    array = arrays[key]
    np.lib.format.write_array_header_1_0(
        buffer, {"descr": np.lib.format.dtype_to_descr(array.dtype), "fortran_order": False,
                 "shape": (HUGE,) + array.shape[1:]})
    with zipfile.ZipFile(out, "w") as archive:
        for name, value in arrays.items():
            if name == key:
                archive.writestr(f"{name}.npy", buffer.getvalue() + array.tobytes())
            else:
                member = io.BytesIO()
                np.lib.format.write_array(member, value, allow_pickle=False)
                archive.writestr(f"{name}.npy", member.getvalue())


def structured_hdf5(seed, out, rng):
    shutil.copyfile(seed, out)
    with h5py.File(out, "a") as file:
        key = str(rng.choice(sorted(file.keys())))
        roll = rng.random()
        if roll < 0.15:
            del file[key]
            return f"missing:{key}"
        if roll < 0.3:  # declared far beyond the file: unwritten chunks read as fill values
            shape = (HUGE,) + file[key].shape[1:]
            del file[key]
            file.create_dataset(key, shape=shape, dtype="float32", chunks=(1,) + shape[1:])
            return f"huge_declared:{key}"
        kind, value = change_array(file[key][()], rng)
        del file[key]
        file.create_dataset(key, data=value.astype("S") if value.dtype.kind == "U" else value)
        return f"{kind}:{key}"


def structured_csd(seed, out, rng):
    shutil.copytree(seed, out)
    name = str(rng.choice(sorted(os.listdir(out))))
    with h5py.File(os.path.join(out, name), "a") as file:
        root = list(file.keys())[0]
        data = file[root]["data"]
        video = str(rng.choice(sorted(data.keys())))
        field = str(rng.choice(["features", "intervals"]))
        roll = rng.random()
        if roll < 0.15:
            del data[video][field]
            return f"missing:{name}/{video}/{field}"
        if roll < 0.3:
            shape = (HUGE,) + data[video][field].shape[1:]
            del data[video][field]
            data[video].create_dataset(field, shape=shape, dtype="float64", chunks=(1,) + shape[1:])
            return f"huge_declared:{name}/{video}/{field}"
        kind, value = change_array(data[video][field][()], rng)
        del data[video][field]
        data[video].create_dataset(field, data=value.astype("S") if value.dtype.kind == "U" else value)
        return f"{kind}:{name}/{video}/{field}"


def structured_mmsa(seed, out, rng):
    with open(seed, "rb") as file:
        content = pickle.load(file)
    split = content[str(rng.choice(sorted(content)))]
    key = str(rng.choice(sorted(split)))
    roll = rng.random()
    if roll < 0.15:
        del split[key]
        kind = "missing"
    elif roll < 0.25:
        split[key] = [None, "text", 3, [1, 2], {"a": 1}][int(rng.integers(0, 5))]
        kind = "wrong_type"
    else:
        kind, split[key] = change_array(split[key], rng)
    with open(out, "wb") as file:
        pickle.dump([content, [content], content["train"]][int(rng.integers(0, 3))] if rng.random() < 0.1 else content,
                    file)
    return f"{kind}:{key}"


STRUCTURED = {"npz": structured_npz, "hdf5": structured_hdf5, "csd": structured_csd, "mmsa": structured_mmsa}


def mutate(format, seed, folder, case):
    """Writes mutated case `case` of `format`'s seed into `folder`; (kind, path)."""
    rng = np.random.default_rng([case, FORMATS.index(format)])
    out = os.path.join(folder, f"case{case}{os.path.splitext(seed)[1]}")
    if rng.random() < 0.5:
        return STRUCTURED[format](seed, out, rng), out
    name = str(rng.choice(sorted(BYTE_MUTATIONS)))
    if format == "csd":
        shutil.copytree(seed, out)
        target = os.path.join(out, str(rng.choice(sorted(os.listdir(out)))))
    else:
        shutil.copyfile(seed, out)
        target = out
    with open(target, "rb") as file:
        raw = bytearray(file.read())
    with open(target, "wb") as file:
        file.write(BYTE_MUTATIONS[name](raw, rng))
    return name, out


def same_data(a, b):
    """Whether two datasets hold the same values (NaN equal to NaN)."""
    if a.modality_names != b.modality_names:
        return False
    pairs = [(a.sentiment, b.sentiment), (a.ids, b.ids), (a.video_ids, b.video_ids)]
    pairs += [(a.modalities[m], b.modalities[m]) for m in a.modality_names]
    pairs += [(a.lengths[m], b.lengths[m]) for m in a.modality_names]
    return all(x.shape == y.shape and np.array_equal(x, y, equal_nan=x.dtype.kind == "f") for x, y in pairs)


def outcome_of(error):
    """'library' for a `DataError` raised where a reader handles its format
    library's own error at the call that read the bytes (h5py, zipfile,
    NumPy's `.npy` header, the unpickler); 'check' for one a reader's own check
    raised. There is no third kind: `load_dataset` catches nothing, so a
    reader's bug is 'other'."""
    context = error.__context__
    return "library" if context is not None and not isinstance(context, DataError) else "check"


def run_case(path, format, original=None):
    """Loads `path`; (outcome, detail, seconds, peak bytes): outcome
    'valid', 'changed' (the values differ from `original`, when given),
    'check' or 'library' (a named `DataError`, see `outcome_of`) or 'other'."""
    tracemalloc.start()
    start = time.perf_counter()
    try:
        dataset = load_dataset(path, format=format)
        outcome, detail = "valid", f"{len(dataset)} segments"
        if original is not None and not same_data(dataset, original):
            outcome = "changed"
    except DataError as error:
        outcome, detail = outcome_of(error), str(error)
    except Exception as error:  # what the fuzzer is looking for
        outcome, detail = "other", f"{type(error).__name__}: {error}"
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    if peak > MEMORY_BOUND:
        outcome, detail = "other", f"allocated {peak / 2**20:.0f} MiB (bound {MEMORY_BOUND / 2**20:.0f} MiB); {detail}"
    return outcome, detail, time.perf_counter() - start, peak


def _worker(connection, format, seed, folder):
    """Runs the cases it is sent, one at a time, answering each."""
    original = load_dataset(seed, format=format)
    while True:
        case = connection.recv()
        if case is None:
            return
        kind, path = mutate(format, seed, folder, case)
        connection.send((case, kind, *run_case(path, format, original if kind in BYTE_MUTATIONS else None)))
        (shutil.rmtree if os.path.isdir(path) else os.remove)(path)


def fuzz(format, cases, folder, first=0):
    """Runs `cases` seeded cases of `format` in `folder`; a list of
    (case, mutation, outcome, detail, seconds, peak bytes).

    Cases run in a forked worker process: one that takes over `TIMEOUT`
    seconds (a hang inside a C library, where no Python signal reaches) is
    killed and recorded as 'other', and a fresh worker goes on."""
    seed = write_seed(format, folder)
    context = multiprocessing.get_context("fork")
    results, worker = [], None
    for case in range(first, first + cases):
        if worker is None:
            parent, child = context.Pipe()
            worker = context.Process(target=_worker, args=(child, format, seed, folder), daemon=True)
            worker.start()
        parent.send(case)
        if parent.poll(TIMEOUT):
            results.append(parent.recv())
            continue
        worker.kill()
        worker.join()
        worker = None
        results.append((case, "unknown", "other", f"hang: over {TIMEOUT} s", float(TIMEOUT), 0))
        for leftover in os.listdir(folder):  # the killed case's file
            if leftover.startswith("case"):
                path = os.path.join(folder, leftover)
                (shutil.rmtree if os.path.isdir(path) else os.remove)(path)
    if worker is not None:
        parent.send(None)
        worker.join()
    return results
