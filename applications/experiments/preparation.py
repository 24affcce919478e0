"""One seed's data: the video-grouped split, the preprocessing fitted on its training rows, the model inputs."""

import dataclasses

import numpy as np

from applications.experiments.config import LABEL_FRACTION
from mosi_keras.data import DataError, MultimodalDataset, Preprocessor, binary_labels, semi_supervised_split
from mosi_keras.data.dataset import concatenate_padded
from mosi_keras.data.video import video_view
from mosi_keras.inputs import MAX_LEN, TEXT, TOKEN_INPUTS, UNLABELLED
from mosi_keras.transcript_tokenizer import TranscriptTokenizer


@dataclasses.dataclass
class PreparedExperiment:
    """The split, the fitted preprocessing and the model inputs of one seed."""

    split: object
    preprocessor: Preprocessor
    inputs: dict
    sentiment: np.ndarray
    max_len: int
    video_ids: np.ndarray = None
    segment_index: np.ndarray = None
    text_states: dict = None  # with a text encoder, for DEC: its word states of every row (`text_states.py`)

    @property
    def feature_dims(self):
        """dict modality → feature width of the scaled modalities (not the
        text a `text_tokenizer` reads from transcripts), in the data's order."""
        return self.preprocessor.feature_dims

    @property
    def labels(self):
        """Binary labels of every row (`binary_labels`)."""
        return binary_labels(self.sentiment)

    def rows(self, indices):
        return {k: v[indices] for k, v in self.inputs.items()}

    def labelled(self, part, scores=False):
        """`(inputs, targets)` of the labelled `"train"` or `"val"` rows;
        targets are binary labels, or sentiment scores with `scores=True`."""
        indices = {"train": self.split.labelled_train, "val": self.split.labelled_val}[part]
        return self.rows(indices), (self.sentiment if scores else self.labels)[indices]

    @property
    def labelled_train(self):
        return self.labelled("train")

    @property
    def labelled_val(self):
        return self.labelled("val")

    def semi_supervised_labels(self):
        """Binary labels of the labelled rows, `UNLABELLED` elsewhere."""
        semi = np.full(len(self.sentiment), UNLABELLED)
        for part in (self.split.labelled_train, self.split.labelled_val):
            semi[part] = self.labels[part]
        return semi

    def videos(self, rows, labels=True):
        """A `VideoView` of `rows` (video-level models), with their binary labels."""
        return video_view(self.inputs, self.video_ids, self.segment_index,
                          self.labels if labels else None, rows=rows)

    @property
    def dec_feature_dims(self):
        """dict modality → feature width of what DEC pre-training reads:
        with `text_states`, the text's word states first."""
        if self.text_states is None:
            return self.feature_dims
        return {TEXT: self.text_states[TEXT].shape[-1], **self.feature_dims}

    def dec_rows(self, indices):
        """Rows of what DEC pre-training reads: the model inputs, or, with
        `text_states`, those states in place of the text encoder's tokens."""
        if self.text_states is None:
            return self.rows(indices)
        inputs = {**self.text_states, **{k: v for k, v in self.inputs.items() if k not in TOKEN_INPUTS.values()}}
        return {k: v[indices] for k, v in inputs.items()}

    @property
    def pretrain_train(self):
        return self.dec_rows(self.split.train), self.semi_supervised_labels()[self.split.train]

    @property
    def pretrain_val(self):
        return self.dec_rows(self.split.val), self.semi_supervised_labels()[self.split.val]


def with_unlabelled(dataset, unlabelled):
    """`dataset` with the rows of `unlabelled` after its own, their labels
    dropped (sentiment 0, never read: only the split's unlabelled training
    part holds them) and their videos renamed `unlabelled:<video>` (no
    video of both), each modality padded to the longer of the two.

    Raises:
        DataError: naming the file and the modality whose names or widths
            differ, or the transcripts one has and the other lacks.
    """
    where = f"--unlabelled {unlabelled.source}"
    if unlabelled.feature_dims != dataset.feature_dims:
        raise DataError(f"{where}: modalities {unlabelled.feature_dims} differ from the data's {dataset.feature_dims} "
                        f"({dataset.source}); give the same modalities with the same widths.")
    if (unlabelled.transcripts is None) != (dataset.transcripts is None):
        has, lacks = (dataset, unlabelled) if unlabelled.transcripts is None else (unlabelled, dataset)
        raise DataError(f"{where}: {has.source} has transcripts and {lacks.source} has none; give both or neither.")

    def joined(a, b):
        return None if a is None or b is None else np.concatenate([a, b])

    return MultimodalDataset(
        modalities={name: concatenate_padded([dataset.modalities[name], unlabelled.modalities[name]])
                    for name in dataset.modalities},
        lengths={name: np.concatenate([dataset.lengths[name], unlabelled.lengths[name]]) for name in dataset.lengths},
        sentiment=np.concatenate([dataset.sentiment, np.zeros(len(unlabelled), dataset.sentiment.dtype)]),
        ids=np.concatenate([dataset.ids.astype(str), unlabelled.ids.astype(str)]),
        video_ids=np.concatenate([dataset.video_ids.astype(str),
                                  np.char.add("unlabelled:", unlabelled.video_ids.astype(str))]),
        source=dataset.source, segment_index=joined(dataset.segment_index, unlabelled.segment_index),
        transcripts=joined(dataset.transcripts, unlabelled.transcripts),
    )


def prepare_experiment(dataset, label_fraction=LABEL_FRACTION, seed=0, text_encoder=None, unlabelled=None):
    """Splits by video, fits the preprocessing on the training rows only and
    transforms every row; the same for every experiment of a seed. With
    `text_encoder` (a preset folder), the text is read from the
    transcripts by its tokenizer (`TranscriptTokenizer`, `max_len` words).
    With `unlabelled` (a dataset, its labels never read), its rows join the
    unlabelled training part after the split of `dataset`'s own, which
    they leave unchanged (`with_unlabelled`)."""
    split = semi_supervised_split(dataset.video_ids, label_fraction, seed=seed)
    if unlabelled is not None:
        extra = np.arange(len(dataset), len(dataset) + len(unlabelled))
        dataset = with_unlabelled(dataset, unlabelled)
        split = dataclasses.replace(split, unlabelled_train=np.concatenate([split.unlabelled_train, extra]))
    # Pad/truncate to the paper's 30 steps, or fewer when the data is shorter
    # (utterance-level features stay at length 1).
    longest = max(array.shape[1] for array in dataset.modalities.values())
    max_len = min(MAX_LEN, longest)
    tokenizer = None if text_encoder is None else TranscriptTokenizer.from_preset(text_encoder, max_words=max_len)
    preprocessor = Preprocessor(max_len, tokenizer).fit(dataset.subset(split.train))
    return PreparedExperiment(split, preprocessor, preprocessor.transform(dataset), dataset.sentiment, max_len,
                              dataset.video_ids, dataset.segment_index)
