"""Eq. 4: the masked reconstruction loss."""

import numpy as np
import pytest

from mosi_keras import losses
from tests.losses.conftest import to_numpy

pytestmark = pytest.mark.backend_agnostic


def test_masked_reconstruction_loss_matches_eq4_on_valid_steps(rng):
    x = rng.normal(size=(3, 4, 5)).astype("float32")
    x_hat = rng.normal(size=(3, 4, 5)).astype("float32")
    mask = np.array([[1, 1, 1, 1], [1, 1, 0, 0], [1, 0, 0, 0]], bool)
    expected = ((x - x_hat) ** 2)[mask].mean()
    np.testing.assert_allclose(
        to_numpy(losses.masked_reconstruction_loss(x, x_hat, mask)), expected, rtol=1e-5
    )
    np.testing.assert_allclose(
        to_numpy(losses.masked_reconstruction_loss(x, x_hat)), ((x - x_hat) ** 2).mean(), rtol=1e-5
    )


def test_masked_reconstruction_loss_ignores_padded_steps(rng):
    x = rng.normal(size=(2, 4, 3)).astype("float32")
    mask = np.array([[1, 1, 0, 0], [1, 1, 1, 0]], bool)
    x_hat = x.copy()
    x_hat[~mask] += 100.0
    assert float(to_numpy(losses.masked_reconstruction_loss(x, x_hat, mask))) == 0.0
    empty = np.zeros_like(mask)
    assert float(to_numpy(losses.masked_reconstruction_loss(x, x_hat, empty))) == 0.0


def test_masked_reconstruction_object_takes_mask_as_sample_weight(rng):
    x = rng.normal(size=(3, 4, 5)).astype("float32")
    x_hat = rng.normal(size=(3, 4, 5)).astype("float32")
    mask = np.array([[1, 1, 1, 1], [1, 1, 0, 0], [1, 0, 0, 0]], "float32")
    np.testing.assert_allclose(
        to_numpy(losses.MaskedReconstructionLoss()(x, x_hat, sample_weight=mask)),
        to_numpy(losses.masked_reconstruction_loss(x, x_hat, mask)),
        rtol=1e-5,
    )
