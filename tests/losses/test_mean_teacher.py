import numpy as np
import pytest

from mosi_keras.losses import MeanTeacherConsistency, mean_teacher_consistency

pytestmark = pytest.mark.backend_agnostic


def test_the_mean_teachers_term_is_the_squared_difference_of_probabilities_over_every_row():
    teacher = np.array([[3.0], [-2.5], [0.3], [-0.1]], "float32")
    student = np.array([0.5, 1.0, -2.0, 2.0], "float32")  # another shape, the same rows
    p, q = 1 / (1 + np.exp(-teacher.ravel())), 1 / (1 + np.exp(-student))
    np.testing.assert_allclose(float(mean_teacher_consistency(teacher, student)), np.mean((q - p) ** 2), rtol=1e-5)


def test_the_loss_object_is_the_function_and_round_trips():
    loss = MeanTeacherConsistency()
    teacher, student = np.array([[0.0], [2.0]], "float32"), np.array([[1.0], [2.0]], "float32")
    np.testing.assert_allclose(float(loss(teacher, student)), float(mean_teacher_consistency(teacher, student)))
    assert MeanTeacherConsistency.from_config(loss.get_config()).name == "mean_teacher_consistency"
