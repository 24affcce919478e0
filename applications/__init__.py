"""The paper's models, assembled from `mosi_keras` layers with the functional API.

A `MultimodalBackbone` (one Transformer encoder per modality, fused) and the
tasks built on it: `SentimentClassifier` (§3.2), `SentimentRegressor` (the
score, as MulT/MMSA report it), `SemiSupervisedDEC` (§3.3, with a
`MultimodalDecoder`) and `ContextualSentimentClassifier` (the same
utterance encoder read in its video's context, beyond the paper), plus the
DEC callbacks and `SentimentEnsemble` (several tasks' mean prediction). The machinery that runs the
paper's experiments is `applications.experiments`.
"""

import importlib

_EXPORTS = {
    "AssignmentChangeStopping": "applications.callbacks",
    "TargetRefresh": "applications.callbacks",
    "ContextualSentimentClassifier": "applications.contextual_sentiment_classifier",
    "MultimodalBackbone": "applications.multimodal_backbone",
    "model_inputs": "applications.multimodal_backbone",
    "MultimodalDecoder": "applications.multimodal_decoder",
    "SAMPLE_INDEX": "applications.semi_supervised_dec",
    "SemiSupervisedClassifier": "applications.semi_supervised_classifier",
    "SemiSupervisedDEC": "applications.semi_supervised_dec",
    "SentimentClassifier": "applications.sentiment_classifier",
    "SentimentEnsemble": "applications.sentiment_ensemble",
    "SentimentRegressor": "applications.sentiment_regressor",
    "SentimentTask": "applications.sentiment_task",
}
"""Each public name and its module, imported on first use (PEP 562), so that
`mosi-keras --help` answers without loading Keras and TensorFlow.

Importing a class registers it (and what it is built from) for
`keras.saving.load_model`: `from applications import SentimentClassifier`
before loading a file that holds one (`mosi-keras evaluate` and
`applications.experiments.inference.load_task` import them all)."""

__all__ = sorted(_EXPORTS)


def __getattr__(name):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'applications' has no attribute {name!r}")
    value = getattr(importlib.import_module(_EXPORTS[name]), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_EXPORTS))
