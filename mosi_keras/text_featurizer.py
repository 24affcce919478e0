"""Per-word text features from a keras-hub encoder, with the whole transcript as context.

Needs the `text` extra (`pip install -e ".[text]"`: keras-hub); the rest of
the kit works without it.
"""

import os
import re

import keras
import numpy as np

from mosi_keras.data.atomic import write_atomically
from mosi_keras.data.dataset import DataError
from mosi_keras.data.kit_format import arrays_to_dataset, decode_strings, read_arrays, write_arrays
from mosi_keras.layers.word_piece_pooling import WordPiecePooling

WORD = re.compile(r"[a-z0-9']+")
MAX_WORDS = 30
MAX_TOKENS = 128


class TextEncoderError(ValueError):
    """A text encoder that cannot be used: keras-hub missing, a folder that
    is not a preset, an architecture keras-hub cannot load."""


def transcript_words(transcript, max_words=MAX_WORDS):
    """The words of a transcript as the shared files split them: lower-cased
    runs of letters, digits and apostrophes, the first `max_words`; `["."]`
    for a transcript with none."""
    return WORD.findall(str(transcript).lower())[:max_words] or ["."]


def _keras_hub():
    try:
        import keras_hub
    except ImportError:
        raise TextEncoderError(
            "text features need keras-hub: install the text extra, pip install -e '.[text]'"
        ) from None
    return keras_hub


def load_text_encoder(folder):
    """The backbone and tokenizer of a local keras-hub or Hugging Face
    preset folder (never a download).

    Raises:
        TextEncoderError: no such folder, a folder that is not a preset
            (no `config.json` / `metadata.json`), or one keras-hub cannot
            load (the message names the folder and keras-hub's reason).
    """
    folder = os.fspath(folder)
    if not os.path.isdir(folder):
        raise TextEncoderError(f"{folder}: no such encoder folder (give a local preset folder).")
    if not any(os.path.exists(os.path.join(folder, name)) for name in ("config.json", "metadata.json")):
        raise TextEncoderError(
            f"{folder}: not a keras-hub or Hugging Face preset folder (no config.json or metadata.json); "
            f"it holds {sorted(os.listdir(folder))[:8]}."
        )
    keras_hub = _keras_hub()
    try:
        backbone = keras_hub.models.Backbone.from_preset(folder)
        tokenizer = keras_hub.tokenizers.Tokenizer.from_preset(folder)
    except Exception as error:  # keras-hub raises ValueError, KeyError, ... by architecture
        raise TextEncoderError(f"{folder}: keras-hub cannot load this encoder: {error}") from None
    for token in ("cls_token_id", "sep_token_id"):
        if getattr(tokenizer, token, None) is None:
            raise TextEncoderError(
                f"{folder}: its tokenizer ({type(tokenizer).__name__}) has no {token}; a BERT-style "
                "word-piece encoder is needed."
            )
    return backbone, tokenizer


def word_encoder(backbone, max_words=MAX_WORDS):
    """A functional model: `token_ids`, `padding_mask`, `word_index` in,
    `(batch, max_words, hidden)` word vectors out (the backbone's last
    states averaged over each word's pieces, `WordPiecePooling`)."""
    inputs = {name: keras.Input((None,), dtype="int32", name=name)
              for name in ("token_ids", "padding_mask", "word_index")}
    feed = {"token_ids": inputs["token_ids"], "padding_mask": inputs["padding_mask"]}
    if "segment_ids" in backbone.input:
        feed["segment_ids"] = keras.ops.zeros_like(inputs["token_ids"])
    states = backbone(feed)
    if isinstance(states, dict):
        states = states["sequence_output"]
    words = WordPiecePooling(max_words, name="word_piece_pooling")(states, inputs["word_index"])
    return keras.Model(inputs, words, name="word_encoder")


