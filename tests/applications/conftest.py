import contextlib
import dataclasses
import io
import json
import shutil

import keras
import numpy as np
import pytest

from applications import SAMPLE_INDEX, MultimodalBackbone, MultimodalDecoder, SemiSupervisedDEC
from mosi_keras.data import Preprocessor, binary_labels, make_synthetic_mosi, write_dataset
from tests.session_files import once_per_session

DIMS = {"text": 12, "audio": 6, "visual": 5}
MAX_LEN = 8
SMALL = dict(hidden_dim=8, num_blocks=1, num_heads=2, intermediate_dim=16, dropout=0.0)


def make_tiny(n_videos=6):
    """(inputs, binary labels, semi-supervised labels) of 8 generated segments a
    video; every third label hidden (-1)."""
    data = make_synthetic_mosi(n_videos=n_videos, segments_per_video=(8, 8), max_len=MAX_LEN,
                               feature_dims=DIMS, signal=(1.0, 1.0, 1.0), seed=0)
    x = Preprocessor(max_len=MAX_LEN).fit(data).transform(data)
    labels = binary_labels(data.sentiment)
    semi = labels.copy()
    semi[::3] = -1
    return x, labels, semi


@pytest.fixture(scope="module")
def tiny():
    return make_tiny()


def make_raw(n_videos=4):
    """A raw (unscaled, ragged) generated dataset of `DIMS`, as a reader returns one."""
    return make_synthetic_mosi(n_videos=n_videos, segments_per_video=(3, 5), max_len=MAX_LEN, feature_dims=DIMS,
                               seed=1)


def make_backbone(**kwargs):
    return MultimodalBackbone(DIMS, MAX_LEN, **dict(SMALL, **kwargs))


def make_backbone_decoder():
    backbone = make_backbone()
    return backbone, MultimodalDecoder.for_backbone(backbone, hidden_dim=8)


# A schedule small enough for command-line smoke tests; eager, since tracing
# graphs would cost more than these few steps.
TINY = dict(
    hidden_dim=8, num_blocks=1, num_heads=2, intermediate_dim=16, head_units=[8, 4], decoder_hidden_dim=8,
    ae_epochs=1, dec_epochs=1, epochs=2, patience=1, kmeans_n_init=1, batch_size=64, run_eagerly=True,
)


def write_files(folder):
    """A generated training file (.npz), a held-out file (.h5) and TINY as JSON, in `folder`."""
    dims = {"text": 6, "audio": 4, "visual": 3}
    data = make_synthetic_mosi(n_videos=10, segments_per_video=(4, 5), max_len=5, feature_dims=dims, seed=0)
    test = make_synthetic_mosi(n_videos=3, segments_per_video=(4, 5), max_len=5, feature_dims=dims, seed=9)
    write_dataset(data, folder / "train.npz")
    write_dataset(test, folder / "test.h5")
    with open(folder / "hp.json", "w") as file:
        json.dump(TINY, file)
    return folder


@pytest.fixture
def files(tmp_path):
    """A generated training file (.npz), a held-out file (.h5) and TINY as JSON."""
    return write_files(tmp_path)


def reproduce_argv(files, out, *options):
    """`mosi-keras reproduce` on the generated files with the tiny schedule,
    one seed, one process, at 40 % and 100 % labels, scored on the
    held-out file; `options` add to it or override it (argparse keeps the
    last value)."""
    return ["reproduce", "--data", str(files / "train.npz"), "--test-data", str(files / "test.h5"), "--seeds", "1",
            "--out", str(out), "--jobs", "1", "--hyperparameters", str(files / "hp.json"), *options]


@dataclasses.dataclass
class Reproduced:
    """The shared reproduce: its files, its folder, what it printed, its `results.json` runs."""

    files: object
    out: object
    printed: str
    runs: list

    def copy(self, folder):
        """A copy of the reproduce's folder, for a test that adds runs to it or changes it."""
        shutil.copytree(self.out, folder)
        return folder


def write_reproduced(folder):
    """The shared reproduce's files in `folder`: the generated data, `out`
    and what it printed (`printed.txt`)."""
    from applications.experiments.cli import main

    write_files(folder)
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        assert main(reproduce_argv(folder, folder / "out")) == 0
    (folder / "printed.txt").write_text(printed.getvalue())


@pytest.fixture(scope="session")
def reproduced():
    """One small `reproduce` (baseline and dec at 40 % and 100 % labels,
    one seed, with held-out data), run once for the whole session, all
    xdist workers together (`once_per_session`): the CLI, resume, kill,
    parallel, ensemble and merge tests read it or continue it on a copy
    instead of training their own."""
    files = once_per_session("reproduced", write_reproduced)
    out = files / "out"
    return Reproduced(files, out, (files / "printed.txt").read_text(),
                      json.loads((out / "results.json").read_text())["runs"])


def make_dec(**weights):
    """A tiny DEC model, compiled (its `compile` builds the optimizer: a traced step is traced once)."""
    backbone, decoder = make_backbone_decoder()
    dec = SemiSupervisedDEC(backbone, decoder, n_clusters=2, **weights)
    dec.compile(optimizer=keras.optimizers.Adam(1e-2))
    return dec


def with_index(x):
    return {**x, SAMPLE_INDEX: np.arange(len(x["text"]))}
