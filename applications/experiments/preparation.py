"""One seed's data: the video-grouped split, the preprocessing fitted on its training rows, the model inputs."""

import dataclasses

import numpy as np

from applications.experiments.config import LABEL_FRACTION
from mosi_keras.data import Preprocessor, binary_labels, is_mask_name, semi_supervised_split
from mosi_keras.data.video import video_view
from mosi_keras.losses import UNLABELLED

PAPER_MAX_LEN = 30


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

    @property
    def feature_dims(self):
        """dict modality → feature width, in the inputs' order."""
        return {name: value.shape[-1] for name, value in self.inputs.items() if not is_mask_name(name)}

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
    def pretrain_train(self):
        return self.rows(self.split.train), self.semi_supervised_labels()[self.split.train]

    @property
    def pretrain_val(self):
        return self.rows(self.split.val), self.semi_supervised_labels()[self.split.val]


def prepare_experiment(dataset, label_fraction=LABEL_FRACTION, seed=0):
    """Splits by video, fits the preprocessing on the training rows only and
    transforms every row; the same for every experiment of a seed."""
    split = semi_supervised_split(dataset.video_ids, label_fraction, seed=seed)
    # Pad/truncate to the paper's 30 steps, or fewer when the data is shorter
    # (utterance-level features stay at length 1).
    longest = max(array.shape[1] for array in dataset.modalities.values())
    max_len = min(PAPER_MAX_LEN, longest)
    preprocessor = Preprocessor(max_len).fit(dataset.subset(split.train))
    return PreparedExperiment(split, preprocessor, preprocessor.transform(dataset), dataset.sentiment, max_len,
                              dataset.video_ids, dataset.segment_index)
