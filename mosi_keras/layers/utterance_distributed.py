"""Applies a per-utterance model to every utterance of a batch of videos."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="mosi_keras")
class UtteranceDistributed(keras.layers.Layer):
    """`TimeDistributed` for models with dict inputs: one utterance encoder, every utterance.

    Inputs carry a video axis and an utterance axis in front,
    `(videos, utterances, ...)`; the layer folds the two into one batch axis,
    calls the wrapped layer or model (a tensor in, or a dict as
    `applications.MultimodalBackbone` takes; one tensor out) on that batch
    of utterances and unfolds its output to `(videos, utterances, ...)`. The same weights encode every
    utterance, so an encoder trained on single utterances (DEC pre-training)
    is reused as it is inside a video-level model. Padded utterances (all
    their steps masked) are encoded too; downstream masks keep them out.

    Args:
        layer: the per-utterance layer or model; its inputs are the entries
            of the dict this layer is called on (without the two front axes).
        **kwargs: standard `keras.layers.Layer` arguments.

    Call arguments:
        inputs: a tensor `(videos, utterances, ...)`, or a dict of them;
            names the wrapped model does not take (e.g. `utterance_mask`)
            are left out.
        training: passed to the wrapped layer.

    Returns:
        `(videos, utterances, ...)`: the wrapped layer's output per utterance.

    Example:

    >>> import numpy as np
    >>> from applications import MultimodalBackbone
    >>> backbone = MultimodalBackbone({"text": 8}, hidden_dim=16)
    >>> x = {"text": np.zeros((2, 5, 7, 8), "float32"), "text_mask": np.ones((2, 5, 7), "int32")}
    >>> tuple(UtteranceDistributed(backbone)(x).shape)
    (2, 5, 16)

    References:
        Poria et al., "Context-dependent sentiment analysis in user-generated
        videos", ACL 2017 (utterances encoded one by one, then in context).
    """

    def __init__(self, layer, **kwargs):
        super().__init__(**kwargs)
        self.layer = layer

    def wrapped_inputs(self, inputs):
        """The entries of `inputs` the wrapped model takes (all, for a plain layer)."""
        try:
            expected = self.layer.input
        except (AttributeError, ValueError):  # a layer not yet called
            return inputs
        return {name: inputs[name] for name in expected} if isinstance(expected, dict) else inputs

    def build(self, input_shape):
        if not self.layer.built:
            self.layer.build(fold_shape(self.wrapped_inputs(input_shape)))
        super().build(input_shape)

    def call(self, inputs, training=None):
        inputs = self.wrapped_inputs(inputs)
        first = keras.tree.flatten(inputs)[0]
        videos, utterances = ops.shape(first)[0], ops.shape(first)[1]
        folded = keras.tree.map_structure(lambda value: ops.reshape(value, (-1,) + tuple(ops.shape(value)[2:])), inputs)
        encoded = self.layer(folded, training=training)
        return ops.reshape(encoded, (videos, utterances) + tuple(ops.shape(encoded)[1:]))

    def compute_output_shape(self, input_shape):
        inputs = self.wrapped_inputs(input_shape)
        first = next(iter(inputs.values())) if isinstance(inputs, dict) else inputs
        return (first[0], first[1]) + tuple(self.layer.compute_output_shape(fold_shape(inputs))[1:])

    def get_config(self):
        config = super().get_config()
        config["layer"] = keras.saving.serialize_keras_object(self.layer)
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["layer"] = keras.saving.deserialize_keras_object(config["layer"])
        return cls(**config)


def fold_shape(shape):
    """An input shape (or a dict of them) with the video and utterance axes made one."""
    if isinstance(shape, dict):
        return {name: fold_shape(value) for name, value in shape.items()}
    return (None,) + tuple(shape[2:])
