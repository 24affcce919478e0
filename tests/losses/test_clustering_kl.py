"""Eq. 1: KL(P‖Q)."""

import numpy as np
import pytest

from mosi_keras import losses
from tests.losses.conftest import Q, numpy_target, to_numpy

pytestmark = pytest.mark.backend_agnostic


def test_clustering_kl_matches_eq1_batch_mean():
    p = numpy_target(Q)
    expected = np.mean(np.sum(p * np.log(p / Q), axis=1))
    np.testing.assert_allclose(to_numpy(losses.clustering_kl(p, Q)), expected, rtol=1e-5)
    np.testing.assert_allclose(
        to_numpy(losses.ClusteringKLDivergence()(p, Q)), expected, rtol=1e-5
    )


def test_clustering_kl_is_zero_for_identical_and_finite_for_zero_entries():
    np.testing.assert_allclose(to_numpy(losses.clustering_kl(Q, Q)), 0.0, atol=1e-6)
    p = np.array([[1.0, 0.0, 0.0]], "float32")
    value = to_numpy(losses.clustering_kl(p, np.array([[0.5, 0.5, 0.0]], "float32")))
    np.testing.assert_allclose(value, np.log(2.0), rtol=1e-5)
