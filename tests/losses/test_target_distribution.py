"""Eq. 3: the target distribution P."""

import numpy as np
import pytest

import keras
from keras import ops

from mosi_keras import losses
from tests.losses.conftest import Q, numpy_target, to_numpy

pytestmark = pytest.mark.backend_agnostic


def test_target_distribution_matches_eq3():
    np.testing.assert_allclose(to_numpy(losses.target_distribution(Q)), numpy_target(Q), rtol=1e-6)


def test_target_distribution_rows_sum_to_one():
    np.testing.assert_allclose(to_numpy(losses.target_distribution(Q)).sum(1), 1.0, rtol=1e-6)


def test_target_distribution_sharpens_confident_assignments():
    p = to_numpy(losses.target_distribution(Q))
    assert p[0, 0] > Q[0, 0] and p[1, 1] > Q[1, 1]


def test_target_distribution_uses_given_cluster_frequency():
    frequency = np.array([10.0, 1.0, 1.0], "float32")
    weight = Q**2 / frequency
    expected = weight / weight.sum(1, keepdims=True)
    np.testing.assert_allclose(
        to_numpy(losses.target_distribution(Q, cluster_frequency=frequency)), expected, rtol=1e-6
    )


def test_target_distribution_passes_no_gradient():
    assert keras.backend.backend() in ("tensorflow", "jax", "torch")
    q = keras.Variable(Q)
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        with tf.GradientTape() as tape:
            value = ops.sum(losses.target_distribution(q) * ops.arange(3, dtype="float32"))
        assert tape.gradient(value, q.value) is None
    elif keras.backend.backend() == "jax":
        import jax

        grad = jax.grad(lambda v: ops.sum(losses.target_distribution(v) * ops.arange(3.0)))(Q)
        np.testing.assert_array_equal(np.asarray(grad), 0.0)
    else:
        import torch

        t = torch.tensor(Q, requires_grad=True)
        assert not losses.target_distribution(t).requires_grad
