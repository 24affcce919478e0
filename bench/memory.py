"""Peak memory of streaming from HDF5 as the file grows (1×, 10×, 100× the
shared CMU-MOSI data: 1,447 rows of text 100 / audio 73 / visual 100).

For each size, in a fresh process: one streaming pass fits the preprocessing
(`Preprocessor.fit_batches(iter_hdf5_chunks(...))`), then one epoch of
`HDF5Sequence` batches is read and transformed, as `fit` would. The same is
measured for the in-memory path (`load_dataset` + `Preprocessor.fit`) for
contrast. Peak resident memory comes from `resource.getrusage`.

Run: python bench/memory.py [--sizes 1 10 100] [--dir /tmp/mosi_memory]
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import time

import numpy as np

DIMS = {"text": 100, "audio": 73, "visual": 100}
BASE_ROWS = 1447


def write_file(path, rows, chunk=20000, seed=0):
    import h5py

    rng = np.random.default_rng(seed)
    with h5py.File(path, "w") as file:
        for name, dim in DIMS.items():
            file.create_dataset(name, shape=(rows, dim), dtype="float32")
        file.create_dataset("sentiment", shape=(rows,), dtype="float32")
        file.create_dataset("video_id", data=np.array([f"v{i // 20}" for i in range(rows)], dtype="S"))
        for start in range(0, rows, chunk):
            stop = min(start + chunk, rows)
            for name, dim in DIMS.items():
                file[name][start:stop] = rng.normal(size=(stop - start, dim)).astype("float32")
            file["sentiment"][start:stop] = rng.uniform(-3, 3, stop - start).astype("float32")


def peak_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def worker(path, mode):
    from mosi_keras.data import HDF5Sequence, Preprocessor, iter_hdf5_chunks, load_dataset

    before = peak_mib()
    start = time.perf_counter()
    if mode == "streaming":
        prep = Preprocessor(1).fit_batches(iter_hdf5_chunks(path, chunk_rows=4096))
        sequence = HDF5Sequence(path, prep, batch_size=512)
        rows = sum(len(sequence[i][1]) for i in range(len(sequence)))
    else:
        data = load_dataset(path)
        inputs = Preprocessor(1).fit(data).transform(data)
        rows = len(inputs["text"])
    return {"rows": rows, "peak_mib": peak_mib(), "after_imports_mib": before,
            "seconds": time.perf_counter() - start}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 10, 100])
    parser.add_argument("--dir", default="/tmp/mosi_memory")
    parser.add_argument("--worker", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(*args.worker)))
        return
    os.makedirs(args.dir, exist_ok=True)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    print(f"{'size':>5} {'rows':>9} {'file MiB':>9} {'mode':>10} {'peak MiB':>9} {'- imports':>10} {'seconds':>8}")
    for size in args.sizes:
        path = os.path.join(args.dir, f"mosi_x{size}.h5")
        if not os.path.exists(path):
            write_file(path, BASE_ROWS * size)
        for mode in ("streaming", "in-memory"):
            env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=root)
            done = subprocess.run([sys.executable, __file__, "--worker", path, mode],
                                  env=env, capture_output=True, text=True, check=True)
            r = json.loads(done.stdout.strip().splitlines()[-1])
            print(f"{size:>4}× {r['rows']:>9,} {os.path.getsize(path) / 2**20:>9.1f} {mode:>10} "
                  f"{r['peak_mib']:>9.0f} {r['peak_mib'] - r['after_imports_mib']:>10.0f} {r['seconds']:>8.1f}",
                  flush=True)


if __name__ == "__main__":
    main()
