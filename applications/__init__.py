"""The paper's models, assembled from `mosi_keras` layers with the functional API."""

from applications.autoencoder import build_multimodal_autoencoder, build_multimodal_decoder
from applications.callbacks import AssignmentChangeStopping, TargetRefresh
from applications.semi_supervised_dec import SemiSupervisedDEC
from applications.sentiment_classifier import (
    build_model_inputs,
    build_multimodal_encoder,
    build_sentiment_classifier,
    mask_name,
)

__all__ = [
    "AssignmentChangeStopping",
    "SemiSupervisedDEC",
    "TargetRefresh",
    "build_model_inputs",
    "build_multimodal_autoencoder",
    "build_multimodal_decoder",
    "build_multimodal_encoder",
    "build_sentiment_classifier",
    "mask_name",
]
