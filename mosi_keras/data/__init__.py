"""Data: readers for the field's formats, §3.1 preprocessing, splits, generated data."""

from mosi_keras.data.bucketing import LengthBucketedBatches, to_tf_dataset
from mosi_keras.data.dataset import DataError, MultimodalDataset, from_arrays
from mosi_keras.inputs import is_mask_name, mask_name
from mosi_keras.data.kit_format import write_dataset
from mosi_keras.data.preprocessing import Preprocessor, binary_labels, pad_or_truncate
from mosi_keras.data.readers import detect_format, load_dataset
from mosi_keras.data.splits import SemiSupervisedSplit, semi_supervised_split
from mosi_keras.data.streaming import HDF5Sequence, hdf5_rows, iter_hdf5_chunks
from mosi_keras.data.synthetic import make_synthetic_mosi

__all__ = [
    "DataError",
    "HDF5Sequence",
    "LengthBucketedBatches",
    "MultimodalDataset",
    "Preprocessor",
    "SemiSupervisedSplit",
    "binary_labels",
    "detect_format",
    "from_arrays",
    "hdf5_rows",
    "is_mask_name",
    "iter_hdf5_chunks",
    "load_dataset",
    "make_synthetic_mosi",
    "mask_name",
    "pad_or_truncate",
    "semi_supervised_split",
    "to_tf_dataset",
    "write_dataset",
]
