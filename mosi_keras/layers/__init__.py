"""Reusable layers: positional encoding, self-attention, per-modality encoder, DEC clustering, per-utterance wrapper,
word dropout, word-piece pooling, a text encoder's states, repetition to a length, the ensemble average."""

from mosi_keras.layers.clustering import ClusteringLayer
from mosi_keras.layers.encoder_states import encoder_states, encoder_word_states
from mosi_keras.layers.ensemble_average import EnsembleAverage
from mosi_keras.layers.modality_transformer_encoder import ModalityTransformerEncoder
from mosi_keras.layers.multi_head_self_attention import MultiHeadSelfAttention
from mosi_keras.layers.positional_encoding import PositionalEncoding
from mosi_keras.layers.repeat_to_length import RepeatToLength
from mosi_keras.layers.utterance_distributed import UtteranceDistributed
from mosi_keras.layers.word_dropout import WordDropout
from mosi_keras.layers.word_piece_pooling import WordPiecePooling

__all__ = ["ClusteringLayer", "EnsembleAverage", "ModalityTransformerEncoder", "MultiHeadSelfAttention",
           "PositionalEncoding", "RepeatToLength", "UtteranceDistributed", "WordDropout", "WordPiecePooling",
           "encoder_states", "encoder_word_states"]
