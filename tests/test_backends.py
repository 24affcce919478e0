"""Runs the `backend_agnostic` tests again on the JAX and PyTorch backends.

Keras fixes its backend when it is first imported, so each backend runs in a
process of its own. Two scopes: the kit (`tests/layers`, `tests/losses`,
`tests/test_metrics.py`: every layer and loss on every backend, in the
default suite) and the models built from it (`tests/applications`,
`tests/data`: `-m slow`).
"""

import importlib.util
import os
import subprocess
import sys
import tempfile

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BACKEND_MODULES = {"jax": "jax", "torch": "torch"}
SCOPES = {"kit": ["tests/layers", "tests/losses", "tests/test_metrics.py", "tests/test_optimizers.py"],
          "models": ["tests/applications", "tests/data"]}


RUNS = {}
"""(backend, scope) → its pytest process, once started."""


def start_backend_runs(wanted):
    """Starts one pytest process per (backend, scope) pair in `wanted` whose
    backend is installed, all at once; called when the session's tests start
    (`tests/conftest.py`) with the pairs selected, so they run beside the
    TensorFlow suite, and again, harmlessly, by the tests below."""
    for backend, scope in sorted(wanted):
        if (backend, scope) not in RUNS and importlib.util.find_spec(BACKEND_MODULES[backend]) is not None:
            output = tempfile.TemporaryFile("w+")  # a file, not a pipe: a full pipe would stall the run
            RUNS[backend, scope] = subprocess.Popen(
                [sys.executable, "-m", "pytest", "-q", "-m", "backend_agnostic and not slow",
                 "-p", "no:cacheprovider", *SCOPES[scope]],
                cwd=ROOT, env=dict(os.environ, KERAS_BACKEND=backend), stdout=output, stderr=subprocess.STDOUT,
            )
            RUNS[backend, scope].output = output


def selected_runs(items):
    """The (backend, scope) pairs of the selected tests of this module."""
    return {(item.callspec.params["backend"], item.callspec.params["scope"]) for item in items
            if item.nodeid.startswith("tests/test_backends.py") and hasattr(item, "callspec")}


@pytest.fixture(scope="module")
def backend_runs(request):
    start_backend_runs(selected_runs(request.session.items))
    yield RUNS
    for process in RUNS.values():
        if process.poll() is None:
            process.kill()


@pytest.mark.parametrize("scope", ["kit", pytest.param("models", marks=pytest.mark.slow)])
@pytest.mark.parametrize("backend", sorted(BACKEND_MODULES))
def test_backend_agnostic_suite_passes_on(backend, scope, backend_runs):
    if importlib.util.find_spec(BACKEND_MODULES[backend]) is None:
        pytest.fail(
            f"the {backend} backend is not installed; install the test extra: "
            "pip install -e '.[test]'"
        )
    process = backend_runs[backend, scope]
    process.wait(timeout=1800)
    process.output.seek(0)
    printed = process.output.read()
    assert process.returncode == 0, f"{backend} backend, {scope}:\n{printed[-9000:]}"
    assert " passed" in printed
