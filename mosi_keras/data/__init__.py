"""Data: readers for the field's formats, §3.1 preprocessing, splits, generated data."""

from mosi_keras.data.dataset import DataError, MultimodalDataset, from_arrays
from mosi_keras.data.kit_format import write_dataset
from mosi_keras.data.preprocessing import Preprocessor, binary_labels, non_zero, pad_or_truncate
from mosi_keras.data.readers import detect_format, load_dataset
from mosi_keras.data.splits import SemiSupervisedSplit, semi_supervised_split, source_folds
from mosi_keras.data.synthetic import make_synthetic_mosi

__all__ = [
    "DataError",
    "MultimodalDataset",
    "Preprocessor",
    "SemiSupervisedSplit",
    "binary_labels",
    "detect_format",
    "from_arrays",
    "load_dataset",
    "make_synthetic_mosi",
    "non_zero",
    "pad_or_truncate",
    "semi_supervised_split",
    "source_folds",
    "write_dataset",
]
