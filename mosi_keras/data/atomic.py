"""Writing a file whole or not at all."""

import os


def write_atomically(path, write, suffix=None):
    """Calls `write(temporary_path)`, then renames that file to `path`.

    A process killed at any moment (`kill -9` included) leaves `path`
    either as it was or complete, never half-written: `os.replace` is atomic
    on one file system. If writing or renaming fails (a full disk, a
    read-only folder, an interrupt) the temporary file is removed and the
    error raised. The temporary name keeps the file's ending (`.keras`,
    `.weights.h5`, `.npz`), which Keras, Matplotlib and NumPy read the
    format from.

    Args:
        path: the file to write.
        write: a function that writes the file at the path it is given.
        suffix: the ending to keep on the temporary name; defaults to the
            extension of `path` (pass `".weights.h5"` for Keras weights).
    """
    path = os.fspath(path)
    suffix = os.path.splitext(path)[1] if suffix is None else suffix
    partial = path[: len(path) - len(suffix)] + ".partial" + suffix
    try:
        write(partial)
        os.replace(partial, path)
    except BaseException:
        if os.path.exists(partial):
            os.remove(partial)
        raise
