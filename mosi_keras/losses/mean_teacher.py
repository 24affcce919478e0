"""The mean teacher's consistency term (beyond the paper)."""

import keras
from keras import ops


def mean_teacher_consistency(teacher_logits, student_logits):
    """The mean teacher's consistency cost for one logit: the squared
    difference of the teacher's probability (no gradient) and the
    student's, averaged over every row, labelled or not.

    Args:
        teacher_logits: float logits of any shape (the teacher: the moving
            average of the student's weights, on the clean input); no
            gradient flows into them.
        student_logits: float logits with the same number of elements (the
            student on a perturbed input).

    Returns:
        Scalar float32, in `[0, 1]`.

    References:
        Tarvainen & Valpola, "Mean teachers are better role models",
        NeurIPS 2017 (the consistency cost J, the squared error of the
        class probabilities, for two classes: `(p − q)²`).
    """
    teacher = ops.sigmoid(ops.stop_gradient(ops.reshape(ops.cast(teacher_logits, "float32"), (-1,))))
    student = ops.sigmoid(ops.reshape(ops.cast(student_logits, "float32"), (-1,)))
    return ops.mean(ops.square(student - teacher))


@keras.saving.register_keras_serializable(package="mosi_keras")
class MeanTeacherConsistency(keras.losses.Loss):
    """Loss object of `mean_teacher_consistency`: `y_true` the teacher's
    logits, `y_pred` the student's.

    Example:

    >>> import numpy as np
    >>> loss = MeanTeacherConsistency()
    >>> teacher = np.array([[0.0, 0.0]], "float32")  # p = 0.5 on both rows
    >>> round(float(loss(teacher, np.array([[0.0, 100.0]], "float32"))), 4)  # 0 and 0.25, averaged
    0.125
    """

    def __init__(self, name="mean_teacher_consistency", **kwargs):
        super().__init__(name=name, **kwargs)

    def call(self, y_true, y_pred):
        return mean_teacher_consistency(y_true, y_pred)
