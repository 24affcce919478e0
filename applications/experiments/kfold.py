"""The k-fold yardstick: every row of the data predicted once per seed, by a model that never saw its video.

`reproduce --protocol kfold` (#43). Per seed, the videos fall into `k`
video-grouped folds (`folds.video_folds`). For each fold, the run of the
paper's protocol (`run.run_experiment`) is made on the other `k − 1`
folds alone: their videos are split into training and validation videos,
labelled and unlabelled (`semi_supervised_split`, the label fraction drawn
among them), so whatever a method chooses (an early-stopping epoch) is
chosen on those folds' own validation videos. The held fold is only
predicted. Pooled over the folds, every row has one prediction, and the
seed's metrics are over every row (`RunRecord.kfold`): about 1,450 rows on
the development file instead of one split's ~300 validation rows.

Methods run with the same seed are paired: the same folds, the same
labelled videos, the same validation videos (the split depends on the seed
and the rows only), so `reports.paired_differences` on `kfold` compares
them seed by seed.

Each fold writes its record (`<run>_fold<i>.json`), histories and held
outputs (`<run>_fold<i>_held.npz`) under `folds/` as it ends, so an
interrupted run resumes at its next fold; its model is not kept (the
pooled predictions are the product). DEC's stage 1 of a fold (and a text
encoder's word states) are kept in `out_dir` as a split run keeps them,
so a second DEC experiment of the same fold and seed (`dec_without_kl`)
reads them instead of training them again. The seed's pooled record
`<run>.json` is written last, as for a run of the split protocol.
"""

import json
import os

import numpy as np

from applications.experiments.config import EXPERIMENTS
from applications.experiments.files import write_json_atomically
from applications.experiments.folds import mean_metrics, video_folds
from applications.experiments.preparation import with_unlabelled
from applications.experiments.run import RunRecord, run_experiment, run_name, write_run
from applications.experiments.training import TASKS
from mosi_keras.data.atomic import write_atomically
from mosi_keras.evaluation import sentiment_metrics

FOLDS_DIR = "folds"
"""The folder of `out_dir` that holds each fold's record, histories and held outputs."""


def fold_name(experiment, label_fraction, seed, fold):
    return f"{run_name(experiment, label_fraction, seed)}_fold{fold}"


def run_fold(dataset, experiment, label_fraction, seed, fold, k, config, out_dir, test_dataset=None, log=None,
             unlabelled=None, transductive=False):
    """Fold `fold` of `k`: the run on the other folds, its outputs on the held one.

    `unlabelled` (a dataset from elsewhere) joins every fold's unlabelled
    training rows; `transductive` adds the held fold's own inputs there too
    (its labels hidden: `preparation.with_unlabelled` drops them), as a
    model that may read the rows it will be asked about, unlabelled.

    Returns:
        `(record, held, outputs)`: the fold run's `RunRecord`, the positions
        of the held rows in `dataset`, and the model's output on each
        (logit, or score for a regressor).
    """
    folder = os.path.join(out_dir, FOLDS_DIR)
    name = fold_name(experiment, label_fraction, seed, fold)
    outputs_path = os.path.join(folder, f"{name}_held.npz")
    record_path = os.path.join(folder, f"{name}.json")
    if os.path.exists(record_path):  # finished by an earlier call
        with open(record_path) as file, np.load(outputs_path) as held:
            return RunRecord.from_dict(json.load(file)), held["rows"], held["outputs"]
    from applications.experiments.inference import predict_outputs

    fit, held = video_folds(dataset.video_ids, k, seed)[fold]
    if transductive:
        unlabelled = dataset.subset(held) if unlabelled is None else with_unlabelled(dataset.subset(held), unlabelled)
    result = run_experiment(dataset.subset(fit), experiment, label_fraction, seed, config, test_dataset, log=log,
                            name=name, unlabelled=unlabelled, cache_dir=out_dir)
    outputs = predict_outputs(result.model, dataset.subset(held))
    os.makedirs(folder, exist_ok=True)
    write_atomically(outputs_path, lambda partial: np.savez(partial, rows=held, outputs=outputs), ".npz")
    write_run(result, folder, name, save_model=False)  # its record last: the fold is done
    return result.record, held, outputs


def run_kfold(dataset, experiment, label_fraction, seed, k, config, out_dir, test_dataset=None, log=None,
              unlabelled=None, transductive=False):
    """The `k` folds of one experiment, label fraction and seed (`run_fold`),
    pooled (`pool_folds`); writes `<run>.json` in `out_dir` and returns its record."""
    folds = [run_fold(dataset, experiment, label_fraction, seed, fold, k, config, out_dir, test_dataset, log,
                      unlabelled, transductive) for fold in range(k)]
    record = pool_folds(dataset, folds)
    write_json_atomically(record.to_dict(), os.path.join(out_dir, f"{run_name(experiment, label_fraction, seed)}.json"))
    return record


def pool_folds(dataset, folds):
    """One seed's `RunRecord` from its folds' `(record, held, outputs)`:
    `kfold` is `sentiment_metrics` of every held row (each row once);
    counts and epochs are the folds' means, `test` the mean of the folds'
    own, `seconds` their sum. The folds' `val` (their own validation
    videos, among the training folds) stay in their records."""
    records = [record for record, _, _ in folds]
    rows = np.concatenate([held for _, held, _ in folds])
    outputs = np.concatenate([out for _, _, out in folds])
    if len(rows) != len(dataset) or len(np.unique(rows)) != len(dataset):
        raise ValueError(f"the folds hold {len(np.unique(rows))} distinct rows of {len(dataset)}.")
    first = records[0]
    return RunRecord(
        experiment=first.experiment, label_fraction=first.label_fraction, seed=first.seed, params=first.params,
        epochs={stage: float(np.mean([r.epochs.get(stage, 0) for r in records])) for stage in first.epochs},
        n_train_labelled=int(round(np.mean([r.n_train_labelled for r in records]))),
        n_train_unlabelled=int(round(np.mean([r.n_train_unlabelled for r in records]))),
        n_val=int(len(rows)), val=None, test=mean_metrics([r.test for r in records]) if first.test else None,
        seconds=round(sum(r.seconds for r in records), 1),
        kfold=sentiment_metrics(dataset.sentiment[rows], outputs,
                                predicts_score=TASKS[EXPERIMENTS[first.experiment].task].PREDICTS_SCORE),
        folds=len(records),
    )
