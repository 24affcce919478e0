"""The kit's files that `mosi-keras train --text-encoder` passes through,
in the order it passes through them: how far a reader follows one run.

Runs `train` (`--experiment` as given; the baseline and `dec` by default)
on a small generated dataset with transcripts and a one-block BERT saved
as a local keras-hub preset, with a profiler on, and follows the encoder:
the calls from the kit's code (`applications/`, `mosi_keras/`) to the kit's
functions that take it as an argument (its handle, the keras-hub objects
loaded from it, or a config or options holding the handle), down to
`--depth` such calls. A hop is such a call into another file, or the
next such call made from the file it returned to (a chain of returns is
one hop); a return is a hop back into a file the encoder had left.
Prints each experiment's path, its hops, files and returns.

Run: python bench/call_path.py [--experiment baseline dec] [--depth 20]
"""

import argparse
import json
import os
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
KIT = tuple(os.path.join(ROOT, package) + os.sep for package in ("applications", "mosi_keras"))


def kit_file(frame):
    """The kit file (relative, without `.py`) of `frame`'s code, else `None`."""
    path = frame.f_code.co_filename
    return os.path.relpath(path, ROOT)[:-3] if path.startswith(KIT) else None


def carries(value, handle):
    """Whether `value` is the text encoder: its handle, a keras-hub object,
    or something holding the handle (a config, the parsed options)."""
    if isinstance(value, str):
        return value == handle
    if type(value).__module__.startswith("keras_hub"):
        return True
    return getattr(value, "text_encoder", None) == handle


def trace_files(run, handle, depth):
    """Runs `run()` under a profiler; returns the kit files in the order
    that the kit's calls carrying the text encoder `handle` (an argument,
    `carries`), at most `depth` such calls deep, enter and leave them."""
    path, stack = [], []  # stack: (frame, file) of the counted calls

    def enter(file):
        if not path or path[-1] != file:
            path.append(file)

    def profile(frame, event, arg):
        here = kit_file(frame) if event in ("call", "return") else None
        if event == "call" and here and kit_file(frame.f_back or frame) and len(stack) < depth:
            values = [frame.f_locals[name] for name in frame.f_code.co_varnames[:frame.f_code.co_argcount]]
            if any(carries(value, handle) for value in values):
                if stack:
                    enter(stack[-1][1])  # where the call is made from (after returns, the file returned to)
                enter(here)
                stack.append((frame, here))
        elif event == "return" and stack and frame is stack[-1][0]:
            stack.pop()

    sys.setprofile(profile)
    try:
        run()
    finally:
        sys.setprofile(None)
    return path


def make_inputs(folder):
    """A data file with transcripts, a tiny BERT preset and small hyper-parameters, in `folder`."""
    from mosi_keras.data import make_synthetic_mosi, write_dataset
    from tests.text_encoder_testing import save_tiny_bert_preset, with_transcripts

    write_dataset(with_transcripts(make_synthetic_mosi(n_videos=12, seed=0)), os.path.join(folder, "said.npz"))
    save_tiny_bert_preset(os.path.join(folder, "bert"))
    sizes = dict(hidden_dim=8, num_blocks=1, num_heads=2, intermediate_dim=16, head_units=[8, 4], decoder_hidden_dim=8,
                 ae_epochs=1, dec_epochs=1, epochs=1, kmeans_n_init=1, run_eagerly=True)
    with open(os.path.join(folder, "hp.json"), "w") as file:
        json.dump(sizes, file)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--experiment", nargs="+", default=["baseline", "dec"])
    parser.add_argument("--depth", type=int, default=20, help="nested calls followed (default 20)")
    args = parser.parse_args()
    from applications.experiments.cli import main as mosi_keras

    with tempfile.TemporaryDirectory() as folder:
        make_inputs(folder)
        for experiment in args.experiment:
            argv = ["train", "--data", os.path.join(folder, "said.npz"), "--text-encoder", os.path.join(folder, "bert"),
                    "--hyperparameters", os.path.join(folder, "hp.json"), "--experiment", experiment, "--quiet",
                    "--out", os.path.join(folder, experiment)]
            path = trace_files(lambda: mosi_keras(argv), os.path.join(folder, "bert"), args.depth)
            returns = sum(file in path[:i] and file != path[i - 1] for i, file in enumerate(path))
            print(f"{experiment}: {len(path) - 1} hops over {len(set(path))} files, {returns} returns")
            print("  " + " → ".join(os.path.basename(file) for file in path))


if __name__ == "__main__":
    main()
