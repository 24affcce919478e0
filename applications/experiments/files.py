"""The files runs write, each through a temporary file renamed into place
(`mosi_keras.data.atomic.write_atomically`): a run killed at any moment
(`kill -9` included) leaves every file either as it was or complete."""

import csv
import json

from mosi_keras.data.atomic import write_atomically


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
