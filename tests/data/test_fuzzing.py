"""The readers under a seeded mutation fuzzer (tests/fuzzing.py): every case
a valid dataset or a named `DataError`, within time and memory; the kit's own
files never load with changed values."""

import collections

import pytest

from tests.fuzzing import FORMATS, fuzz

CASES = 120  # per format; bench/fuzz_readers.py runs thousands


@pytest.mark.parametrize("format", FORMATS)
def test_every_fuzzed_file_loads_or_is_a_named_error(format, tmp_path):
    results = fuzz(format, CASES, str(tmp_path))
    failures = [r for r in results if r[2] == "other" or (r[2] == "changed" and format in ("npz", "hdf5"))]
    assert not failures, "\n".join(f"case {c} ({kind}): {outcome}: {detail}" for c, kind, outcome, detail, *_ in
                                   failures[:10])
    outcomes = collections.Counter(r[2] for r in results)
    assert outcomes["check"] + outcomes["library"] > CASES // 3 and outcomes["valid"] > 0  # they reach the readers
