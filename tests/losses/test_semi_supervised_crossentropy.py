"""Eq. 7: the cross-entropy of the labelled rows."""

import numpy as np
import pytest

from mosi_keras import losses
from tests.losses.conftest import Q, to_numpy

pytestmark = pytest.mark.backend_agnostic


def test_semi_supervised_crossentropy_counts_labelled_samples_only():
    labels = np.array([0, -1, 2, -1])
    expected = -(np.log(Q[0, 0]) + np.log(Q[2, 2])) / 2
    np.testing.assert_allclose(
        to_numpy(losses.semi_supervised_crossentropy(labels, Q)), expected, rtol=1e-5
    )
    np.testing.assert_allclose(
        to_numpy(losses.SemiSupervisedCrossentropy()(labels, Q)), expected, rtol=1e-5
    )


def test_semi_supervised_crossentropy_unlabelled_predictions_do_not_matter():
    labels = np.array([0, -1, 2, -1])
    changed = Q.copy()
    changed[[1, 3]] = [[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]
    np.testing.assert_allclose(
        to_numpy(losses.semi_supervised_crossentropy(labels, changed)),
        to_numpy(losses.semi_supervised_crossentropy(labels, Q)),
    )


def test_semi_supervised_crossentropy_without_labels_is_zero_not_nan():
    value = to_numpy(losses.semi_supervised_crossentropy(np.full(4, losses.UNLABELLED), Q))
    assert float(value) == 0.0
