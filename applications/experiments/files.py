"""The files runs write, each through a temporary file renamed into place.

A run killed at any moment (`kill -9` included) leaves every file either
as it was or complete, never half-written: `os.replace` is atomic on one
file system. The temporary name keeps the file's ending (`.keras`,
`.weights.h5`, `.png`), which Keras and Matplotlib read the format from.
"""

import csv
import json
import os


def write_atomically(path, write, suffix=None):
    """Calls `write(temporary_path)`, then renames that file to `path`.

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
    except BaseException:  # a full disk, a read-only folder, an interrupt: no partial file left behind
        if os.path.exists(partial):
            os.remove(partial)
        raise


def write_json_atomically(value, path):
    """`value` as indented JSON at `path`."""
    def write(partial):
        with open(partial, "w") as file:
            json.dump(value, file, indent=2)

    write_atomically(path, write)


def write_csv_atomically(columns, path):
    """A dict of equal-length columns as CSV at `path`, header first."""
    def write(partial):
        with open(partial, "w", newline="") as file:
            writer = csv.writer(file)
            writer.writerow(list(columns))
            writer.writerows(zip(*columns.values()))

    write_atomically(path, write)


def write_history_csv(history, path):
    """A Keras history dict as CSV: `epoch`, then each key in name order."""
    keys = sorted(history)
    epochs = len(history[keys[0]]) if keys else 0
    write_csv_atomically({"epoch": range(epochs), **{key: history[key] for key in keys}}, path)
