"""Per-word text features from a keras-hub encoder, with the whole transcript as context.

Needs the `text` extra (`pip install -e ".[text]"`: keras-hub); the rest of
the kit works without it.
"""

import keras
import numpy as np

from mosi_keras.data.atomic import write_atomically
from mosi_keras.data.dataset import DataError
from mosi_keras.data.kit_format import arrays_to_dataset, decode_strings, read_arrays, write_arrays
from mosi_keras.inputs import MAX_LEN
from mosi_keras.layers.encoder_states import encoder_word_states
from mosi_keras.text_encoder import load_text_encoder
from mosi_keras.transcript_tokenizer import MAX_TOKENS, TranscriptTokenizer

def word_encoder(backbone, max_words=MAX_LEN):
    """A functional model: `token_ids`, `padding_mask`, `word_index` in,
    `(batch, max_words, hidden)` word vectors out (the backbone's last
    states averaged over each word's pieces: `encoder_word_states`, the graph the
    backbone's text is)."""
    inputs = {name: keras.Input((None,), dtype="int32", name=name)
              for name in ("token_ids", "padding_mask", "word_index")}
    words = encoder_word_states(backbone, inputs["token_ids"], inputs["padding_mask"], inputs["word_index"], max_words)
    return keras.Model(inputs, words, name="word_encoder")


class TextFeaturizer:
    """Per-word vectors of transcripts from a keras-hub text encoder.

    Each transcript is split into words and word pieces by a
    `TranscriptTokenizer` (`[CLS]`, every piece in order, `[SEP]`, at most
    `max_tokens`), so every word's vector sees the whole transcript; a
    word's vector is the mean of its pieces' last states. This is how
    `cmu_mosi_words_minilm.npz` was made, with PyTorch, from the same
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

    def __init__(self, backbone, tokenizer, max_words=MAX_LEN, max_tokens=MAX_TOKENS):
        self.tokenizer = TranscriptTokenizer(tokenizer, max_words, max_tokens)
        self.backbone = backbone
        self.max_words = self.tokenizer.max_words
        self.model = word_encoder(backbone, self.max_words)
        self.hidden_dim = int(self.model.output.shape[-1])

    @classmethod
    def from_preset(cls, folder, **kwargs):
        """A featurizer on the encoder of a local preset folder (`load_text_encoder`)."""
        return cls(*load_text_encoder(folder), **kwargs)

    def __call__(self, transcripts):
        inputs, lengths = self.tokenizer(list(transcripts))
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
