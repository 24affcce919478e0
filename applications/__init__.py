"""The paper's models, assembled from `mosi_keras` layers with the functional API.

A `MultimodalBackbone` (one Transformer encoder per modality, fused) and the
tasks built on it: `SentimentClassifier` (§3.2), `SentimentRegressor` (the
score, as MulT/MMSA report it) and `SemiSupervisedDEC` (§3.3, with a
`MultimodalDecoder`), plus the DEC callbacks. The machinery that runs the
paper's experiments is `applications.experiments`.
"""

from applications.callbacks import AssignmentChangeStopping, TargetRefresh
from applications.multimodal_backbone import MultimodalBackbone, model_inputs
from applications.multimodal_decoder import MultimodalDecoder
from applications.semi_supervised_dec import SemiSupervisedDEC
from applications.sentiment_classifier import SentimentClassifier
from applications.sentiment_regressor import SentimentRegressor
from applications.sentiment_task import SentimentTask

__all__ = [
    "AssignmentChangeStopping",
    "MultimodalBackbone",
    "MultimodalDecoder",
    "SemiSupervisedDEC",
    "SentimentClassifier",
    "SentimentRegressor",
    "SentimentTask",
    "TargetRefresh",
    "model_inputs",
]
