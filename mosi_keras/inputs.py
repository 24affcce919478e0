"""The model-input contract in one place: the names under which the data
pipeline writes a model's inputs and every model reads them, the label of an
unlabelled row, and the default sequence length.

Every other module imports these from here (`mosi_keras.data` and the
tokenizer re-export the ones they always exported).
"""

MAX_LEN = 30
"""Steps a modality's sequence is padded or cut to, and words a transcript
keeps: the paper's length (§4.2)."""

MASK_SUFFIX = "_mask"


def mask_name(modality):
    """Name of the padding-mask input of `modality`: `"<modality>_mask"`
    (int32, 1 on valid steps)."""
    return f"{modality}{MASK_SUFFIX}"


def is_mask_name(name):
    """Whether `name` is a padding-mask input (see `mask_name`)."""
    return name.endswith(MASK_SUFFIX)


TEXT = "text"
"""The text modality; with a text encoder it is read from `TOKEN_INPUTS`
in place of a feature array."""

TOKEN_INPUTS = {"token_ids": "text_token_ids", "padding_mask": "text_padding_mask", "word_index": "text_word_index"}
"""Each array a `TranscriptTokenizer` returns → the model input it feeds (a `Preprocessor`
with a `text_tokenizer` writes them; a `MultimodalBackbone` with a `text_encoder` reads them)."""

UTTERANCE_MASK = "utterance_mask"
"""The input of a video-level model that marks a video's real utterances (1) and its padding (0)."""

SAMPLE_INDEX = "sample_index"
"""The input that names each row of a batch by its row in the training set,
for the per-row targets of `SemiSupervisedDEC(target_rows=...)`."""

UNLABELLED = -1
"""The label that marks a sample as unlabelled (any negative label does)."""
