"""The paper's multimodal encoder as a keras-hub style backbone (§3.2)."""

import inspect

import keras

from mosi_keras.layers import ModalityTransformerEncoder, WordDropout, encoder_states, encoder_word_states
from mosi_keras.text_encoder import keras_hub_module
from mosi_keras.inputs import MAX_LEN, TEXT, TOKEN_INPUTS, mask_name

TEXT_OUTPUTS = ("words", "pooled")
DATA_ARGUMENTS = ("feature_dims", "max_len", "text_encoder", "name")
"""`MultimodalBackbone`'s arguments that come from the data or are objects, not hyper-parameters."""


def backbone_hyperparameters():
    """`MultimodalBackbone`'s hyper-parameters and their defaults, read from
    its signature (every argument but `DATA_ARGUMENTS`): a run's
    configuration holds them as its `backbone` section, so a new argument
    of the backbone is a new hyper-parameter of every run without being
    written anywhere else."""
    parameters = inspect.signature(MultimodalBackbone.__init__).parameters.values()
    return {parameter.name: parameter.default for parameter in parameters
            if parameter.name not in ("self", *DATA_ARGUMENTS) and parameter.kind is parameter.POSITIONAL_OR_KEYWORD}


def encode_modality(modality, features, mask, encoder, feature_noise=0.0, word_dropout=0.0, modality_dropout=0.0):
    """One modality's pooled embedding: its `ModalityTransformerEncoder`
    (`encoder`: its arguments) on the `features` and padding `mask`
    symbols, with the training-time perturbations that are on (Gaussian
    noise on the features, `WordDropout` on the mask, a whole embedding
    dropped), each layer named after the modality."""
    if feature_noise:
        features = keras.layers.GaussianNoise(feature_noise, name=f"{modality}_feature_noise")(features)
    if word_dropout:
        mask = WordDropout(word_dropout, name=f"{modality}_word_dropout")(mask)
    embedding = ModalityTransformerEncoder(**encoder, name=f"{modality}_encoder")(features, mask=mask)
    if modality_dropout:
        embedding = keras.layers.Dropout(modality_dropout, noise_shape=(None, 1),
                                         name=f"{modality}_modality_dropout")(embedding)
    return embedding


def check_hyperparameters(text_output="words", text_frozen_layers=0, **others):
    """Raises `ValueError` naming a value `MultimodalBackbone` cannot take
    (checked before anything is built, also by a run's configuration)."""
    if text_output not in TEXT_OUTPUTS:
        raise ValueError(f"text_output must be one of {list(TEXT_OUTPUTS)}, got {text_output!r}.")
    if text_frozen_layers < 0:
        raise ValueError(f"text_frozen_layers must be 0 or more, got {text_frozen_layers}.")


def model_inputs(feature_dims, max_len=None):
    """One feature input `(T, d)` and one padding-mask input `(T,)` per modality.

    The time axis is free (`None`): a batch may be padded to any length up
    to `max_len`, e.g. only to its own longest member
    (`mosi_keras.data.LengthBucketedBatches`). Only utterance-level data
    (`max_len=1`) gets a fixed length of 1, which lets attention skip its
    scores (one key: every weight is 1).

    Masks are int32 (1 on valid steps, 0 on padding), as keras-hub's
    `padding_mask`; boolean arrays are converted on a single device, but
    `tf.distribute` strategies need integer masks.
    """
    time = 1 if max_len == 1 else None
    inputs = {}
    for modality, dim in feature_dims.items():
        inputs[modality] = keras.Input((time, dim), name=modality)
        inputs[mask_name(modality)] = keras.Input((time,), dtype="int32", name=mask_name(modality))
    return inputs


def freeze_lower_layers(encoder, count):
    """Freezes a keras-hub encoder's embeddings and its first `count`
    Transformer layers (`transformer_layer_<i>`); `0` leaves them trainable.
    Its pooler (`pooled_dense`, which the backbone does not read) is frozen
    either way, so that no weight is left without a gradient."""
    for layer in encoder.layers:
        index = layer.name.removeprefix("transformer_layer_")
        if layer.name == "pooled_dense" or (count and not (index.isdigit() and int(index) >= count)):
            layer.trainable = False


