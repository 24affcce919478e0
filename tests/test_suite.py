"""The suite itself: collecting it runs nothing."""

import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_collect_only_starts_no_backend_run():
    probe = (
        "import pytest\n"
        "code = pytest.main(['--collect-only', '-q', '-p', 'no:cacheprovider', 'tests/test_backends.py'])\n"
        "import tests.test_backends as backends\n"
        "print('COLLECTED', int(code), 'RUNS', sorted(backends.RUNS))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=300,
                          env=dict(os.environ, KERAS_BACKEND="tensorflow"))
    assert "test_backend_agnostic_suite_passes_on[jax-kit]" in done.stdout  # the backend tests were collected
    assert "COLLECTED 0 RUNS []" in done.stdout, done.stdout[-2000:] + done.stderr[-2000:]
