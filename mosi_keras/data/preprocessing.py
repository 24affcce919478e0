"""§3.1 preprocessing: non-finite repair, min-max then z-score, pad/truncate, labels."""

import json
import warnings

import keras
import numpy as np

from mosi_keras.data.dataset import DataError
from mosi_keras.inputs import MAX_LEN, TEXT, TOKEN_INPUTS, mask_name


class RunningMoments:
    """Per-feature count, min, max, mean and sum of squared deviations of the
    finite values seen so far, merged chunk by chunk."""

    def __init__(self):
        self.count = self.low = self.high = self.mean = self.m2 = None

    def update(self, values):
        values = np.asarray(values, dtype="float64")  # (rows, d)
        finite = np.isfinite(values)
        count = finite.sum(axis=0)
        safe = np.where(finite, values, 0.0)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.where(count > 0, safe.sum(axis=0) / np.maximum(count, 1), 0.0)
            m2 = (np.where(finite, values - mean, 0.0) ** 2).sum(axis=0)
        low = np.where(finite, values, np.inf).min(axis=0, initial=np.inf)
        high = np.where(finite, values, -np.inf).max(axis=0, initial=-np.inf)
        if self.count is None:
            self.count, self.low, self.high, self.mean, self.m2 = count, low, high, mean, m2
            return
        total = self.count + count
        delta = mean - self.mean
        with np.errstate(invalid="ignore", divide="ignore"):
            share = np.where(total > 0, count / np.maximum(total, 1), 0.0)
        self.mean = self.mean + delta * share
        self.m2 = self.m2 + m2 + delta**2 * self.count * share
        self.count = total
        self.low, self.high = np.minimum(self.low, low), np.maximum(self.high, high)


def pad_or_truncate(array, lengths, max_len):
    """Cuts or zero-pads `(N, T, d)` to `(N, max_len, d)`; returns it and the mask."""
    n, time, dim = array.shape
    out = np.zeros((n, max_len, dim), "float32")
    keep = min(time, max_len)
    out[:, :keep] = array[:, :keep]
    lengths = np.minimum(lengths, max_len)
    mask = np.arange(max_len)[None, :] < lengths[:, None]
    out[~mask] = 0.0
    return out, mask


