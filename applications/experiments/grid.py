"""The runs of `reproduce`: experiments × label fractions × seeds, resumable,
several at once in separate processes."""

import json
import multiprocessing
import os
import pickle
import re
from concurrent.futures import ProcessPoolExecutor, as_completed

from applications.experiments.config import ConfigError, EXPERIMENTS, PAPER_EXPERIMENTS, TrainingConfig, flatten
from applications.experiments.console import print_line
from applications.experiments.files import write_json_atomically
from applications.experiments.folder_lock import FolderLock
from applications.experiments.run import RunRecord, run_name


_WORKER = {}


def _start_worker(threads, payload):
    """Process-pool initializer: set the thread counts, then unpack the data."""
    for variable in ("OMP_NUM_THREADS", "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS"):
        os.environ[variable] = str(threads)
    _WORKER.update(pickle.loads(payload))


def run_and_report(experiment, fraction, seed, dataset, config, test_dataset, out_dir, progress=True, kfold=0,
                   unlabelled=None, transductive=False):
    """One run with its files and figures; returns its `RunRecord`. With
    `kfold`, the run is the k-fold yardstick's (`kfold.run_kfold`,
    `transductive` or not). `unlabelled`: a dataset whose rows join the
    unlabelled training rows. With `progress`, its stages print their
    progress (`StageProgress`)."""
    import keras

    from applications.experiments.kfold import run_kfold
    from applications.experiments.run import run_experiment

    # Many models are built in this process, one run after another: start
    # each from a clean Keras state rather than let traced graphs pile up.
    keras.backend.clear_session()
    log = print_line if progress else None
    if kfold:
        return run_kfold(dataset, experiment, fraction, seed, kfold, config, out_dir, test_dataset, log, unlabelled,
                         transductive)
    result = run_experiment(dataset, experiment, fraction, seed, config, test_dataset, out_dir, log=log, figures=True,
                            unlabelled=unlabelled)
    return result.record


def _run_in_worker(experiment, fraction, seed):
    return run_and_report(experiment, fraction, seed, **_WORKER)


def plan_runs(experiments, fractions, seeds, pool=False):
    """Every `(experiment, label_fraction, seed)` of a grid, in table order;
    without a `pool` of unlabelled rows from elsewhere, not the experiments
    that only add unlabelled rows at 100 % labels, where they would train
    the classifier (or `dec`) again (`Experiment.unlabelled_only`)."""
    return [(e, f, s) for f in fractions for e in experiments for s in seeds
            if pool or not (f == 1.0 and EXPERIMENTS[e].unlabelled_only)]


def not_run(experiments, fractions, plan):
    """A line for each experiment and fraction of the grid that `plan` leaves
    out (`plan_runs`), saying why and whose runs stand for it."""
    planned = {run[:2] for run in plan}
    return [f"{experiment} at {fraction:.0%} labels: no unlabelled row to learn from, it would train {model} "
            f"again; not run ({runs}'s runs are its figures)"
            for fraction in fractions for experiment in experiments if (experiment, fraction) not in planned
            for model, runs in [("DEC's model", "dec") if EXPERIMENTS[experiment].dec_pretraining
                                else ("the classifier", "the baseline")]]


def longest_first(runs):
    """`runs` in the order to start them: DEC runs first, and among them one
    per seed before a second of the same seed (the first trains the seed's
    autoencoder, which the others then read), more labels first; so that
    no core idles at the end and runs that share stage 1 rarely overlap."""
    rank, seen = {}, {}
    for run in sorted(runs, key=lambda run: -run[1]):
        if EXPERIMENTS[run[0]].dec_pretraining:
            rank[run] = seen.get(run[2], 0)
            seen[run[2]] = rank[run] + 1
    return sorted(runs, key=lambda run: (run not in rank, rank.get(run, 0), -run[1]))


def estimate_left(records, pending, jobs, config, trained=()):
    """Seconds left for the `pending` runs, `jobs` at a time.

    Work is counted as epochs × training rows of each stage: the
    autoencoder's only where a run trains it (the first DEC run of a seed
    not in `trained`, the seeds whose autoencoder is already kept; the
    others read it), the clustering stage's for DEC runs, the task's with
    the mean epochs of `records`, the runs timed so far, which also give the
    seconds per unit of work.
    """
    def task_epochs(record):
        return sum(n for stage, n in record.epochs.items() if stage not in ("autoencoder", "clustering"))

    def work(record):
        rows = record.n_train_labelled + record.n_train_unlabelled
        done = task_epochs(record) * record.n_train_labelled + record.epochs.get("clustering", 0) * rows
        if record.autoencoder_reused is False:
            done += record.epochs.get("autoencoder", 0) * rows
        return done

    if not records:
        return 0.0
    rate = sum(r.seconds for r in records) / max(1.0, sum(work(r) for r in records))
    rows = sum(r.n_train_labelled + r.n_train_unlabelled for r in records) / len(records)
    epochs = sum(task_epochs(r) for r in records) / len(records)
    trained = set(trained) | {r.seed for r in records if EXPERIMENTS[r.experiment].dec_pretraining}
    left = 0.0
    for experiment, fraction, seed in pending:
        left += epochs * fraction * rows
        if EXPERIMENTS[experiment].dec_pretraining:
            left += config.dec_epochs * rows
            if seed not in trained:
                left += config.ae_epochs * rows
                trained.add(seed)
    return left * rate / max(1, jobs)