def read_text(text_encoder, inputs, max_len, text_output, hidden_dim):
    """The text read from word pieces by `text_encoder`: adds the token
    inputs (`TOKEN_INPUTS`) to `inputs` and returns, for `text_output="words"`,
    `(word states, word mask)` (each word the mean of its pieces' states) for
    a modality encoder, or for `"pooled"` the mean of the pieces' states
    projected to `hidden_dim`, the text's embedding."""
    tokens = {name: keras.Input((None,), dtype="int32", name=name) for name in TOKEN_INPUTS.values()}
    inputs.update(tokens)
    token_ids, padding_mask, word_index = (
        tokens[TOKEN_INPUTS[name]] for name in ("token_ids", "padding_mask", "word_index"))
    if text_output == "words":
        return encoder_word_states(text_encoder, token_ids, padding_mask, word_index, max_len or MAX_LEN,
                                   return_mask=True)
    states = encoder_states(text_encoder, token_ids, padding_mask)
    pooled = keras.layers.GlobalAveragePooling1D(name="text_pooling")(states, mask=keras.ops.cast(padding_mask, "bool"))
    return keras.layers.Dense(hidden_dim, name="text_projection")(pooled)


@keras.saving.register_keras_serializable(package="mosi_keras")
class MultimodalBackbone(keras.Model):
    """One `ModalityTransformerEncoder` per modality, mean-pooled and concatenated.

    The shared trunk of every task in `applications`: the sentiment
    classifier and regressor put a head on it, `SemiSupervisedDEC` clusters
    its output. A functional model whose `get_config` holds its
    hyper-parameters, so a `.keras` file rebuilds it exactly; reusing a
    pre-trained backbone is passing it to a task.

    Args:
        feature_dims: dict modality → feature width, e.g.
            `{"text": 300, "audio": 74, "visual": 35}`. The order is the
            order of concatenation.
        max_len: the longest sequence it is meant for (the decoder emits that
            many steps); batches may be shorter. `None`: no limit. `1`:
            utterance-level vectors.
        hidden_dim: width of each modality's encoder, so `z` has
            `len(feature_dims) * hidden_dim` units. Defaults to `128`.
        num_blocks, num_heads, intermediate_dim: Transformer blocks per
            encoder, attention heads, feed-forward units (paper: 2, 4, 256).
        dropout: dropout inside the encoders. Defaults to `0.1`.
        word_dropout: probability of hiding each valid time step of each
            modality from its encoder during training (`WordDropout`).
            Defaults to `0.0`.
        modality_dropout: probability of zeroing each modality's pooled
            embedding of a row during training (a Keras `Dropout` with
            `noise_shape=(None, 1)`, so a whole embedding goes at once and
            the kept ones are scaled by `1 / (1 - rate)`), so that the head
            learns not to lean on one modality. Defaults to `0.0`.
        feature_noise: standard deviation of the Gaussian noise added to
            each modality's (scaled) features during training (Keras's
            `GaussianNoise`; with a `text_encoder`, to its word states
            too). Defaults to `0.0`. Off at inference, like the two
            above: together they are the perturbations of consistency
            training (`SemiSupervisedClassifier`).
        text_encoder: optional pre-trained keras-hub text backbone (BERT
            family, e.g. `keras_hub.models.BertBackbone.from_preset(folder)`)
            that reads the text from word-piece tokens, in place of a
            `text` feature array (then not in `feature_dims`): its inputs
            are `text_token_ids`, `text_padding_mask` and `text_word_index`
            (`mosi_keras.transcript_tokenizer.TranscriptTokenizer`, applied
            by a task's `Preprocessor`), and it is trained with the rest
            (fine-tuned) unless frozen. Its text embedding comes first in `z`.
        text_output: how the encoder's states become the text embedding:
            `"words"` (default): averaged per word (`WordPiecePooling`,
            `max_len` words) and read by a `ModalityTransformerEncoder` like
            the other modalities; `"pooled"`: their mean over the
            transcript's tokens, projected to `hidden_dim` by a Dense layer.
        text_frozen_layers: with a `text_encoder`, `0` (default) trains it
            all; `k` freezes its embeddings and its first `k` Transformer
            layers (`k` = its depth freezes it whole).

    Call arguments:
        inputs: dict with `<modality>` `(batch, T, d)` and `<modality>_mask`
            `(batch, T)` for every modality of `feature_dims`, and, with a
            `text_encoder`, `text_token_ids`, `text_padding_mask` and
            `text_word_index` `(batch, tokens)`.

    Returns:
        The joint embedding `z`, `(batch, len(modalities) * hidden_dim)`
        (`modalities`: `feature_dims`' and `"text"` with a `text_encoder`).

    Example:

    >>> backbone = MultimodalBackbone({"text": 300, "audio": 74, "visual": 35})
    >>> backbone.output.shape
    (None, 384)

    References:
        Saadatinia et al., §3.2 (Fig. 1, left of the head).
    """

    def __init__(
        self,
        feature_dims,
        max_len=None,
        hidden_dim=128,
        num_blocks=2,
        num_heads=4,
        intermediate_dim=256,
        dropout=0.1,
        word_dropout=0.0,
        modality_dropout=0.0,
        feature_noise=0.0,
        text_encoder=None,
        text_output="words",
        text_frozen_layers=0,
        name="multimodal_encoder",
        **kwargs,
    ):
        if text_encoder is not None and TEXT in feature_dims:
            raise ValueError(f"with a text_encoder the text is read from tokens: leave '{TEXT}' out of feature_dims "
                             f"(got {dict(feature_dims)}).")
        check_hyperparameters(text_output, text_frozen_layers)
        inputs = model_inputs(feature_dims, max_len)
        sequences = {modality: (inputs[modality], inputs[mask_name(modality)]) for modality in feature_dims}
        embeddings = []
        if text_encoder is not None:
            freeze_lower_layers(text_encoder, text_frozen_layers)
            text = read_text(text_encoder, inputs, max_len, text_output, hidden_dim)
            if text_output == "words":
                sequences = {TEXT: text, **sequences}
            else:
                embeddings.append(text)
        encoder = dict(hidden_dim=hidden_dim, num_blocks=num_blocks, num_heads=num_heads,
                       intermediate_dim=intermediate_dim, dropout=dropout)
        perturbations = dict(feature_noise=feature_noise, word_dropout=word_dropout, modality_dropout=modality_dropout)
        embeddings += [encode_modality(modality, features, mask, encoder, **perturbations)
                       for modality, (features, mask) in sequences.items()]
        joint = embeddings[0] if len(embeddings) == 1 else keras.layers.Concatenate(name="fusion")(embeddings)
        super().__init__(inputs=inputs, outputs=joint, name=name, **kwargs)
        self.feature_dims = dict(feature_dims)
        self.max_len = max_len
        self.hidden_dim = hidden_dim
        self.num_blocks = num_blocks
        self.num_heads = num_heads
        self.intermediate_dim = intermediate_dim
        self.dropout = dropout
        self.word_dropout = word_dropout
        self.modality_dropout = modality_dropout
        self.feature_noise = feature_noise
        self.text_encoder = text_encoder
        self.text_output = text_output
        self.text_frozen_layers = text_frozen_layers

    @property
    def modalities(self):
        """The modalities of `z`, in order (`"text"` first with a `text_encoder`)."""
        return ([TEXT] if self.text_encoder is not None else []) + list(self.feature_dims)

    def get_config(self):
        return {
            **super().get_config(),  # name, trainable, dtype policy
            "feature_dims": self.feature_dims,
            "max_len": self.max_len,
            "hidden_dim": self.hidden_dim,
            "num_blocks": self.num_blocks,
            "num_heads": self.num_heads,
            "intermediate_dim": self.intermediate_dim,
            "dropout": self.dropout,
            "word_dropout": self.word_dropout,
            "modality_dropout": self.modality_dropout,
            "feature_noise": self.feature_noise,
            "text_encoder": (None if self.text_encoder is None
                             else keras.saving.serialize_keras_object(self.text_encoder)),
            "text_output": self.text_output,
            "text_frozen_layers": self.text_frozen_layers,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if config.get("text_encoder") is not None:
            keras_hub_module()  # registers keras-hub's classes
            config["text_encoder"] = keras.saving.deserialize_keras_object(config["text_encoder"])
        return cls(**config)

    def clone(self):
        """A new backbone of the same configuration holding a copy of these
        weights (training one leaves the other as it was)."""
        twin = type(self).from_config(self.get_config())
        twin.set_weights(self.get_weights())
        return twin
