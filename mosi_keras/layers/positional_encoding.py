"""Sinusoidal positional encoding."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="mosi_keras")
class PositionalEncoding(keras.layers.Layer):
    """Adds the sinusoidal positional encoding of Vaswani et al. to a sequence.

    For position `t` and feature pair `(2i, 2i + 1)` the encoding is
    `sin(t / max_wavelength^(2i / d))` and `cos(t / max_wavelength^(2i / d))`,
    where `d` is the feature width. It is computed on the fly for whatever
    length the input has, in float32, and cast to the layer's compute dtype
    before it is added. The layer has no weights and passes masks through.

    This is the "positional encoding layer" in front of each modality's
    Transformer blocks (§3.2 of the paper).

    Args:
        max_wavelength: the longest wavelength of the sinusoids. Defaults to
            `10000`, as in Vaswani et al.
        **kwargs: standard `keras.layers.Layer` arguments (`name`, `dtype`).

    Call arguments:
        inputs: tensor of shape `(batch, time, features)`.
        mask: optional boolean tensor `(batch, time)`; passed through.

    Returns:
        `inputs + encoding`, same shape and dtype as `inputs`.

    Example:

    >>> import numpy as np
    >>> x = np.zeros((2, 5, 8), "float32")
    >>> tuple(PositionalEncoding()(x).shape)
    (2, 5, 8)

    References:
        - Vaswani et al., "Attention is all you need", NeurIPS 2017, §3.5.
        - Saadatinia et al., semi-supervised clustering for CMU-MOSI, §3.2.
    """

    def __init__(self, max_wavelength=10000, **kwargs):
        super().__init__(**kwargs)
        if max_wavelength <= 1:
            raise ValueError(
                f"`max_wavelength` must be greater than 1, got {max_wavelength}."
            )
        self.max_wavelength = max_wavelength
        self.supports_masking = True

    def positional_encoding(self, length, width):
        """Returns the `(length, width)` encoding as a float32 tensor."""
        positions = ops.cast(ops.arange(length), "float32")[:, None]
        feature = ops.cast(ops.arange(width), "float32")
        # Feature pairs (2i, 2i + 1) share the frequency 1 / max_wavelength^(2i/d).
        exponent = 2.0 * ops.floor(feature / 2.0) / float(width)
        inverse_frequency = ops.power(float(self.max_wavelength), -exponent)
        angles = positions * inverse_frequency[None, :]
        is_even = ops.equal(ops.mod(ops.arange(width), 2), 0)
        return ops.where(is_even[None, :], ops.sin(angles), ops.cos(angles))

    def call(self, inputs, mask=None):
        shape = ops.shape(inputs)
        encoding = self.positional_encoding(shape[-2], shape[-1])
        return inputs + ops.cast(encoding, self.compute_dtype)[None, :, :]

    def compute_mask(self, inputs, mask=None):
        return mask

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update({"max_wavelength": self.max_wavelength})
        return config
