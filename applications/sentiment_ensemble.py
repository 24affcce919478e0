"""Several sentiment tasks read as one: the mean of their predictions."""

import keras

from applications.batching import BatchedFeedMixin
from applications.presets import PresetMixin
from mosi_keras.layers import EnsembleAverage


@keras.saving.register_keras_serializable(package="mosi_keras")
class SentimentEnsemble(PresetMixin, BatchedFeedMixin, keras.Model):
    """The mean prediction of several sentiment tasks of the same inputs.

    A functional model over its members: every member reads the same
    inputs, and the output is `average_outputs` of theirs (probabilities
    averaged for classifiers, scores for regressors). It is what a
    fold-trained run keeps (`TrainingConfig(folds=k)`), saved as one
    `.keras` file, and it predicts and evaluates like a single task. The
    members must share their inputs and their preprocessing (the fold
    models of one run do); models of different splits, each with its own
    preprocessing, are averaged by `applications.experiments.inference.evaluate_tasks`.

    Args:
        members: the tasks (`SentimentClassifier`, `SentimentRegressor` or
            `ContextualSentimentClassifier`), all of one kind.

    Call arguments:
        inputs: the members' inputs dict.

    Returns:
        `(batch, 1)` (video-level members: `(videos, utterances, 1)`):
        a logit, or a score for regressors.

    Example:

    >>> from applications import MultimodalBackbone, SentimentClassifier
    >>> members = [SentimentClassifier(MultimodalBackbone({"text": 8}, hidden_dim=8, num_heads=2))
    ...            for _ in range(3)]
    >>> ensemble = SentimentEnsemble(members)
    >>> ensemble.output.shape
    (None, 1)

    References:
        Lakshminarayanan et al., "Simple and scalable predictive
        uncertainty estimation using deep ensembles", NeurIPS 2017.
    """

    TARGETS_DTYPE = "float32"

    def __init__(self, members, **kwargs):
        members = list(members)
        if not members:
            raise ValueError("an ensemble needs at least one member.")
        kinds = {type(member).__name__ for member in members}
        if len(kinds) > 1:
            raise ValueError(f"the members of an ensemble must be of one kind, got {sorted(kinds)}.")
        inputs = members[0].input
        outputs = EnsembleAverage(members[0].PREDICTS_SCORE, name="average")([member(inputs) for member in members])
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)
        self.members = members

    @property
    def PREDICTS_SCORE(self):  # noqa: N802 (the tasks' class attribute)
        return self.members[0].PREDICTS_SCORE

    @property
    def BATCHES_ROWS(self):  # noqa: N802 (the tasks' class attribute)
        return self.members[0].BATCHES_ROWS

    def prepare(self, x, y=None, training=False):
        """As the members prepare data (`SentimentTask.prepare`)."""
        return self.members[0].prepare(x, y, training)

    def model_inputs(self, x):
        """As the members read data for `predict` (`BatchedFeedMixin.model_inputs`; a video model: by video)."""
        return self.members[0].model_inputs(x)

    @property
    def preprocessor(self):
        """The members' preprocessing (the first member's)."""
        return self.members[0].preprocessor

    @property
    def backbone(self):
        """The first member's backbone."""
        return self.members[0].backbone

    def get_config(self):
        return {
            **super().get_config(),  # name, trainable, dtype policy
            "members": [keras.saving.serialize_keras_object(member) for member in self.members],
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["members"] = [keras.saving.deserialize_keras_object(member) for member in config["members"]]
        return cls(**config)
