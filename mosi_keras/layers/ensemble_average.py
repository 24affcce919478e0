"""`EnsembleAverage`: the mean of several sentiment outputs (probabilities for logits, scores as they are)."""

import keras
from keras import ops


def average_outputs(outputs, predicts_score=False):
    """The ensemble of members' outputs, stacked on the first axis `(members, ...)`.

    Scores are averaged. Logits are averaged as probabilities, the way an
    ensemble of classifiers votes, then turned back into a logit (so that
    `>= 0` still means positive): `logit(mean(sigmoid(logits)))`, with the
    probability clipped to `[1e-7, 1 - 1e-7]`. Works on NumPy arrays and on
    tensors of any backend (`keras.ops`).
    """
    outputs = ops.cast(ops.convert_to_tensor(outputs), "float32")
    if predicts_score:
        return ops.mean(outputs, axis=0)
    probability = ops.clip(ops.mean(ops.sigmoid(outputs), axis=0), 1e-7, 1.0 - 1e-7)
    return ops.log(probability) - ops.log1p(-probability)


@keras.saving.register_keras_serializable(package="mosi_keras")
class EnsembleAverage(keras.layers.Layer):
    """`average_outputs` of a list of member outputs, as a layer (float32).

    Args:
        predicts_score: whether the members predict scores (averaged as
            they are) rather than logits (averaged as probabilities).

    Call arguments:
        inputs: a list of member outputs of one shape.
    """

    def __init__(self, predicts_score=False, **kwargs):
        kwargs.setdefault("dtype", "float32")
        super().__init__(**kwargs)
        self.predicts_score = predicts_score

    def call(self, inputs):
        return average_outputs(ops.stack(inputs), self.predicts_score)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[0])

    def get_config(self):
        return {**super().get_config(), "predicts_score": self.predicts_score}
