"""mosi_keras: Keras 3 components for multimodal sentiment classification
with semi-supervised deep embedded clustering (DEC) pre-training."""

from mosi_keras import layers, losses
from mosi_keras.layers import (
    ClusteringLayer,
    ModalityTransformerEncoder,
    MultiHeadSelfAttention,
    PositionalEncoding,
)

__version__ = "0.3.0"

__all__ = [
    "ClusteringLayer",
    "ModalityTransformerEncoder",
    "MultiHeadSelfAttention",
    "PositionalEncoding",
    "layers",
    "losses",
]
