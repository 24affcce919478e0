"""Runs every `backend_agnostic` test again on the JAX and PyTorch backends.

Keras fixes its backend when it is first imported, so each backend runs in a
process of its own.
"""

import importlib.util
import os
import subprocess
import sys
import tempfile

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BACKEND_MODULES = {"jax": "jax", "torch": "torch"}


RUNS = {}
"""backend → its pytest process, once started."""


def start_backend_runs():
    """Starts one pytest process per installed backend, all at once; called
    when the session's tests start (`tests/conftest.py`), so they run
    beside the TensorFlow suite (much of either is single-threaded tracing and
    start-up), and again, harmlessly, by the tests below."""
    for backend, module in BACKEND_MODULES.items():
        if backend in RUNS or importlib.util.find_spec(module) is None:
            continue
        output = tempfile.TemporaryFile("w+")  # a file, not a pipe: a full pipe would stall the run
        RUNS[backend] = subprocess.Popen(
            [sys.executable, "-m", "pytest", "-q", "-m", "backend_agnostic and not slow",
             "-p", "no:cacheprovider", "tests"],
            cwd=ROOT, env=dict(os.environ, KERAS_BACKEND=backend), stdout=output, stderr=subprocess.STDOUT,
        )
        RUNS[backend].output = output


@pytest.fixture(scope="module")
def backend_runs():
    start_backend_runs()
    yield RUNS
    for process in RUNS.values():
        if process.poll() is None:
            process.kill()


@pytest.mark.parametrize("backend", sorted(BACKEND_MODULES))
def test_backend_agnostic_suite_passes_on(backend, backend_runs):
    if backend not in backend_runs:
        pytest.fail(
            f"the {backend} backend is not installed; install the test extra: "
            "pip install -e '.[test]'"
        )
    process = backend_runs[backend]
    process.wait(timeout=1200)
    process.output.seek(0)
    printed = process.output.read()
    assert process.returncode == 0, f"{backend} backend:\n{printed[-9000:]}"
    assert " passed" in printed
