"""mosi_keras: Keras 3 components for multimodal sentiment classification
with semi-supervised deep embedded clustering (DEC) pre-training."""

from mosi_keras import layers, losses, metrics, optimizers  # importing them registers them for loading
from mosi_keras.layers import (
    ClusteringLayer,
    ModalityTransformerEncoder,
    MultiHeadSelfAttention,
    PositionalEncoding,
    UtteranceDistributed,
)

__version__ = "0.17.0"

__all__ = [
    "ClusteringLayer",
    "ModalityTransformerEncoder",
    "MultiHeadSelfAttention",
    "PositionalEncoding",
    "UtteranceDistributed",
    "layers",
    "losses",
    "metrics",
    "optimizers",
]