def protocol(kfold=0, unlabelled=None, transductive=False):
    """What `results.json` says of how its runs were measured: one split, or
    the k-fold yardstick (`transductive` or not), and the file of
    `unlabelled` rows from elsewhere, if any."""
    written = {"name": "kfold", "folds": kfold} if kfold else {"name": "split"}
    if transductive:
        written["transductive"] = True
    if unlabelled is not None:
        written["unlabelled"] = unlabelled.source
    return written


def check_config(results_path, config, measured=None):
    """Refuses to resume in a folder whose `results.json` was made with
    other hyper-parameters or under another protocol (a file without one
    was made with the split)."""
    if not os.path.exists(results_path):
        return
    with open(results_path) as file:
        written = json.load(file)
    measured = measured or protocol()
    if written.get("protocol", protocol()) != measured:
        raise ConfigError(f"{results_path} was measured with protocol {written.get('protocol', protocol())}, not "
                          f"{measured}; resume with the same --protocol, --transductive and --unlabelled, or choose "
                          "another --out.")
    previous = written.get("config") or {}
    # A field added since that file was written had its default value then; a file of 0.11 or before names the
    # backbone's hyper-parameters at the top level.
    previous = {**flatten(TrainingConfig().to_dict()), **flatten(previous)}
    if json.loads(json.dumps(previous)) != json.loads(json.dumps(flatten(config.to_dict()))):
        raise ConfigError(
            f"{results_path} was produced with other hyper-parameters; resume with the same "
            "ones, or choose another --out."
        )


RUN_FILE = re.compile(r"_labels\d{3}_seed\d+\.json$")
"""The record files of runs (`run.run_name` + `.json`); the record itself names its run."""


def finished_runs(out_dir):
    """`{(experiment, label_fraction, seed): RunRecord}` of every finished
    run in `out_dir` (its `<run>.json` is written last), whatever grid
    wrote it."""
    records = {}
    for name in sorted(os.listdir(out_dir)) if os.path.isdir(out_dir) else ():
        if RUN_FILE.search(name):
            with open(os.path.join(out_dir, name)) as file:
                record = RunRecord.from_dict(json.load(file))
            records[(record.experiment, record.label_fraction, record.seed)] = record
    return records


def write_index(out_dir, config, records, plan, measured=None):
    """`results.json`: the config and every finished run of the folder, the
    plan's first in table order, then runs of earlier grids (other
    experiments, seeds or fractions), so that no call narrows it."""
    others = sorted((run for run in records if run not in plan), key=lambda run: (run[1], run[0], run[2]))
    runs = [records[run] for run in [*plan, *others] if run in records]
    write_json_atomically({"config": config.to_dict(), "protocol": measured or protocol(),
                           "runs": [record.to_dict() for record in runs]},
                          os.path.join(out_dir, "results.json"))


def run_pending(pending, jobs, work, finished):
    """Runs `pending`, `jobs` at once in spawned processes (in this one when
    `jobs` is 1), each `run_and_report(*run, **work)`, and calls
    `finished(run, record)` as each ends."""
    if jobs == 1:
        for run in pending:
            finished(run, run_and_report(*run, **work))
        return
    payload = pickle.dumps(work)
    threads = max(1, (os.cpu_count() or 1) // jobs)
    with ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("spawn"),
                             initializer=_start_worker, initargs=(threads, payload)) as pool:
        futures = {pool.submit(_run_in_worker, *run): run for run in longest_first(pending)}
        try:
            for future in as_completed(futures):
                finished(futures[future], future.result())
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)
            raise


