"""Reading an HDF5 dataset from a file no one vouches for: its declared size
checked before anything is allocated, a damaged one named."""

import os

from mosi_keras.data.dataset import DataError

MAX_EXPANSION = 1000  # declared bytes per byte of file (compression of real features stays far below)
SLACK = 64 * 2**20  # bytes any file may declare


def declared_bytes_bound(path):
    """The most bytes a dataset of the file at `path` may declare:
    `SLACK + MAX_EXPANSION × file size`."""
    return SLACK + MAX_EXPANSION * os.path.getsize(path)


def read_h5_array(dataset, path, name):
    """`dataset[()]` as a NumPy array, after checking its declared size.

    Raises:
        DataError: the dataset declares more bytes than the file could
            hold (`declared_bytes_bound`; a header that claims 10¹² rows
            would otherwise allocate terabytes), or its bytes cannot be
            read: damaged, or failing its Fletcher-32 checksum.
    """
    try:
        declared = dataset.size * dataset.dtype.itemsize
        if declared > declared_bytes_bound(path):
            raise DataError(
                f"{path}: '{name}' declares shape {dataset.shape} of {dataset.dtype} ({declared:,} bytes) in a file "
                f"of {os.path.getsize(path):,} bytes; the file is damaged or not what it claims."
            )
        return dataset[()]
    except DataError:
        raise
    except (OSError, RuntimeError, KeyError, ValueError, TypeError) as error:
        raise DataError(
            f"{path}: '{name}' cannot be read ({type(error).__name__}: {error}); the file is damaged"
            " (a failed checksum means its bytes changed after it was written)."
        ) from None
