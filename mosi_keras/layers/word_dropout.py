"""Word dropout: whole time steps hidden from an encoder during training."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="mosi_keras")
class WordDropout(keras.layers.Layer):
    """Drops whole time steps (words) of a sequence by clearing its padding mask.

    During training each valid step of each row is hidden with probability
    `rate`: its mask entry becomes 0, so attention never reads it and the
    mean pooling leaves it out (the features themselves are untouched). A
    row never loses all its valid steps: where every one would be dropped,
    its mask is kept whole. At inference the mask passes unchanged.
    Nothing is rescaled: the encoder's masked mean already averages over
    the steps that remain.

    A regulariser for small data (a segment is still a segment without
    some of its words), in the spirit of word dropout for text classifiers
    and of token dropout in speech models.

    Args:
        rate: probability of dropping each valid step, in `[0, 1)`.
        seed: optional seed of the layer's random draws.
        **kwargs: standard `keras.layers.Layer` arguments.

    Call arguments:
        inputs: padding mask `(batch, time)`, 1 (or `True`) on valid steps.
        training: whether to drop steps.

    Returns:
        The mask `(batch, time)`, with the dtype of `inputs`.

    Example:

    >>> import numpy as np
    >>> mask = np.ones((2, 6), "int32")
    >>> kept = WordDropout(0.5, seed=1)(mask, training=True)
    >>> bool((np.asarray(kept).sum(axis=1) >= 1).all())
    True
    >>> np.asarray(WordDropout(0.5)(mask)).tolist() == mask.tolist()
    True

    References:
        Iyyer et al., "Deep unordered composition rivals syntactic methods
        for text classification", ACL 2015 (word dropout).
    """

    def __init__(self, rate, seed=None, **kwargs):
        super().__init__(**kwargs)
        if not 0.0 <= rate < 1.0:
            raise ValueError(f"`rate` must be in [0, 1), got {rate}.")
        self.rate = rate
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.built = True

    def call(self, inputs, training=None):
        if not training or self.rate == 0.0:
            return inputs
        mask = ops.cast(inputs, "bool")
        kept = ops.logical_and(
            mask, keras.random.uniform(ops.shape(mask), seed=self.seed_generator) >= self.rate
        )
        any_kept = ops.any(kept, axis=1, keepdims=True)
        return ops.cast(ops.where(any_kept, kept, mask), inputs.dtype)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update({"rate": self.rate, "seed": self.seed})
        return config
