"""Transcripts to a word-piece encoder's inputs, each piece tagged with the word it belongs to.

Needs the `text` extra (`pip install -e ".[text]"`: keras-hub).
"""

import re

import keras
import numpy as np

from mosi_keras.inputs import MAX_LEN, TEXT, TOKEN_INPUTS  # noqa: F401  (TEXT, TOKEN_INPUTS: imported from here too)
from mosi_keras.text_encoder import TextEncoderError, keras_hub_module, load_text_tokenizer

WORD = re.compile(r"[a-z0-9']+")
MAX_TOKENS = 128


def transcript_words(transcript, max_words=MAX_LEN):
    """The words of a transcript as the shared files split them: lower-cased
    runs of letters, digits and apostrophes, the first `max_words`; `["."]`
    for a transcript with none."""
    return WORD.findall(str(transcript).lower())[:max_words] or ["."]


@keras.saving.register_keras_serializable(package="mosi_keras")
class TranscriptTokenizer:
    """Transcripts → `token_ids`, `padding_mask`, `word_index` for a BERT-style encoder.

    Each transcript is split into words (`transcript_words`), each word into
    its word pieces by a keras-hub tokenizer; a row is `[CLS]`, every piece
    in order, `[SEP]` (at most `max_tokens`), and `word_index` names the
    word of each piece (`-1` for `[CLS]`, `[SEP]` and padding), which
    `mosi_keras.layers.WordPiecePooling` averages per word. Rows are padded
    to the longest one. It serializes with its vocabulary (`get_config`), so
    a task's `Preprocessor` carries it in a `.keras` file.

    Args:
        tokenizer: a keras-hub word-piece tokenizer with `cls_token_id` and
            `sep_token_id` (e.g. `keras_hub.tokenizers.BertTokenizer`).
        max_words: words kept per transcript.
        max_tokens: tokens per transcript, `[CLS]` and `[SEP]` included;
            pieces past it are cut.

    Call arguments:
        transcripts: a sequence of strings.

    Returns:
        `(inputs, lengths)`: int32 `(n, tokens)` arrays `token_ids`,
        `padding_mask`, `word_index`, and int32 `(n,)` word counts.

    Example:

    ```python
    tokenizer = TranscriptTokenizer.from_preset("minilm/")  # a local folder
    inputs, lengths = tokenizer(["i loved this movie", "not for me"])
    ```
    """

    def __init__(self, tokenizer, max_words=MAX_LEN, max_tokens=MAX_TOKENS):
        if max_tokens < 3:
            raise ValueError(f"`max_tokens` must leave room for [CLS], a piece and [SEP], got {max_tokens}.")
        for token in ("cls_token_id", "sep_token_id"):
            if getattr(tokenizer, token, None) is None:
                raise TextEncoderError(
                    f"the tokenizer ({type(tokenizer).__name__}) has no {token}; a BERT-style word-piece "
                    "encoder is needed."
                )
        self.tokenizer = tokenizer
        self.max_words = int(max_words)
        self.max_tokens = int(max_tokens)

    @classmethod
    def from_preset(cls, folder, **kwargs):
        """The tokenizer of a local keras-hub or Hugging Face preset folder."""
        return cls(load_text_tokenizer(folder), **kwargs)

    def __call__(self, transcripts):
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

    def get_config(self):
        return {
            "tokenizer": keras.saving.serialize_keras_object(self.tokenizer),
            "vocabulary": list(self.tokenizer.get_vocabulary()),  # keras-hub keeps it out of its own config
            "max_words": self.max_words,
            "max_tokens": self.max_tokens,
        }

    @classmethod
    def from_config(cls, config):
        keras_hub_module()  # registers keras-hub's classes
        tokenizer = dict(config["tokenizer"])
        tokenizer["config"] = dict(tokenizer["config"], vocabulary=config["vocabulary"])
        return cls(keras.saving.deserialize_keras_object(tokenizer), config["max_words"], config["max_tokens"])
