"""The paper's multimodal encoder and baseline sentiment classifier (§3.2)."""

import keras

from mosi_keras.layers import ModalityTransformerEncoder


def mask_name(modality):
    """Name of the padding-mask input of `modality`."""
    return f"{modality}_mask"


def build_model_inputs(feature_dims, max_len=None):
    """One feature input `(T, d)` and one padding-mask input `(T,)` per modality.

    Masks are int32 (1 on valid steps, 0 on padding), as keras-hub's
    `padding_mask`; boolean arrays are converted on a single device, but
    `tf.distribute` strategies need integer masks.
    """
    inputs = {}
    for modality, dim in feature_dims.items():
        inputs[modality] = keras.Input((max_len, dim), name=modality)
        inputs[mask_name(modality)] = keras.Input((max_len,), dtype="int32", name=mask_name(modality))
    return inputs


def build_multimodal_encoder(
    feature_dims,
    max_len=None,
    hidden_dim=128,
    num_blocks=2,
    num_heads=4,
    intermediate_dim=256,
    dropout=0.1,
    name="multimodal_encoder",
):
    """One `ModalityTransformerEncoder` per modality, mean-pooled and concatenated.

    Args:
        feature_dims: dict modality → feature width, e.g.
            `{"text": 300, "audio": 74, "visual": 35}`. The order is the
            order of concatenation.
        max_len: sequence length, or `None` for any length.
        hidden_dim, num_blocks, num_heads, intermediate_dim, dropout: the
            encoders' hyper-parameters (paper: 2 blocks, 4 heads, 256 units).
        name: model name; the classifier and the DEC model find the encoder
            under it.

    Returns:
        A functional `keras.Model` from the inputs of `build_model_inputs` to
        the joint embedding `z` of shape `(batch, len(feature_dims) * hidden_dim)`.
    """
    inputs = build_model_inputs(feature_dims, max_len)
    embeddings = [
        ModalityTransformerEncoder(
            hidden_dim=hidden_dim,
            num_blocks=num_blocks,
            num_heads=num_heads,
            intermediate_dim=intermediate_dim,
            dropout=dropout,
            name=f"{modality}_encoder",
        )(inputs[modality], mask=inputs[mask_name(modality)])
        for modality in feature_dims
    ]
    joint = embeddings[0] if len(embeddings) == 1 else keras.layers.Concatenate(name="fusion")(embeddings)
    return keras.Model(inputs, joint, name=name)


def build_sentiment_classifier(
    feature_dims,
    max_len=None,
    hidden_dim=128,
    num_blocks=2,
    num_heads=4,
    intermediate_dim=256,
    dropout=0.1,
    head_units=(64, 32),
    head_dropout=0.3,
    encoder=None,
    name="sentiment_classifier",
):
    """The baseline classifier of §3.2: encoders → fusion → MLP head → one logit.

    The joint embedding goes through Dense → BatchNorm → ReLU → Dropout, then
    smaller ReLU Dense layers, then a Dense layer with one output: the
    sentiment logit (positive sentiment when > 0).

    The defaults give 874,625 parameters (trainable and not) for text 300 /
    audio 74 / visual 35 features: 2.7 % more than the paper's 851,713, which
    the paper does not break down. We chose `hidden_dim=128` (the width of
    each encoder, so `z` has 384 units) and a head of 384 → 64 → 32 → 1.

    Args:
        feature_dims: dict modality → feature width.
        max_len: sequence length, or `None` for any.
        hidden_dim, num_blocks, num_heads, intermediate_dim, dropout: see
            `build_multimodal_encoder`.
        head_units: widths of the head's hidden Dense layers; the first is
            followed by BatchNorm, ReLU and Dropout.
        head_dropout: dropout rate after the first head layer.
        encoder: an existing encoder (from `build_multimodal_encoder`) to
            reuse, e.g. one pre-trained by DEC; built fresh when `None`.
        name: model name.

    Returns:
        A functional `keras.Model` mapping the inputs dict to `(batch, 1)` logits.

    Example:

    >>> model = build_sentiment_classifier({"text": 300, "audio": 74, "visual": 35})
    >>> model.count_params()
    874625
    """
    if encoder is None:
        encoder = build_multimodal_encoder(
            feature_dims, max_len, hidden_dim, num_blocks, num_heads, intermediate_dim, dropout
        )
    inputs = build_model_inputs(feature_dims, max_len)
    x = encoder(inputs)
    x = keras.layers.Dense(head_units[0], name="head_dense_0")(x)
    x = keras.layers.BatchNormalization(name="head_batch_norm")(x)
    x = keras.layers.ReLU(name="head_relu")(x)
    x = keras.layers.Dropout(head_dropout, name="head_dropout")(x)
    for index, units in enumerate(head_units[1:], start=1):
        x = keras.layers.Dense(units, activation="relu", name=f"head_dense_{index}")(x)
    logit = keras.layers.Dense(1, name="sentiment_logit", dtype="float32")(x)
    return keras.Model(inputs, logit, name=name)
