"""Consistency on unlabelled rows: a confident prediction on the clean input is the label of a perturbed one."""

import keras
from keras import ops


def confident_pseudo_label_crossentropy(teacher_logits, student_logits, threshold=0.8, weights=None):
    """FixMatch's unlabelled term for one logit: binary cross-entropy of
    `student_logits` (the model on a perturbed input) against the hard
    label of `teacher_logits` (the model on the clean input, no gradient),
    counted only where the teacher is confident, `max(p, 1 − p) ≥ threshold`.

    The mean runs over every row of `weights` (1: an unlabelled row, 0: a
    row the term ignores), confident or not, as FixMatch divides by the
    unlabelled batch: the term grows as the teacher grows confident, and a
    batch with no unlabelled row gives 0.

    Args:
        teacher_logits: float logits of any shape; no gradient flows into them.
        student_logits: float logits with the same number of elements.
        threshold: the confidence, in `[0.5, 1)`, from which a teacher's
            label counts.
        weights: optional 0/1 weights of the same number of elements; default all 1.

    Returns:
        Scalar float32.

    References:
        Sohn et al., "FixMatch: simplifying semi-supervised learning with
        consistency and confidence", NeurIPS 2020 (eq. 4, for two classes);
        Xie et al., "Unsupervised data augmentation for consistency
        training", NeurIPS 2020 (the clean input as the teacher's).
    """
    teacher = ops.stop_gradient(ops.reshape(ops.cast(teacher_logits, "float32"), (-1,)))
    student = ops.reshape(ops.cast(student_logits, "float32"), (-1,))
    weights = ops.ones_like(student) if weights is None else ops.reshape(ops.cast(weights, "float32"), (-1,))
    p = ops.sigmoid(teacher)
    confident = ops.cast(ops.maximum(p, 1.0 - p) >= threshold, "float32")
    label = ops.cast(teacher >= 0.0, "float32")
    # log(1 + e^x) − y·x, the stable form of the cross-entropy on a logit.
    per_row = ops.softplus(student) - label * student
    return ops.divide_no_nan(ops.sum(weights * confident * per_row), ops.sum(weights))


@keras.saving.register_keras_serializable(package="mosi_keras")
class ConfidentPseudoLabelCrossentropy(keras.losses.Loss):
    """Loss object of `confident_pseudo_label_crossentropy`: `y_true` the
    teacher's logits (clean input), `y_pred` the student's (perturbed input).

    Args:
        threshold: the confidence from which a teacher's label counts.

    Example:

    >>> import numpy as np
    >>> loss = ConfidentPseudoLabelCrossentropy(threshold=0.8)
    >>> teacher = np.array([[3.0, 0.1]], "float32")  # confident (p 0.95), not (p 0.52)
    >>> round(float(loss(teacher, np.array([[0.0, -5.0]], "float32"))), 4)  # log 2 on the first, halved
    0.3466
    """

    def __init__(self, threshold=0.8, name="confident_pseudo_label_crossentropy", **kwargs):
        super().__init__(name=name, **kwargs)
        if not 0.5 <= threshold < 1.0:
            raise ValueError(f"`threshold` must be in [0.5, 1), got {threshold}.")
        self.threshold = threshold

    def call(self, y_true, y_pred):
        return confident_pseudo_label_crossentropy(y_true, y_pred, self.threshold)

    def get_config(self):
        return {**super().get_config(), "threshold": self.threshold}
