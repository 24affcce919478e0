"""Masked reconstruction loss (eq. 4)."""

import keras
from keras import ops


def squared_error_per_step(x, x_hat):
    """Mean over features of `(x - x_hat)^2`: `(batch, time)` in float32."""
    x = ops.cast(x, "float32")
    x_hat = ops.cast(x_hat, "float32")
    return ops.mean(ops.square(x - x_hat), axis=-1)


def masked_reconstruction_loss(x, x_hat, mask=None):
    """Eq. 4 for one modality: squared reconstruction error over valid steps.

    The squared error is averaged over every valid entry (valid time step ×
    feature) of the batch; padded steps (`mask` false) count for nothing.
    This is eq. 4 divided by the number of entries per sample, i.e. the
    mean-squared error the paper says it uses, so that its weight in eq. 8
    (α, `reconstruction_weight`) does not depend on feature width or sequence length.

    Args:
        x: target `(batch, time, features)`.
        x_hat: reconstruction, same shape.
        mask: optional `(batch, time)` boolean or 0/1; `None` means all valid.

    Returns:
        Scalar float32. A batch with no valid step gives 0.

    References:
        Saadatinia et al., eq. 4.
    """
    error = squared_error_per_step(x, x_hat)
    if mask is None:
        return ops.mean(error)
    weights = ops.cast(mask, "float32")
    return ops.divide_no_nan(ops.sum(error * weights), ops.sum(weights))


@keras.saving.register_keras_serializable(package="mosi_keras")
class MaskedReconstructionLoss(keras.losses.Loss):
    """Loss object for eq. 4: mean-squared reconstruction error over valid steps.

    `call` returns the per-step error `(batch, time)` and the default
    reduction, `"mean_with_sample_weight"`, divides by the number of valid
    steps, so the padding mask is passed the Keras way, as the per-step
    `sample_weight` (or as the Keras mask of `y_pred`):
    `loss(x, x_hat, sample_weight=mask) == masked_reconstruction_loss(x, x_hat, mask)`.

    Example:

    >>> import numpy as np
    >>> x = np.ones((2, 3, 4), "float32")
    >>> mask = np.array([[1, 1, 0], [1, 0, 0]], "float32")
    >>> float(MaskedReconstructionLoss()(x, 0 * x, sample_weight=mask))
    1.0

    References:
        Saadatinia et al., eq. 4.
    """

    def __init__(
        self, name="reconstruction", reduction="mean_with_sample_weight", **kwargs
    ):
        super().__init__(name=name, reduction=reduction, **kwargs)

    def call(self, y_true, y_pred):
        return squared_error_per_step(y_true, y_pred)
