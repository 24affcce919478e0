"""Data-parallel training on two logical CPU devices matches one device.

Each backend runs in a fresh process: the device count is fixed at start-up.
Under tf.distribute the DEC target and covariance are per replica (the batch
is split), so the disentanglement term differs; the reconstruction and
supervised terms do not depend on the split, and following them step for step
shows that the gradients are scaled correctly (a wrong scale changes how fast
they fall). JAX's DataParallel computes on the global batch: all matches.
"""

import importlib.util
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from tests.test_backends import ROOT


def run(backend):
    if importlib.util.find_spec("jax" if backend == "jax" else "tensorflow") is None:
        pytest.fail(f"{backend} is not installed; pip install -e '.[test]'")
    env = dict(os.environ, KERAS_BACKEND=backend, XLA_FLAGS="--xla_force_host_platform_device_count=2")
    result = subprocess.run([sys.executable, "-m", "tests.applications.distributed_fit", backend],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-4000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_tf_mirrored_strategy_matches_single_device_training():
    out = run("tensorflow")
    assert out["replicas"] == 2
    for term in ("reconstruction_loss", "supervised_loss"):
        np.testing.assert_allclose(out["dec_parallel"][term], out["dec_single"][term], rtol=2e-3)
    np.testing.assert_allclose(out["dec_parallel"]["loss"], out["dec_single"]["loss"], rtol=0.1)
    # BatchNorm statistics are per replica: close, not equal.
    np.testing.assert_allclose(out["classifier_parallel"]["loss"], out["classifier_single"]["loss"], rtol=0.1)


def test_jax_data_parallel_matches_single_device_training():
    out = run("jax")
    assert out["replicas"] == 2
    for kind in ("dec", "classifier"):
        np.testing.assert_allclose(out[f"{kind}_parallel"]["loss"], out[f"{kind}_single"]["loss"], rtol=1e-4)
