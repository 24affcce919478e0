"""Seeded, video-grouped splits: train/validation, then labelled/unlabelled."""

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
        """Every training row, labelled or not (for DEC pre-training), in row order."""
        return np.sort(np.concatenate([self.labelled_train, self.unlabelled_train]))

    @property
    def val(self):
        """Every validation row, labelled or not, in row order."""
        return np.sort(np.concatenate([self.labelled_val, self.unlabelled_val]))


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

    Whole videos go to validation until it holds about `val_fraction` of the
    rows; then, within the training and within the validation videos, whole
    videos are kept labelled until they hold about `label_fraction` of the
    rows (the rest is unlabelled). Both the labelled and the unlabelled
    parts are thus split about 80 / 20 (§4.1), and for one seed the
    training and validation videos do not depend on `label_fraction`: the
    runs of a seed at 40 % and 100 % labels see the same rows (the
    label-free autoencoder stage is the same for both) and are measured on
    the same validation videos.

    Args:
        video_ids: `(N,)` video of each row.
        label_fraction: share of rows whose labels are kept. `1.0` keeps all.
        val_fraction: share of rows (whole videos) held out for validation.
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
    val, train = split_by_group(video_ids, np.arange(len(video_ids)), val_fraction, rng)
    # One generator per part, so that the labelled share drawn in one part
    # leaves the other's draw (and the train/validation cut) unchanged.
    train_rng, val_rng = (np.random.default_rng([seed, part]) for part in (1, 2))
    labelled_train, unlabelled_train = split_by_group(video_ids, train, label_fraction, train_rng)
    labelled_val, unlabelled_val = split_by_group(video_ids, val, label_fraction, val_rng)
    if len(labelled_train) == 0 or len(labelled_val) == 0:
        raise DataError(
            f"too few videos ({len(np.unique(video_ids))}) for labelled train and validation parts."
        )
    return SemiSupervisedSplit(labelled_train, labelled_val, unlabelled_train, unlabelled_val)
