"""Paired by seed: runs of one `reproduce` folder against another's, or against scikit-learn references.

Each `NAME=FOLDER:EXPERIMENT` names the `<EXPERIMENT>_labels<FF>_seed<S>.json`
records of a folder (what `reproduce --out FOLDER` wrote); `lr` and `mlp`
are logistic regression and an MLP on mean-pooled features of the same
splits (`bench/reference_models.py`). Prints mean ± std of acc2 per model, then
`treatment − control` per seed with the paired Student-t interval
(`reports.paired_differences`), on the labelled validation videos (`val`) and on
every validation video (`val_all`).

Run: python bench/paired.py tuned=runs/words_tuned:baseline default=runs/words:baseline \\
         --compare tuned-default tuned-lr --seeds 10
"""

import argparse
import glob
import json
import os
import re

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's start-up lines
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_DATA = os.path.join(os.path.dirname(ROOT), "shared", "data", "cmu_mosi", "cmu_mosi_words.npz")


def read_runs(name, folder, experiment, seeds):
    """The `RunRecord`s of `experiment` in `folder` for `seeds`, renamed `name`."""
    from applications.experiments.run import RunRecord

    runs = []
    for path in sorted(glob.glob(os.path.join(folder, f"{experiment}_labels*_seed*.json"))):
        match = re.search(rf"{re.escape(experiment)}_labels(\d+)_seed(\d+)\.json$", path)
        if match and int(match.group(2)) in seeds:
            with open(path) as file:
                record = RunRecord.from_dict(json.load(file))
            runs.append(RunRecord.from_dict({**record.to_dict(), "experiment": name}))
    return runs


REFERENCES = {"lr": "logistic regression", "mlp": "MLP"}
"""The reference models that `--compare` may name, and their names in `reference_models()`."""


def reference_runs(name, data, fractions, seeds):
    """A reference model (`REFERENCES`) on the splits of `reproduce`, as `RunRecord`s named `name`."""
    from applications.experiments.preparation import prepare_experiment
    from applications.experiments.run import RunRecord
    from mosi_keras.data import load_dataset
    from reference_models import fit_and_score, reference_models  # beside this script

    dataset = load_dataset(data)
    runs = []
    for fraction in fractions:
        for seed in seeds:
            prepared = prepare_experiment(dataset, fraction, seed)
            split = prepared.split
            scores = fit_and_score(reference_models(seed)[REFERENCES[name]], prepared)
            runs.append(RunRecord(name, fraction, seed, 0, {}, len(split.labelled_train), 0, len(split.labelled_val),
                                  {"acc2": scores["val"] / 100}, val_all={"acc2": scores["val_all"] / 100}))
    return runs


def main():
    from applications.experiments.reports import paired_differences

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("models", nargs="+", help="NAME=FOLDER:EXPERIMENT")
    parser.add_argument("--compare", nargs="+", default=[], help="TREATMENT-CONTROL pairs of names (or lr, mlp)")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--data", default=DEFAULT_DATA, help="for lr, mlp: the data the runs were trained on")
    args = parser.parse_args()
    seeds = range(args.seeds)
    runs = []
    for model in args.models:
        name, place = model.split("=", 1)
        folder, experiment = place.rsplit(":", 1)
        runs += read_runs(name, folder, experiment, seeds)
    for name in REFERENCES:
        if any(name in pair.split("-") for pair in args.compare):
            runs += reference_runs(name, args.data, sorted({r.label_fraction for r in runs}), seeds)
    for name in dict.fromkeys(r.experiment for r in runs):
        for fraction in sorted({r.label_fraction for r in runs if r.experiment == name}):
            chosen = [r for r in runs if r.experiment == name and r.label_fraction == fraction]
            for part in ("val", "val_all"):
                values = [100 * getattr(r, part)["acc2"] for r in chosen if getattr(r, part)]
                print(f"{name:<12} {int(fraction * 100):>3} % {part:<8} acc2 {np.mean(values):6.2f} ± "
                      f"{np.std(values, ddof=1):5.2f}  ({len(values)} seeds)")
    for pair in args.compare:
        treatment, control = pair.split("-")
        for part in ("val", "val_all"):
            for fraction, result in paired_differences(runs, treatment, control, part).items():
                per_seed = " ".join(f"{d:+.2f}" for d in result["differences"].values())
                interval = "" if result["low"] is None else f" [{result['low']:+.2f}, {result['high']:+.2f}]"
                print(f"{treatment} − {control}  {int(fraction * 100):>3} % {part:<8} {result['mean']:+.2f}"
                      f"{interval}   {per_seed}")


if __name__ == "__main__":
    main()