def run_grid(dataset, fractions, seeds, config, out_dir, test_dataset=None, jobs=None,
             experiments=PAPER_EXPERIMENTS, log=None, progress=True, kfold=0, unlabelled=None, transductive=False):
    """Runs each experiment at each label fraction and seed; resumable via `out_dir`.

    `jobs` runs go at once in separate processes (default:
    `devices.default_jobs`). Every run writes its own files when it ends,
    so an interrupted grid keeps what finished; `results.json` lists every
    finished run of the folder (`write_index`) and is rewritten atomically
    after each. `log` gets the plan, a line per finished run and an
    estimate of the time left; `progress` makes each run's stages report
    theirs too. With `kfold`, each run is measured on the k-fold yardstick
    (`kfold.run_kfold`: k fold models, every row predicted once;
    `transductive`: each reading its held fold's inputs as unlabelled rows)
    instead of one split's validation videos. `unlabelled`: a dataset
    whose rows join every run's unlabelled training rows.

    One grid at a time writes to `out_dir` (`FolderLock`): a second is
    refused with a message naming the first's process; a lock left by a
    killed grid does not block the next.

    Returns:
        The `RunRecord`s of the plan, in table order.
    """
    work = dict(dataset=dataset, config=config, test_dataset=test_dataset, out_dir=out_dir, progress=progress,
                kfold=kfold, unlabelled=unlabelled, transductive=transductive)
    with FolderLock(out_dir, "mosi-keras reproduce"):
        plan = plan_runs(experiments, fractions, seeds, pool=unlabelled is not None or transductive)
        log = log or (lambda line: None)
        for line in not_run(experiments, fractions, plan):
            log(line)
        return run_plan(plan, work, jobs, log)


def run_plan(plan, work, jobs, log):
    """`run_grid`'s `plan` of runs, once `out_dir` is held."""
    from applications.devices import default_jobs

    config, out_dir, kfold = work["config"], work["out_dir"], work["kfold"]
    measured = protocol(kfold, work["unlabelled"], work["transductive"])
    check_config(os.path.join(out_dir, "results.json"), config, measured)
    records = finished_runs(out_dir)
    pending = [run for run in plan if run not in records]
    for count, run in enumerate([run for run in plan if run in records], start=1):
        log(f"[{count}/{len(plan)}] {run_name(*run)}: already done, skipped")
    timed = []  # the records of the runs finished in this call
    part = "kfold" if kfold else "val"

    def finished(run, record):
        records[run] = record
        timed.append(record)
        write_index(out_dir, config, records, plan, measured)
        scores = getattr(record, part)
        left = [r for r in pending if r not in records]
        trained = {r.seed for r in records.values() if EXPERIMENTS[r.experiment].dec_pretraining}
        estimate = f"; about {estimate_left(timed, left, jobs, config, trained) / 60:.0f} min left" if left else ""
        log(
            f"[{len(plan) - len(left)}/{len(plan)}] {run_name(*run)}: {part} acc2 {100 * scores['acc2']:.2f} "
            f"acc2_non0 {100 * scores.get('acc2_non0', float('nan')):.2f} f1 {100 * scores['f1']:.2f} "
            f"epochs {record.epochs} ({record.seconds:.0f} s){estimate}"
        )

    jobs = default_jobs(len(pending)) if jobs is None else max(1, min(jobs, len(pending)))
    experiments = list(dict.fromkeys(run[0] for run in plan))
    log(f"plan: {len(plan)} runs ({', '.join(experiments)} × label fractions "
        f"{sorted({run[1] for run in plan})} × seeds {sorted({run[2] for run in plan})}"
        f"{f', {kfold} folds each' if kfold else ''}), {len(plan) - len(pending)} already done; {len(pending)} to "
        f"run, {jobs} at a time{' in separate processes' if jobs > 1 else ''}; output {out_dir}")
    run_pending(pending, jobs, work, finished)
    write_index(out_dir, config, records, plan, measured)
    return [records[r] for r in plan]


def seed_ensembles(records, out_dir, test_dataset):
    """The ensemble of each (experiment, label fraction)'s seeds on `test_dataset`.

    Each seed's model (`<run>.keras` in `out_dir`) reads the held-out rows
    with its own preprocessing; their probabilities (or scores) are
    averaged (`run.segment_outputs`). Seeds have different validation
    videos, so only rows that none of them trained on, the held-out
    data, can score their ensemble.

    Returns:
        A list of `{"experiment", "label_fraction", "seeds", "test"}` dicts,
        `test` being `sentiment_metrics` of the ensemble; also written to
        `ensembles.json` in `out_dir`.
    """
    from applications.experiments.inference import evaluate_tasks, load_task

    groups = {}
    for record in records:
        groups.setdefault((record.experiment, record.label_fraction), []).append(record)
    rows = []
    for (experiment, fraction), members in groups.items():
        tasks = [load_task(os.path.join(out_dir, f"{run_name(experiment, fraction, r.seed)}.keras")) for r in members]
        rows.append({"experiment": experiment, "label_fraction": fraction, "seeds": len(members),
                     "test": evaluate_tasks(tasks, test_dataset)})
    write_json_atomically({"ensembles": rows}, os.path.join(out_dir, "ensembles.json"))
    return rows