class TextFeaturizer:
    """Per-word vectors of transcripts from a keras-hub text encoder.

    Each transcript is split into words (`transcript_words`), each word
    into its word pieces; the encoder reads `[CLS]`, every piece in order,
    `[SEP]` (at most `max_tokens`), so every word's vector sees the whole
    transcript; a word's vector is the mean of its pieces' last states. This
    is how `cmu_mosi_words_minilm.npz` was made, with PyTorch, from the same
    MiniLM weights.

    Args:
        backbone: a keras-hub backbone (BERT family: `token_ids`,
            `padding_mask`, optional `segment_ids` in; `sequence_output` out).
        tokenizer: its word-piece tokenizer.
        max_words: words kept per transcript (the text modality's `T`).
        max_tokens: encoder tokens per transcript, `[CLS]` and `[SEP]`
            included; pieces past it are cut.

    Call arguments:
        transcripts: a sequence of strings.

    Returns:
        `(vectors, lengths)`: float32 `(n, max_words, hidden)` word vectors,
        zero after each row's words, and int32 `(n,)` word counts.

    Example:

    ```python
    featurizer = TextFeaturizer.from_preset("minilm/")  # a local folder
    vectors, lengths = featurizer(["i loved this movie", "not for me"])
    ```
    """

    def __init__(self, backbone, tokenizer, max_words=MAX_WORDS, max_tokens=MAX_TOKENS):
        if max_tokens < 3:
            raise ValueError(f"`max_tokens` must leave room for [CLS], a piece and [SEP], got {max_tokens}.")
        self.backbone = backbone
        self.tokenizer = tokenizer
        self.max_words = int(max_words)
        self.max_tokens = int(max_tokens)
        self.model = word_encoder(backbone, self.max_words)
        self.hidden_dim = int(self.model.output.shape[-1])

    @classmethod
    def from_preset(cls, folder, **kwargs):
        """A featurizer on the encoder of a local preset folder (`load_text_encoder`)."""
        return cls(*load_text_encoder(folder), **kwargs)

    def tokenize(self, transcripts):
        """`token_ids`, `padding_mask`, `word_index` (int32 `(n, tokens)`,
        padded to the longest row) and the word counts `(n,)`."""
        words = [transcript_words(transcript, self.max_words) for transcript in transcripts]
        pieces = self.tokenizer([word for row in words for word in row])
        pieces = iter(pieces.tolist() if hasattr(pieces, "tolist") else pieces)
        rows, owners = [], []
        for row in words:
            ids, owner = [self.tokenizer.cls_token_id], [-1]
            for position in range(len(row)):
                kept = list(next(pieces))[: self.max_tokens - 1 - len(ids)]
                ids += kept
                owner += [position] * len(kept)
            rows.append(ids + [self.tokenizer.sep_token_id])
            owners.append(owner + [-1])
        width = max(len(ids) for ids in rows)
        token_ids = np.zeros((len(rows), width), "int32")
        word_index = np.full((len(rows), width), -1, "int32")
        for i, (ids, owner) in enumerate(zip(rows, owners)):
            token_ids[i, : len(ids)] = ids
            word_index[i, : len(owner)] = owner
        padding_mask = (np.arange(width)[None, :] < np.array([len(ids) for ids in rows])[:, None]).astype("int32")
        lengths = np.array([max(owner) + 1 for owner in owners], "int32")
        return {"token_ids": token_ids, "padding_mask": padding_mask, "word_index": word_index}, lengths

    def __call__(self, transcripts):
        inputs, lengths = self.tokenize(list(transcripts))
        vectors = keras.ops.convert_to_numpy(self.model(inputs, training=False)).astype("float32")
        return vectors, lengths  # zero past each row's words: they have no pieces to average


def featurize_file(path, featurizer, out, batch_size=32, verbose=1):
    """Writes a copy of a kit-layout file (`.npz` / HDF5) with its `text`
    modality computed from its `transcript` array by `featurizer`.

    Every other array (audio, visual, ids, sentiment, transcript) is copied
    unchanged; `text` becomes float32 `(N, max_words, hidden)` with
    `text_lengths`. Transcripts go through the encoder `batch_size` at a
    time: memory holds the file's arrays, the new `text` array and one
    batch's encoder states, which do not grow with the file.

    Raises:
        DataError: the file has no `transcript` array, or its rows do not
            match its other arrays.
    """
    arrays = read_arrays(path)
    if "transcript" not in arrays:
        raise DataError(f"{path}: no 'transcript' array to compute text features from (keys: {sorted(arrays)}).")
    transcripts = decode_strings(arrays["transcript"])
    if transcripts.ndim != 1:
        raise DataError(f"{path}: 'transcript' has shape {transcripts.shape}; one string per segment, (N,).")
    n = len(transcripts)
    vectors = np.zeros((n, featurizer.max_words, featurizer.hidden_dim), "float32")
    lengths = np.zeros(n, "int32")
    progress = keras.utils.Progbar(n, verbose=verbose, unit_name="segment")
    for start in range(0, n, batch_size):
        stop = min(start + batch_size, n)
        vectors[start:stop], lengths[start:stop] = featurizer(transcripts[start:stop])
        progress.update(stop)
    arrays["text"], arrays["text_lengths"] = vectors, lengths
    arrays_to_dataset(arrays, str(path), require_sentiment=False)  # the rows agree before anything is written
    write_atomically(out, lambda partial: write_arrays(arrays, partial))  # never a half-written file
    return arrays
