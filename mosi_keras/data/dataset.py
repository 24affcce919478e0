"""The in-memory container every reader returns."""

import dataclasses

import numpy as np

from mosi_keras.inputs import MASK_SUFFIX, is_mask_name, mask_name  # noqa: F401  (exported here too)


class DataError(ValueError):
    """Raised for input data that cannot be used; the message names the problem."""




@dataclasses.dataclass
class MultimodalDataset:
    """Aligned multimodal samples with their sentiment scores.

    Attributes:
        modalities: dict modality name → float32 array `(N, T, d)`. Utterance
            vectors are sequences of length `T = 1`.
        lengths: dict modality name → int array `(N,)`: the valid steps of
            each sample (the rest is padding).
        sentiment: float32 `(N,)`, sentiment intensity in `[-3, 3]`.
        ids: `(N,)` segment ids.
        video_ids: `(N,)` video ids (splits group by them).
        folds: optional `(N,)` array of the source's own fold names
            (`"train"`, `"valid"`, `"test"`), or `None`.
        source: where the data came from (for error messages).
        labelled: `False` for segments without sentiment (to predict on):
            `sentiment` is then NaN.
        segment_index: optional `(N,)` integers: the position of each
            segment in its video (the utterance order a video-level model
            reads, `mosi_keras.data.video_view`); `None`: the file's order.
        transcripts: optional `(N,)` strings, what each segment says (the
            files' `transcript` array): a `Preprocessor` with a
            `text_tokenizer` reads text from them.
    """

    modalities: dict
    lengths: dict
    sentiment: np.ndarray
    ids: np.ndarray
    video_ids: np.ndarray
    folds: np.ndarray = None
    source: str = "<memory>"
    labelled: bool = True
    segment_index: np.ndarray = None
    transcripts: np.ndarray = None

    def __post_init__(self):
        self.validate()

    def __len__(self):
        return len(self.sentiment)

    @property
    def modality_names(self):
        return list(self.modalities)

    @property
    def feature_dims(self):
        """dict modality → feature width."""
        return {name: array.shape[-1] for name, array in self.modalities.items()}

    def masks(self):
        """dict modality → boolean `(N, T)` mask, `True` on valid steps."""
        return {
            name: np.arange(array.shape[1])[None, :] < self.lengths[name][:, None]
            for name, array in self.modalities.items()
        }

    def subset(self, indices):
        """A new dataset holding the rows `indices` (copies, never views)."""
        indices = np.asarray(indices)
        return MultimodalDataset(
            modalities={k: v[indices].copy() for k, v in self.modalities.items()},
            lengths={k: v[indices].copy() for k, v in self.lengths.items()},
            sentiment=self.sentiment[indices].copy(),
            ids=self.ids[indices].copy(),
            video_ids=self.video_ids[indices].copy(),
            folds=None if self.folds is None else self.folds[indices].copy(),
            source=self.source,
            labelled=self.labelled,
            segment_index=None if self.segment_index is None else self.segment_index[indices].copy(),
            transcripts=None if self.transcripts is None else self.transcripts[indices].copy(),
        )

    def select_modalities(self, names):
        """A dataset restricted to `names`; an absent modality is an error."""
        missing = [name for name in names if name not in self.modalities]
        if missing:
            raise DataError(
                f"{self.source}: modality {missing} requested but the data holds "
                f"only {self.modality_names}."
            )
        return dataclasses.replace(
            self,
            modalities={k: self.modalities[k] for k in names},
            lengths={k: self.lengths[k] for k in names},
        )

    def validate(self):
        """Checks shapes and values; raises `DataError` naming the problem."""
        where = self.source
        if not self.modalities:
            raise DataError(f"{where}: no modality (feature array) found.")
        n = len(self.sentiment)
        if n == 0:
            raise DataError(f"{where}: the dataset is empty (0 samples).")
        for key in ("ids", "video_ids", "segment_index", "transcripts"):
            if getattr(self, key) is not None and len(getattr(self, key)) != n:
                raise DataError(f"{where}: '{key}' has {len(getattr(self, key))} entries, expected {n}.")
        for name, array in self.modalities.items():
            if array.ndim != 3:
                raise DataError(
                    f"{where}: modality '{name}' has shape {array.shape}; "
                    "expected (N, T, d) or (N, d)."
                )
            if array.shape[0] != n:
                raise DataError(
                    f"{where}: modality '{name}' has {array.shape[0]} samples but "
                    f"'sentiment' has {n}; all modalities need the same N."
                )
            lengths = self.lengths[name]
            if lengths.shape != (n,):
                raise DataError(
                    f"{where}: '{name}_lengths' has shape {lengths.shape}; expected ({n},)."
                )
            if np.any(lengths < 0) or np.any(lengths > array.shape[1]):
                bad = int(np.argmax((lengths < 0) | (lengths > array.shape[1])))
                raise DataError(
                    f"{where}: '{name}_lengths' of sample {bad} is {int(lengths[bad])}, "
                    f"outside [0, {array.shape[1]}] (the arrays' time steps)."
                )
        if not self.labelled:
            return
        sentiment = self.sentiment
        bad = ~np.isfinite(sentiment) | (np.abs(sentiment) > 3.0)
        if np.any(bad):
            first = int(np.argmax(bad))
            raise DataError(
                f"{where}: 'sentiment' of sample {first} (id {self.ids[first]}) is "
                f"{sentiment[first]}; sentiment must be a finite value in [-3, 3] "
                f"({int(bad.sum())} bad value(s))."
            )


