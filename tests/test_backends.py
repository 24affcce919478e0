"""Runs every `backend_agnostic` test again on the JAX and PyTorch backends.

Keras fixes its backend when it is first imported, so each backend runs in a
process of its own.
"""

import importlib.util
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BACKEND_MODULES = {"jax": "jax", "torch": "torch"}


@pytest.mark.parametrize("backend", sorted(BACKEND_MODULES))
def test_backend_agnostic_suite_passes_on(backend):
    if importlib.util.find_spec(BACKEND_MODULES[backend]) is None:
        pytest.fail(
            f"the {backend} backend is not installed; install the test extra: "
            "pip install -e '.[test]'"
        )
    env = dict(os.environ, KERAS_BACKEND=backend)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-m", "backend_agnostic and not slow",
         "-p", "no:cacheprovider", "tests"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=1200,
    )
    assert result.returncode == 0, f"{backend} backend:\n{result.stdout[-6000:]}\n{result.stderr[-3000:]}"
    assert " passed" in result.stdout
