"""Eqs. 5-6: the disentanglement loss."""

import numpy as np
import pytest

from mosi_keras import losses
from tests.losses.conftest import to_numpy

pytestmark = pytest.mark.backend_agnostic


def test_disentanglement_loss_matches_eqs5_and_6(rng):
    z = rng.normal(size=(8, 4)).astype("float32")
    centred = z - z.mean(0)
    c = centred.T @ centred / len(z)
    expected = (c**2).sum() - (np.diag(c) ** 2).sum()
    np.testing.assert_allclose(to_numpy(losses.latent_covariance(z)), c, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(to_numpy(losses.disentanglement_loss(z)), expected, rtol=1e-5)
    np.testing.assert_allclose(to_numpy(losses.DisentanglementLoss()(z, z)), expected, rtol=1e-5)


def test_disentanglement_loss_is_zero_for_uncorrelated_dimensions():
    z = np.array([[1, 1], [1, -1], [-1, 1], [-1, -1]], "float32") * [3.0, 0.5]
    assert float(to_numpy(losses.disentanglement_loss(z))) == pytest.approx(0.0, abs=1e-6)
