import keras
import numpy as np
import pytest

from mosi_keras.losses import LabelledBinaryCrossentropy, labelled_binary_crossentropy

pytestmark = pytest.mark.backend_agnostic


def test_labelled_crossentropy_is_binary_crossentropy_of_the_labelled_places_only():
    labels = np.array([[1, 0, -1], [-1, 1, -1]])
    logits = np.array([[2.0, -1.0, 30.0], [-30.0, 0.5, 7.0]], "float32")
    keep = labels >= 0
    expected = keras.losses.BinaryCrossentropy(from_logits=True)(labels[keep].astype("float32"), logits[keep])
    np.testing.assert_allclose(float(labelled_binary_crossentropy(labels, logits)), float(expected), rtol=1e-5)
    padded = np.concatenate([labels, -np.ones((2, 4), int)], axis=1)  # more padding: the same loss
    np.testing.assert_allclose(
        float(LabelledBinaryCrossentropy()(padded, np.pad(logits, [(0, 0), (0, 4)], constant_values=9.0))),
        float(expected), rtol=1e-5,
    )


def test_labelled_crossentropy_of_a_batch_without_labels_is_zero():
    assert float(labelled_binary_crossentropy(-np.ones((2, 3)), np.ones((2, 3), "float32"))) == 0.0
