"""The paper's baseline sentiment classifier (§3.2)."""

import keras

from applications.sentiment_task import SentimentTask


@keras.saving.register_keras_serializable(package="mosi_keras")
class SentimentClassifier(SentimentTask):
    """Backbone → fusion → MLP head → one logit: the classifier of §3.2.

    The joint embedding of the `MultimodalBackbone` goes through Dense →
    BatchNorm → ReLU → Dropout, then smaller ReLU Dense layers, then one
    output: the sentiment logit (positive sentiment when >= 0). Fine-tuning
    a DEC-pretrained encoder (§4.3) is building this task on that backbone.

    The defaults give 874,625 parameters (trainable and not) for text 300 /
    audio 74 / visual 35 features: 2.7 % more than the paper's 851,713, which
    the paper does not break down (`hidden_dim=128` per encoder, so `z` has
    384 units, and a head of 384 → 64 → 32 → 1).

    `compile()` defaults to the optimizer `mosi-keras train` uses
    (`SentimentTask.default_optimizer`: Adam at 1e-3, weight decay 1e-2,
    warm-up and cosine decay over the first `fit`), binary cross-entropy on
    the logit, and `accuracy` (logit >= 0 is positive). The paper's own
    Adam (4e-5, constant) is `default_optimizer(learning_rate=4e-5,
    lr_schedule="constant")`.

    Args:
        backbone: a `MultimodalBackbone`.
        head_units: widths of the head's hidden Dense layers.
        head_dropout: dropout rate after the first head layer.
        preprocessor: optional fitted `mosi_keras.data.Preprocessor`,
            saved with the model.

    Call arguments:
        inputs: the backbone's inputs dict (features and `<modality>_mask`).

    Returns:
        Logits `(batch, 1)`.

    Example:

    >>> from applications import MultimodalBackbone
    >>> backbone = MultimodalBackbone({"text": 300, "audio": 74, "visual": 35})
    >>> classifier = SentimentClassifier(backbone)
    >>> classifier.count_params()
    874625
    >>> classifier.compile()

    References:
        Saadatinia et al., §3.2 (Fig. 1) and §4.2.
    """

    OUTPUT_NAME = "sentiment_logit"

    def default_loss(self):
        return keras.losses.BinaryCrossentropy(from_logits=True)

    def default_metrics(self):
        return [keras.metrics.BinaryAccuracy(threshold=0.0, name="accuracy")]
