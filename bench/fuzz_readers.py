"""Fuzzes the kit's readers: thousands of seeded mutations per format.

Prints, per format, how many cases loaded as a valid dataset, ended in a
named `DataError` raised by a reader's own check or where it handles its
format library's error at the read (h5py, zipfile, the unpickler; no
catch-all is left around a reader, so anything else is "other"), loaded with values changed by a byte mutation (silent
damage; expected only for `.csd` and pickles, which carry no checksums),
or ended otherwise (any other exception, a hang over 10 s, more than 256
MiB allocated), with the slowest case and the largest allocation. Each
failure is listed with its case number: `tests.fuzzing.mutate(format,
seed, folder, case)` rebuilds it.

    python bench/fuzz_readers.py --cases 2000
"""

import argparse
import collections
import os
import sys
import tempfile
import time
import warnings

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from tests.fuzzing import FORMATS, MEMORY_BOUND, TIMEOUT, fuzz  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=2000, help="cases per format (default 2000)")
    parser.add_argument("--formats", nargs="+", default=list(FORMATS), choices=FORMATS)
    args = parser.parse_args()
    warnings.simplefilter("ignore")  # the preprocessing's and NumPy's warnings on odd values
    print(f"{args.cases} cases per format; bounds: {TIMEOUT} s and {MEMORY_BOUND // 2**20} MiB a case")
    print(f"{'format':<7} {'valid':>6} {'check':>6} {'library':>8} {'changed':>8} {'other':>6} {'slowest s':>10} "
          f"{'peak MiB':>9} {'seconds':>8}")
    failures = []
    for format in args.formats:
        start = time.perf_counter()
        with tempfile.TemporaryDirectory() as folder:
            results = fuzz(format, args.cases, folder)
        counts = collections.Counter(r[2] for r in results)
        print(f"{format:<7} {counts['valid']:>6} {counts['check']:>6} {counts['library']:>8} {counts['changed']:>8} "
              f"{counts['other']:>6} {max(r[4] for r in results):>10.3f} "
              f"{max(r[5] for r in results) / 2**20:>9.2f} {time.perf_counter() - start:>8.1f}", flush=True)
        failures += [(format, *r) for r in results
                     if r[2] == "other" or (r[2] == "changed" and format in ("npz", "hdf5"))]
    for format, case, kind, outcome, detail, *_ in failures:
        print(f"FAIL {format} case {case} ({kind}): {outcome}: {detail[:300]}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
