"""Seeded, video-grouped splits: labelled/unlabelled, then train/validation."""

import dataclasses

import numpy as np

from mosi_keras.data.dataset import DataError


@dataclasses.dataclass
class SemiSupervisedSplit:
    """Row indices of the four parts of a semi-supervised experiment."""

    labelled_train: np.ndarray
    labelled_val: np.ndarray
    unlabelled_train: np.ndarray
    unlabelled_val: np.ndarray

    @property
    def train(self):
        """Every training row, labelled or not (for DEC pre-training)."""
        return np.concatenate([self.labelled_train, self.unlabelled_train])

    @property
    def val(self):
        return np.concatenate([self.labelled_val, self.unlabelled_val])


def split_by_group(groups, indices, fraction, rng):
    """Splits `indices` into (first, rest) along whole groups.

    Groups are shuffled with `rng` and taken until the first part holds
    about `fraction` of the rows (never all of them unless `fraction >= 1`).
    """
    indices = np.asarray(indices)
    if fraction >= 1.0:
        return indices, indices[:0]
    if fraction <= 0.0:
        return indices[:0], indices
    unique = np.unique(groups[indices])
    rng.shuffle(unique)
    target = fraction * len(indices)
    taken, count = [], 0
    sizes = {g: int(np.sum(groups[indices] == g)) for g in unique}
    for group in unique:
        if count >= target or len(taken) == len(unique) - 1:
            break
        taken.append(group)
        count += sizes[group]
    first = np.isin(groups[indices], taken)
    return indices[first], indices[~first]


def semi_supervised_split(video_ids, label_fraction=0.4, val_fraction=0.2, seed=0):
    """The paper's split, grouped by video so no video is in two parts.

    Whole videos are assigned to the labelled part until it holds about
    `label_fraction` of the rows (the rest is unlabelled), then within each
    part about `val_fraction` of the rows (whole videos) go to validation.

    Args:
        video_ids: `(N,)` video of each row.
        label_fraction: share of rows whose labels are kept. `1.0` keeps all.
        val_fraction: share of each part held out for validation.
        seed: the same seed gives the same split.
    """
    video_ids = np.asarray(video_ids)
    if not 0.0 < label_fraction <= 1.0:
        raise DataError(f"label_fraction must be in (0, 1], got {label_fraction}.")
    if not 0.0 < val_fraction < 1.0:
        raise DataError(f"val_fraction must be in (0, 1), got {val_fraction}.")
    if len(np.unique(video_ids)) < 2:
        raise DataError("a video-grouped split needs at least 2 videos.")
    rng = np.random.default_rng(seed)
    labelled, unlabelled = split_by_group(video_ids, np.arange(len(video_ids)), label_fraction, rng)
    labelled_val, labelled_train = split_by_group(video_ids, labelled, val_fraction, rng)
    unlabelled_val, unlabelled_train = split_by_group(video_ids, unlabelled, val_fraction, rng)
    if len(labelled_train) == 0 or len(labelled_val) == 0:
        raise DataError(
            f"too few videos ({len(np.unique(video_ids))}) for labelled train and validation parts."
        )
    return SemiSupervisedSplit(labelled_train, labelled_val, unlabelled_train, unlabelled_val)