CANONICAL_ORDER = ("text", "audio", "visual")


def _integers(value, key, source):
    """`value` as int64, or a `DataError` naming `key` when it holds no integers."""
    value = np.asarray(value)
    if value.dtype.kind == "f" and np.all(np.isfinite(value)) and np.all(value == np.round(value)):
        return value.astype("int64")  # whole numbers stored as floats (some writers do)
    if value.dtype.kind not in "iub":
        raise DataError(f"{source}: '{key}' has dtype {value.dtype}; expected whole numbers of valid steps.")
    if value.dtype.kind == "u" and value.size and value.max() > np.iinfo("int64").max:
        raise DataError(f"{source}: '{key}' holds {value.max()}, beyond any sequence length.")
    return value.astype("int64")


def concatenate_padded(arrays):
    """Arrays of `(n_i, T_i, d)` stacked along rows, zero-padded to the longest `T_i`."""
    steps = max(a.shape[1] for a in arrays)
    return np.concatenate([np.pad(a, ((0, 0), (0, steps - a.shape[1]), (0, 0))) for a in arrays])


def modality_order(name):
    """Sort key: text, audio, visual first (in that order), then the rest by name.

    Every reader yields modalities in this order, so a model built from one
    file's `feature_dims` takes another file's inputs in the same order.
    """
    return (CANONICAL_ORDER.index(name), "") if name in CANONICAL_ORDER else (len(CANONICAL_ORDER), name)


def from_arrays(arrays, sentiment, lengths=None, ids=None, video_ids=None, folds=None, source="<memory>",
                segment_index=None, transcripts=None):
    """Builds a `MultimodalDataset` from plain arrays.

    2-D arrays `(N, d)` become length-1 sequences. Missing lengths mean every
    step is valid; missing ids are numbered; missing video ids make every
    sample its own video; missing `segment_index` keeps the rows' order
    within each video. `sentiment=None`: unlabelled segments (NaN
    sentiment, `labelled=False`), e.g. new data to predict on.
    `transcripts`: optional `(N,)` strings.
    """
    lengths = dict(lengths or {})
    modalities = {}
    for name in sorted(arrays, key=modality_order):
        array = arrays[name]
        array = np.asarray(array)
        if not np.issubdtype(array.dtype, np.number) or array.dtype.kind == "c":
            raise DataError(f"{source}: modality '{name}' is not real-valued numbers (dtype {array.dtype}).")
        if array.ndim not in (2, 3):
            raise DataError(f"{source}: modality '{name}' has shape {array.shape}; expected (N, T, d) or (N, d).")
        if array.ndim == 2:
            array = array[:, None, :]
        modalities[name] = array.astype("float32", copy=False)
        if name in lengths and lengths[name] is not None:
            lengths[name] = _integers(lengths[name], f"{name}_lengths", source)
        else:
            lengths[name] = np.full(len(array), array.shape[1] if array.ndim == 3 else 1, "int64")
    if segment_index is not None:
        segment_index = np.asarray(segment_index)
        if not np.issubdtype(segment_index.dtype, np.integer) or segment_index.ndim != 1:
            raise DataError(
                f"{source}: 'segment_index' has dtype {segment_index.dtype} and shape {segment_index.shape}; "
                "expected (N,) integers (each segment's position in its video)."
            )
    for key, value in (("sentiment", sentiment), ("segment_id", ids), ("video_id", video_ids), ("fold", folds),
                       ("transcript", transcripts)):
        if value is not None and np.ndim(value) != 1 and np.shape(value)[1:] != (1,):
            raise DataError(f"{source}: '{key}' has shape {np.shape(value)}; expected one value per segment, (N,).")
    labelled = sentiment is not None
    if not labelled:
        sentiment = np.full(len(next(iter(modalities.values()))) if modalities else 0, np.nan)
    sentiment = np.asarray(sentiment)
    if sentiment.dtype.kind not in "iuf":
        raise DataError(f"{source}: 'sentiment' has dtype {sentiment.dtype}; expected real numbers in [-3, 3].")
    sentiment = sentiment.astype("float32").reshape(-1)
    n = len(sentiment)
    ids = np.asarray(ids).astype(str) if ids is not None else np.array([str(i) for i in range(n)])
    video_ids = np.asarray(video_ids).astype(str) if video_ids is not None else ids.copy()
    return MultimodalDataset(
        modalities=modalities,
        lengths=lengths,
        sentiment=sentiment,
        ids=ids,
        video_ids=video_ids,
        folds=None if folds is None else np.asarray(folds).astype(str),
        source=source,
        labelled=labelled,
        segment_index=None if segment_index is None else segment_index.astype("int64"),
        transcripts=None if transcripts is None else np.asarray(transcripts).astype(str),
    )
