"""Runs the `backend_agnostic` tests again on the JAX and PyTorch backends.

Keras fixes its backend when it is first imported, so each backend runs in a
process of its own. Two scopes: the kit (`tests/layers`, `tests/losses`,
`tests/test_metrics.py`: every layer and loss on every backend, in the
default suite) and the models built from it (`tests/applications`,
`tests/data`: `-m slow`).
"""

import importlib.util
import os
import signal
import subprocess
import sys
import time

import pytest

from tests.session_files import session_folder

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BACKEND_MODULES = {"jax": "jax", "torch": "torch"}
SCOPES = {"kit": ["tests/layers", "tests/losses", "tests/test_metrics.py", "tests/test_optimizers.py"],
          "models": ["tests/applications", "tests/data"]}


RUNS = {}
"""(backend, scope) → the process this pytest process started for it."""


def run_folder():
    """Where the backend runs of this test session leave their output and
    exit status: the session's folder (`session_folder`), shared by its
    xdist workers, so that whichever worker runs a test of this module
    reads a run another worker may have started."""
    return str(session_folder())


def start_backend_runs(wanted):
    """Starts one pytest process per (backend, scope) pair in `wanted` whose
    backend is installed, all at once; called when the session's tests start
    (`tests/conftest.py`, in every xdist worker) with the pairs selected, so
    they run beside the TensorFlow suite, and again, harmlessly, by the
    tests below. The first process to create `<pair>.started` starts a pair;
    its output goes to `<pair>.log` and its exit status to `<pair>.rc`."""
    for backend, scope in sorted(wanted):
        if importlib.util.find_spec(BACKEND_MODULES[backend]) is None:
            continue
        stem = os.path.join(run_folder(), f"{backend}-{scope}")
        try:
            os.close(os.open(f"{stem}.started", os.O_CREAT | os.O_EXCL))
        except FileExistsError:  # started by this process or another worker
            continue
        command = [sys.executable, "-m", "pytest", "-q", "-n", "0", "-m", "backend_agnostic and not slow",
                   "-p", "no:cacheprovider", *SCOPES[scope]]
        RUNS[backend, scope] = subprocess.Popen(
            ["sh", "-c", '"$@" > "$0.log" 2>&1; echo $? > "$0.rc"', stem, *command],
            cwd=ROOT, start_new_session=True, env=backend_environment(backend),
        )


FAST_XLA_FLAGS = "--xla_backend_optimization_level=0 --xla_llvm_disable_expensive_passes=true"
"""XLA's cheapest compiles: these runs check what the layers compute, not
how fast the compiled code is, and compiling every jitted step is most of
the JAX run's time (the kit's: 148 s → 66 s on a 2-core CPU)."""


def backend_environment(backend):
    """This process's environment for a run on `backend`: without xdist's
    variables (the run is a session of its own), JAX compiling with
    `FAST_XLA_FLAGS` added to any `XLA_FLAGS` already set."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_XDIST")}
    env["KERAS_BACKEND"] = backend
    if backend == "jax":
        env["XLA_FLAGS"] = f"{env.get('XLA_FLAGS', '')} {FAST_XLA_FLAGS}".strip()
    return env


def stop_backend_runs():
    """Kills the runs this process started that are still going (a session
    cut short), unless it is one xdist worker of several: another worker may
    still be waiting for them (they end on their own)."""
    if os.environ.get("PYTEST_XDIST_WORKER"):
        return
    for process in RUNS.values():
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)


def finished_run(backend, scope, timeout=1800):
    """`(exit status, output)` of a pair's run, once it has ended."""
    stem = os.path.join(run_folder(), f"{backend}-{scope}")
    deadline = time.monotonic() + timeout
    while not os.path.exists(f"{stem}.rc") or not open(f"{stem}.rc").read().strip():
        assert time.monotonic() < deadline, f"the {backend} run ({scope}) did not end in {timeout} s"
        time.sleep(1)
    with open(f"{stem}.rc") as code, open(f"{stem}.log") as output:
        return int(code.read()), output.read()


def selected_runs(items):
    """The (backend, scope) pairs of the selected tests of this module."""
    return {(item.callspec.params["backend"], item.callspec.params["scope"]) for item in items
            if item.nodeid.startswith("tests/test_backends.py") and hasattr(item, "callspec")}


@pytest.fixture(scope="module")
def backend_runs(request):
    start_backend_runs(selected_runs(request.session.items))


@pytest.mark.parametrize("scope", ["kit", pytest.param("models", marks=pytest.mark.slow)])
@pytest.mark.parametrize("backend", sorted(BACKEND_MODULES))
def test_backend_agnostic_suite_passes_on(backend, scope, backend_runs):
    if importlib.util.find_spec(BACKEND_MODULES[backend]) is None:
        pytest.fail(
            f"the {backend} backend is not installed; install the test extra: "
            "pip install -e '.[test]'"
        )
    code, printed = finished_run(backend, scope)
    assert code == 0, f"{backend} backend, {scope}:\n{printed[-9000:]}"
    assert " passed" in printed


def test_a_backend_run_is_a_session_of_its_own_and_jax_compiles_cheaply(monkeypatch):
    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw1")
    monkeypatch.setenv("XLA_FLAGS", "--xla_force_host_platform_device_count=2")
    env = backend_environment("jax")
    assert env["KERAS_BACKEND"] == "jax" and not any(name.startswith("PYTEST_XDIST") for name in env)
    assert env["XLA_FLAGS"].split() == ["--xla_force_host_platform_device_count=2", *FAST_XLA_FLAGS.split()]
    assert backend_environment("torch")["XLA_FLAGS"] == "--xla_force_host_platform_device_count=2"
