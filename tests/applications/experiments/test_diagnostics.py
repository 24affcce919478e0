import numpy as np
import pytest


def test_weight_shift_is_the_relative_distance_moved():
    from applications.experiments.diagnostics import weight_shift

    assert weight_shift([np.ones(4)], [np.ones(4) * 1.5]) == pytest.approx(0.5)
    assert weight_shift([np.ones(4)], [np.ones(4)]) == 0.0
