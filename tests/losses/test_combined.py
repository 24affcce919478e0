"""Eq. 8: the total DEC loss."""

import pytest

from mosi_keras import losses

pytestmark = pytest.mark.backend_agnostic


def test_combined_dec_loss_is_eq8_with_each_weight_on_its_named_term():
    weights = dict(reconstruction_weight=0.1, supervised_weight=0.5, disentangle_weight=0.01)
    assert losses.combined_dec_loss(1.0, 2.0, 3.0, 4.0, **weights) == pytest.approx(1.0 + 0.2 + 1.5 + 0.04)
    assert losses.combined_dec_loss(
        5.0, 2.0, 3.0, 4.0, reconstruction_weight=1, supervised_weight=0, disentangle_weight=0, cluster_weight=0
    ) == pytest.approx(2.0)


def test_combined_dec_loss_takes_its_weights_by_keyword_only():
    with pytest.raises(TypeError):
        losses.combined_dec_loss(1.0, 2.0, 3.0, 4.0, 0.1, 0.5, 0.01)