@keras.saving.register_keras_serializable(package="mosi_keras")
class Preprocessor:
    """Per-modality scaling fitted on training rows only, applied to any rows.

    `fit` reads only the valid (unpadded), finite entries of the rows it is
    given. `transform` then, per modality and feature: replaces non-finite
    values by the training mean (they become 0 after scaling) and counts
    them (a warning says how many); min-max scales with the training range; z-scores with the
    training mean and deviation of the min-max scaled values (§3.1); pads or
    truncates to `max_len` steps and returns the masks. Constant features
    (zero range or deviation) are left at 0 rather than divided by zero.

    A task built with `preprocessor=` carries it in its `.keras` file
    (`get_config` holds the statistics), so a saved model knows how to
    prepare new data.

    Args:
        max_len: sequence length after padding/truncation. Defaults to `30`
            (paper). Utterance-level data (T = 1) stays at length 1.
        text_tokenizer: optional `mosi_keras.transcript_tokenizer.TranscriptTokenizer`:
            the text is then read from the dataset's `transcripts` as
            `text_token_ids`, `text_padding_mask` and `text_word_index`
            (for a backbone with a `text_encoder`), and a `text` feature
            array, if any, is not used. Saved in the config with its
            vocabulary.

    Example:

    >>> from mosi_keras.data import make_synthetic_mosi
    >>> data = make_synthetic_mosi(n_videos=4, seed=0)
    >>> prep = Preprocessor().fit(data)
    >>> inputs = prep.transform(data)
    >>> sorted(inputs)[:2]
    ['audio', 'audio_mask']
    """

    def __init__(self, max_len=MAX_LEN, text_tokenizer=None):
        self.max_len = int(max_len)
        self.text_tokenizer = text_tokenizer
        self.statistics = None

    @property
    def feature_dims(self):
        """dict modality → feature width of the modalities it scales (fitted)."""
        return {name: len(stats["min"]) for name, stats in (self.statistics or {}).items()}

    def scaled(self, name):
        """Whether modality `name` is scaled (not read from transcripts instead)."""
        return not (self.text_tokenizer is not None and name == TEXT)

    def fit(self, dataset):
        """Fits the statistics on every row of `dataset` (pass training rows only)."""
        return self.fit_batches([dataset], source=dataset.source)

    def fit_batches(self, batches, source="<batches>"):
        """Fits the statistics in one streaming pass over `MultimodalDataset` chunks.

        Memory stays at one chunk however large the data: min, max, mean and
        variance are merged chunk by chunk (Chan et al.'s parallel update),
        and the min-max-then-z-score statistics follow from them exactly
        (z-scoring `(x - min) / span` needs `(mean - min) / span` and
        `std / span`).
        """
        moments = {}
        for batch in batches:
            masks = batch.masks()
            for name, array in batch.modalities.items():
                if not self.scaled(name):
                    continue
                moments.setdefault(name, RunningMoments()).update(array[masks[name]])
        if not moments:
            raise DataError(f"{source}: nothing to fit the preprocessing on.")
        self.statistics = {}
        for name, running in moments.items():
            if not np.all(running.count > 0):
                empty = int(np.argmin(running.count > 0))
                raise DataError(
                    f"{source}: modality '{name}' feature {empty} has no finite "
                    "value in the training rows."
                )
            span = np.where(running.high - running.low > 0, running.high - running.low, 1.0)
            std = np.sqrt(running.m2 / running.count) / span
            self.statistics[name] = {
                "min": running.low,
                "span": span,
                "mean": (running.mean - running.low) / span,
                "std": np.where(std > 1e-12, std, 1.0),
                "raw_mean": running.mean,
            }
        return self

    def transform(self, dataset):
        """Returns the model inputs `{name: (N, max_len, d), name_mask: (N, max_len)}`.

        Masks are int32, 1 on valid steps."""
        if self.statistics is None:
            raise RuntimeError("Preprocessor.transform called before fit.")
        inputs = {}
        for name, stats in self.statistics.items():
            if name not in dataset.modalities:
                raise DataError(f"{dataset.source}: modality '{name}' (seen in training) is missing.")
            array = dataset.modalities[name]
            if array.shape[-1] != len(stats["min"]):
                raise DataError(
                    f"{dataset.source}: modality '{name}' has {array.shape[-1]} features; "
                    f"the preprocessing was fitted on {len(stats['min'])}."
                )
            array = array.astype("float64", copy=True)
            bad = ~np.isfinite(array)
            bad &= dataset.masks()[name][:, :, None]
            count = int(bad.sum())
            if count:
                array = np.where(bad, stats["raw_mean"], array)
                warnings.warn(
                    f"{dataset.source}: replaced {count} non-finite value(s) in modality "
                    f"'{name}' by the training mean.",
                    stacklevel=2,
                )
            scaled = ((array - stats["min"]) / stats["span"] - stats["mean"]) / stats["std"]
            scaled = np.nan_to_num(scaled, nan=0.0, posinf=0.0, neginf=0.0)
            inputs[name], mask = pad_or_truncate(
                scaled.astype("float32"), dataset.lengths[name], self.max_len
            )
            # int32 0/1, keras-hub's padding-mask convention: tf.distribute
            # cannot split boolean arrays across replicas.
            inputs[mask_name(name)] = mask.astype("int32")
        if self.text_tokenizer is not None:
            inputs.update(self.tokenize(dataset))
        return inputs

    def tokenize(self, dataset):
        """`text_token_ids`, `text_padding_mask`, `text_word_index` of the
        dataset's transcripts (`text_tokenizer`)."""
        if dataset.transcripts is None:
            raise DataError(f"{dataset.source}: no 'transcript' array; this model reads its text from transcripts "
                            "(one string per segment).")
        tokens, _ = self.text_tokenizer(dataset.transcripts)
        return {TOKEN_INPUTS[name]: value for name, value in tokens.items()}

    def get_config(self):
        return {
            "max_len": self.max_len,
            "text_tokenizer": (None if self.text_tokenizer is None
                               else keras.saving.serialize_keras_object(self.text_tokenizer)),
            "statistics": {
                name: {key: value.tolist() for key, value in stats.items()}
                for name, stats in (self.statistics or {}).items()
            },
        }

    @classmethod
    def from_config(cls, config):
        tokenizer = config.get("text_tokenizer")
        prep = cls(config["max_len"], None if tokenizer is None else keras.saving.deserialize_keras_object(tokenizer))
        prep.statistics = {
            name: {key: np.asarray(value) for key, value in stats.items()}
            for name, stats in config["statistics"].items()
        }
        return prep

    def save(self, path):
        with open(path, "w") as file:
            json.dump(self.get_config(), file)

    @classmethod
    def load(cls, path):
        with open(path) as file:
            return cls.from_config(json.load(file))


def binary_labels(sentiment):
    """`acc2` convention: 1 (positive) where sentiment >= 0, else 0.

    The one place this rule lives: training labels, streaming batches and
    the evaluation all use it.
    """
    return (np.asarray(sentiment) >= 0).astype("int32")
