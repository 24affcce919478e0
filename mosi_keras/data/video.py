"""A video-level view of segment rows: each video's utterances in order, padded."""

import dataclasses

import keras
import numpy as np

from mosi_keras.data.bucketing import PAD_TO_MULTIPLE_OF, padded_length, shuffle_seed
from mosi_keras.data.dataset import DataError
from mosi_keras.inputs import UTTERANCE_MASK, is_mask_name

UTTERANCES_MULTIPLE_OF = 8
"""Batches of videos are padded to a multiple of this many utterances (few shapes to trace)."""


@dataclasses.dataclass
class VideoView:
    """Segment rows regrouped by video (`video_view` builds it).

    Attributes:
        inputs: dict of model inputs with a video axis in front: `<modality>`
            `(V, U, T, d)`, `<modality>_mask` `(V, U, T)` and
            `utterance_mask` `(V, U)` (1 on a video's utterances, 0 on
            padding); `U` is the longest video's utterance count.
        labels: `(V, U)` integer labels, `-1` where unlabelled or padded.
        rows: `(V, U)` the row of the source arrays at each place, `-1` on padding.
        video_ids: `(V,)` the videos, in order of first appearance.
        selected: the source rows the view holds, in the order `to_rows`
            returns them.
    """

    inputs: dict
    labels: np.ndarray
    rows: np.ndarray
    video_ids: np.ndarray
    selected: np.ndarray

    def __len__(self):
        return len(self.video_ids)

    def to_rows(self, outputs):
        """Per-utterance `outputs` `(V, U, ...)` back to one value per row of
        `selected`, in that order (padding dropped)."""
        outputs = np.asarray(outputs)
        valid = self.rows >= 0
        position = np.empty(self.rows.max() + 1, "int64")
        position[self.selected] = np.arange(len(self.selected))
        result = np.empty((len(self.selected),) + outputs.shape[2:], outputs.dtype)
        result[position[self.rows[valid]]] = outputs[valid]
        return result


def video_view(x, video_ids, segment_index=None, labels=None, rows=None):
    """Groups segment rows by video, utterances in `segment_index` order.

    Args:
        x: dict of per-row model inputs, `<modality>` `(N, T, d)` and
            `<modality>_mask` `(N, T)`, as `Preprocessor.transform` returns.
        video_ids: `(N,)` video of each row.
        segment_index: optional `(N,)` position of each row in its video;
            `None`: the rows' order.
        labels: optional `(N,)` integer labels, negative where unlabelled;
            `None`: all `-1`.
        rows: the rows to take (default all); a video holds those of its
            rows that are among them.

    Returns:
        A `VideoView`; `to_rows` maps its per-utterance outputs back to `rows`.

    Raises:
        DataError: when two rows of a video share a `segment_index`.

    Example:

    >>> import numpy as np
    >>> x = {"text": np.ones((3, 2, 4), "float32"), "text_mask": np.ones((3, 2), "int32")}
    >>> view = video_view(x, np.array(["b", "a", "b"]), segment_index=np.array([2, 1, 1]))
    >>> view.rows.tolist()  # video "b" reads row 2 before row 0
    [[2, 0], [1, -1]]
    >>> view.inputs["utterance_mask"].tolist()
    [[1, 1], [1, 0]]
    """
    video_ids = np.asarray(video_ids)
    selected = np.arange(len(video_ids)) if rows is None else np.asarray(rows, "int64")
    order = np.zeros(len(video_ids), "int64") if segment_index is None else np.asarray(segment_index, "int64")
    names, first = np.unique(video_ids[selected], return_index=True)
    names = names[np.argsort(first)]  # videos in order of first appearance
    groups = []
    for name in names:
        members = selected[video_ids[selected] == name]
        members = members[np.argsort(order[members], kind="stable")]
        if segment_index is not None and len(np.unique(order[members])) < len(members):
            raise DataError(f"video {str(name)!r}: two of its segments share a segment_index ({sorted(order[members].tolist())}).")
        groups.append(members)
    longest = max(len(group) for group in groups)
    places = np.full((len(groups), longest), -1, "int64")
    for video, group in enumerate(groups):
        places[video, : len(group)] = group
    valid = places >= 0
    safe = np.where(valid, places, 0)
    inputs = {}
    for name, value in x.items():
        value = np.asarray(value)[safe]
        value[~valid] = 0  # padded utterances: zero features, no valid step
        inputs[name] = value
    inputs[UTTERANCE_MASK] = valid.astype("int32")
    row_labels = np.full(len(video_ids), -1, "int64") if labels is None else np.asarray(labels, "int64")
    return VideoView(inputs, np.where(valid, row_labels[safe], -1), places, names, selected)


class VideoBatches(keras.utils.PyDataset):
    """Batches of whole videos, each padded only as far as it needs.

    A batch takes `videos_per_batch` videos of a `VideoView` and cuts the
    utterance axis to its longest video (rounded up to a multiple of
    `UTTERANCES_MULTIPLE_OF`) and the time axis to its longest utterance
    (a multiple of `PAD_TO_MULTIPLE_OF`): only padding is cut, and the masks
    keep the results those of the full arrays. With `shuffle`, the videos
    are reshuffled every epoch, reproducibly for a `seed`. On TensorFlow
    pass `to_tf_dataset(batches)`, whose element spec leaves the axes free.

    Args:
        view: a `VideoView`; batches are `(inputs, labels)`.
        videos_per_batch: videos per batch.
        shuffle: reshuffle the videos every epoch.
        seed: shuffling seed; `None` draws one from NumPy's generator.
    """

    def __init__(self, view, videos_per_batch=4, shuffle=True, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.view = view
        self.videos_per_batch = int(videos_per_batch)
        self.shuffle = shuffle
        self.seed = shuffle_seed(seed, shuffle)
        self.utterances = view.inputs[UTTERANCE_MASK].sum(axis=1)
        masks = [value for name, value in view.inputs.items() if is_mask_name(name) and name != UTTERANCE_MASK]
        self.steps = np.max(np.stack([mask.sum(axis=2).max(axis=1) for mask in masks]), axis=0)
        self.time_limit = masks[0].shape[2]
        self.epoch = 0
        self.batches = self.plan()

    def plan(self):
        videos = np.arange(len(self.view))
        if self.shuffle:
            videos = np.random.default_rng([self.seed, self.epoch]).permutation(videos)
        size = self.videos_per_batch
        return [videos[i : i + size] for i in range(0, len(videos), size)]

    def __len__(self):
        return len(self.batches)

    def __getitem__(self, index):
        videos = self.batches[index]
        utterances = padded_length(int(self.utterances[videos].max()), UTTERANCES_MULTIPLE_OF, self.view.rows.shape[1])
        steps = padded_length(int(self.steps[videos].max()), PAD_TO_MULTIPLE_OF, self.time_limit)
        x = {}
        for name, value in self.view.inputs.items():
            value = value[videos, :utterances]
            x[name] = value if name == UTTERANCE_MASK else value[:, :, :steps]
        return x, self.view.labels[videos, :utterances]

    def on_epoch_end(self):
        if self.shuffle:
            self.epoch += 1
            self.batches = self.plan()

