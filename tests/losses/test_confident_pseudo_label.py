import numpy as np
import pytest

from mosi_keras.losses import ConfidentPseudoLabelCrossentropy, confident_pseudo_label_crossentropy

pytestmark = pytest.mark.backend_agnostic


def reference(teacher, student, threshold, weights):
    """NumPy: the cross-entropy of the student against the teacher's hard label, confident rows only, mean over rows."""
    p = 1 / (1 + np.exp(-teacher))
    label = (teacher >= 0).astype(float)
    confident = np.maximum(p, 1 - p) >= threshold
    q = 1 / (1 + np.exp(-student))
    per_row = -(label * np.log(q) + (1 - label) * np.log(1 - q))
    return np.sum(weights * confident * per_row) / np.sum(weights)


def test_the_consistency_term_is_the_crossentropy_of_confident_pseudo_labels_over_the_weighted_rows():
    teacher = np.array([3.0, -2.5, 0.3, -0.1, 4.0], "float32")
    student = np.array([0.5, 1.0, -2.0, 2.0, -1.0], "float32")
    weights = np.array([1, 1, 1, 1, 0], "float32")
    np.testing.assert_allclose(float(confident_pseudo_label_crossentropy(teacher, student, 0.8, weights)),
                               reference(teacher, student, 0.8, weights), rtol=1e-5)
    np.testing.assert_allclose(float(confident_pseudo_label_crossentropy(teacher, student, 0.5)),
                               reference(teacher, student, 0.5, np.ones(5)), rtol=1e-5)


def test_no_confident_or_no_weighted_row_gives_zero():
    assert float(confident_pseudo_label_crossentropy(np.zeros(3, "float32"), np.ones(3, "float32"), 0.8)) == 0.0
    assert float(confident_pseudo_label_crossentropy(np.ones(3, "float32") * 5, np.ones(3, "float32"), 0.8,
                                                     np.zeros(3, "float32"))) == 0.0


def test_the_loss_object_round_trips_its_threshold_and_refuses_one_below_a_half():
    loss = ConfidentPseudoLabelCrossentropy(threshold=0.9)
    assert ConfidentPseudoLabelCrossentropy.from_config(loss.get_config()).threshold == 0.9
    with pytest.raises(ValueError, match="threshold"):
        ConfidentPseudoLabelCrossentropy(threshold=0.3)
