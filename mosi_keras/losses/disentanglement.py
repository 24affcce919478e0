"""Disentanglement loss: off-diagonal covariance (eqs. 5-6)."""

import keras
from keras import ops


def latent_covariance(z):
    """Eq. 5: `C = (1/N) z_hat^T z_hat` with `z_hat = z - mean(z)`, in float32."""
    z = ops.cast(z, "float32")
    centred = z - ops.mean(z, axis=0, keepdims=True)
    count = ops.cast(ops.shape(z)[0], "float32")
    return ops.matmul(ops.transpose(centred), centred) / count


def disentanglement_loss(z):
    """Eq. 6: sum of the squared off-diagonal entries of the batch covariance.

    Penalises correlation between latent dimensions while leaving their
    variances free.

    Args:
        z: latent batch `(batch, features)`.

    Returns:
        Scalar float32.

    References:
        Saadatinia et al., eqs. 5 and 6.
    """
    covariance = latent_covariance(z)
    return ops.sum(ops.square(covariance)) - ops.sum(ops.square(ops.diagonal(covariance)))


@keras.saving.register_keras_serializable(package="mosi_keras")
class DisentanglementLoss(keras.losses.Loss):
    """Loss object for eqs. 5-6; `y_pred` is the latent batch; `y_true` is ignored
    (pass any tensor, e.g. `y_pred` itself).

    Example:

    >>> import numpy as np
    >>> z = np.random.rand(16, 4).astype("float32")
    >>> float(DisentanglementLoss()(z, z)) >= 0  # y_true is ignored
    True

    References:
        Saadatinia et al., eqs. 5 and 6.
    """

    def __init__(self, name="disentanglement", **kwargs):
        super().__init__(name=name, **kwargs)

    def call(self, y_true, y_pred):
        return disentanglement_loss(y_pred)
