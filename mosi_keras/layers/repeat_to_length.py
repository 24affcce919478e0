"""`RepeatToLength`: a vector repeated over the steps of a reference sequence (the DEC decoder's first step)."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="mosi_keras")
class RepeatToLength(keras.layers.Layer):
    """Repeats vectors `(batch, d)` over the time axis of `reference` `(batch, T, ...)`.

    `keras.layers.RepeatVector` with the length taken from a tensor, so a
    decoder emits exactly as many steps as the batch it reconstructs.

    Call arguments:
        inputs: `(batch, d)`.
        reference: any tensor whose axis 1 is the length, e.g. a padding
            mask `(batch, T)`.

    Returns:
        `(batch, T, d)`.

    Example:

    ```python
    z = keras.Input((32,))
    mask = keras.Input((30,), dtype="int32")
    steps = RepeatToLength()(z, mask)  # (batch, 30, 32)
    ```
    """

    def call(self, inputs, reference):
        shape = ops.shape(inputs)
        return ops.broadcast_to(inputs[:, None, :], (shape[0], ops.shape(reference)[1], shape[1]))

    def compute_output_shape(self, inputs_shape, reference_shape=None):
        return (inputs_shape[0], None if reference_shape is None else reference_shape[1], inputs_shape[-1])

    def compute_output_spec(self, inputs, reference):
        return keras.KerasTensor((inputs.shape[0], reference.shape[1], inputs.shape[-1]), dtype=inputs.dtype)
