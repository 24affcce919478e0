"""A video-level classifier: every utterance encoded, then read in its video's context."""

import keras

from applications.batching import raw_dataset
from applications.sentiment_classifier import SentimentClassifier
from applications.sentiment_task import sentiment_head
from mosi_keras.data.video import video_view
from mosi_keras.inputs import UTTERANCE_MASK, mask_name
from mosi_keras.layers import ModalityTransformerEncoder, UtteranceDistributed
from mosi_keras.losses import LabelledBinaryCrossentropy
from mosi_keras.metrics import LabelledBinaryAccuracy


def video_inputs(feature_dims):
    """The inputs of a video-level model: `<modality>` `(U, T, d)`,
    `<modality>_mask` `(U, T)` per modality and `utterance_mask` `(U,)`
    (int32, 1 on a video's utterances), every axis but the width free."""
    inputs = {}
    for modality, dim in feature_dims.items():
        inputs[modality] = keras.Input((None, None, dim), name=modality)
        inputs[mask_name(modality)] = keras.Input((None, None), dtype="int32", name=mask_name(modality))
    inputs[UTTERANCE_MASK] = keras.Input((None,), dtype="int32", name=UTTERANCE_MASK)
    return inputs


@keras.saving.register_keras_serializable(package="mosi_keras")
class ContextualSentimentClassifier(SentimentClassifier):
    """The paper's utterance encoder under a context encoder over each video.

    A batch is a batch of videos (`mosi_keras.data.video_view`). The
    `MultimodalBackbone` encodes every utterance on its own
    (`UtteranceDistributed`: the same weights as a `SentimentClassifier`'s
    backbone, so a DEC-pretrained one transfers unchanged); a second
    `ModalityTransformerEncoder`, with `return_sequences=True` and the
    utterance mask, lets each utterance attend to the others of its video
    in their order (positional encoding over utterances); the §3.2 head
    reads each utterance's embedding beside its context and gives one
    logit per utterance, its batch statistics over real utterances only.
    Padded utterances are never attended to, so an utterance's output does
    not depend on which videos share its batch.

    Given raw data (a `MultimodalDataset`, see `SentimentTask`), `fit`,
    `evaluate` and `predict` apply the preprocessor and group the segments
    by video themselves; `predict` then returns one logit per segment,
    `(N, 1)`, in the data's row order.

    `compile()` defaults to the classifier's optimizer
    (`SentimentTask.default_optimizer`), `LabelledBinaryCrossentropy`
    (places labelled `-1`, unlabelled or padded, count for nothing) and
    `LabelledBinaryAccuracy`.

    Args:
        backbone: a `MultimodalBackbone` (the per-utterance encoder).
        head_units, head_dropout: the §3.2 head, as `SentimentClassifier`.
        preprocessor: optional fitted `mosi_keras.data.Preprocessor`.
        context_dim: width of the context encoder. Defaults to `32` (as
            `TrainingConfig`: small, for ~50 training videos).
        context_blocks: its Transformer blocks. Defaults to `1`.
        context_heads: its attention heads. Defaults to `4`.
        context_intermediate_dim: its feed-forward units. Defaults to `256`.
        context_dropout: its dropout. Defaults to `0.3`.

    Call arguments:
        inputs: dict of `video_inputs`: `<modality>` `(videos, U, T, d)`,
            `<modality>_mask` `(videos, U, T)`, `utterance_mask` `(videos, U)`.

    Returns:
        Logits `(videos, U)`, one per utterance (padded places: ignore).

    Example:

    >>> from applications import MultimodalBackbone
    >>> backbone = MultimodalBackbone({"text": 50, "audio": 5, "visual": 20})
    >>> model = ContextualSentimentClassifier(backbone)
    >>> model.output.shape
    (None, None)
    >>> model.compile()

    References:
        - Saadatinia et al., §3.2 (the utterance encoder and head).
        - Poria et al., "Context-dependent sentiment analysis in
          user-generated videos", ACL 2017 (utterances in their video's context).
    """

    OUTPUT_NAME = "sentiment_logits"
    BATCHES_ROWS = False  # rows come grouped by video (a `VideoView`, raw data: `prepare`); arrays as they are
    OPTIONS = ("context_dim", "context_blocks", "context_heads", "context_intermediate_dim", "context_dropout")

    def __init__(self, backbone, head_units=(64, 32), head_dropout=0.3, preprocessor=None, context_dim=32,
                 context_blocks=1, context_heads=4, context_intermediate_dim=256, context_dropout=0.3, **kwargs):
        super().__init__(
            backbone, head_units, head_dropout, preprocessor, context_dim=context_dim,
            context_blocks=context_blocks, context_heads=context_heads,
            context_intermediate_dim=context_intermediate_dim, context_dropout=context_dropout, **kwargs,
        )

    def assemble(self, backbone, head_units, head_dropout, context_dim, context_blocks, context_heads,
                 context_intermediate_dim, context_dropout):
        inputs = video_inputs(backbone.feature_dims)
        utterances = UtteranceDistributed(backbone, name="utterance_encoder")(inputs)
        present = inputs[UTTERANCE_MASK]
        context = ModalityTransformerEncoder(
            hidden_dim=context_dim, num_blocks=context_blocks, num_heads=context_heads,
            intermediate_dim=context_intermediate_dim, dropout=context_dropout, return_sequences=True,
            name="context_encoder",
        )(utterances, mask=present)
        # The head reads each utterance and its context side by side.
        both = keras.layers.Concatenate(name="utterance_and_context")([utterances, context])
        logits = sentiment_head(both, head_units, head_dropout, "utterance_logit", mask=present)
        # An op, not a layer: the utterance mask (the loss reads padding from
        # the labels, -1) ends here without Keras warning that it is dropped.
        return inputs, keras.ops.squeeze(logits, axis=-1)

    def prepare(self, x, y=None, training=False):
        """Raw data (`raw_dataset`) through the preprocessor, grouped by video
        (`video_view`, utterances in `segment_index` order, labels inside),
        which `fit` feeds in batches of whole videos; anything else as it is."""
        dataset = raw_dataset(x)
        if dataset is None:
            return x, y
        labels = self.targets(dataset).reshape(-1).astype("int64") if y is None else y
        return video_view(self.preprocess(dataset), dataset.video_ids, dataset.segment_index, labels), None

    def model_inputs(self, x):
        """Raw data (`raw_dataset`) through the preprocessor, grouped by
        video: `predict` gives one logit per segment `(N, 1)`, in the data's
        row order, each read in its video. Anything else as it is."""
        dataset = raw_dataset(x)
        if dataset is None:
            return x
        return video_view(self.preprocess(dataset), dataset.video_ids, dataset.segment_index)

    def default_loss(self):
        return LabelledBinaryCrossentropy()

    def default_metrics(self):
        return [LabelledBinaryAccuracy()]
