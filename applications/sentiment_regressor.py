"""A sentiment-score regressor on the same backbone (the MulT / MMSA setting)."""

import keras

from applications.sentiment_task import SentimentTask


@keras.saving.register_keras_serializable(package="mosi_keras")
class SentimentRegressor(SentimentTask):
    """Backbone → MLP head → one sentiment score in [-3, 3].

    The same head as `SentimentClassifier`, read as a score rather than a
    logit, trained with the L1 loss as in MulT and MMSA. Its predictions
    are scored with `mosi_keras.evaluation.sentiment_metrics(...,
    predicts_score=True)`: acc2 (score >= 0), F1, Acc-7, MAE and Corr.

    `compile()` defaults: the classifier's optimizer
    (`SentimentTask.default_optimizer`), `mean_absolute_error` loss and an
    `mae` metric.

    Args:
        backbone: a `MultimodalBackbone`.
        head_units: widths of the head's hidden Dense layers.
        head_dropout: dropout rate after the first head layer.
        preprocessor: optional fitted `mosi_keras.data.Preprocessor`.

    Call arguments:
        inputs: the backbone's inputs dict.

    Returns:
        Scores `(batch, 1)`.

    Example:

    >>> from applications import MultimodalBackbone
    >>> regressor = SentimentRegressor(MultimodalBackbone({"text": 8, "audio": 4}, hidden_dim=8, num_heads=2))
    >>> regressor.compile()
    >>> regressor.output.shape
    (None, 1)

    References:
        Tsai et al., "Multimodal Transformer for unaligned multimodal
        language sequences", ACL 2019 (L1 loss); Saadatinia et al., §3.2.
    """

    OUTPUT_NAME = "sentiment_score"
    PREDICTS_SCORE = True

    def default_loss(self):
        return keras.losses.MeanAbsoluteError()

    def default_metrics(self):
        return [keras.metrics.MeanAbsoluteError(name="mae")]
