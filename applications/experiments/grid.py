"""The runs of `reproduce`: experiments × label fractions × seeds, resumable,
several at once in separate processes."""

import json
import multiprocessing
import os
import pickle
from concurrent.futures import ProcessPoolExecutor, as_completed

from applications.experiments.config import EXPERIMENTS, PAPER_EXPERIMENTS
from applications.experiments.run import RunRecord, run_name, write_json_atomically


def save_figures(result, out_dir, name):
    """Fig. 3 (losses) for every run, Fig. 4 (t-SNE of the clustering space) for DEC runs."""
    from applications.experiments.feeding import predict
    from applications.experiments.reports import plot_losses, plot_tsne

    plot_losses(result.histories, os.path.join(out_dir, f"{name}_losses.png"), name)
    if result.dec is not None:
        rows, labels = result.prepared.pretrain_train  # every training row; -1 where unlabelled
        out = predict(result.dec, rows)
        plot_tsne(out["z"], out["q"].argmax(1), labels,
                  os.path.join(out_dir, f"{name}_tsne.png"))


_WORKER = {}


def _start_worker(threads, payload):
    """Process-pool initializer: set the thread counts, then unpack the data."""
    for variable in ("OMP_NUM_THREADS", "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS"):
        os.environ[variable] = str(threads)
    _WORKER.update(pickle.loads(payload))


def run_and_report(experiment, fraction, seed, dataset, config, test_dataset, out_dir):
    """One run with its files and figures; returns its `RunRecord`."""
    import keras

    from applications.experiments.run import run_experiment

    # Many models are built in this process, one run after another: start
    # each from a clean Keras state rather than let traced graphs pile up.
    keras.backend.clear_session()
    result = run_experiment(dataset, experiment, fraction, seed, config, test_dataset, out_dir)
    save_figures(result, out_dir, run_name(experiment, fraction, seed))
    return result.record


def _run_in_worker(experiment, fraction, seed):
    return run_and_report(experiment, fraction, seed, **_WORKER)


def plan_runs(experiments, fractions, seeds):
    """Every `(experiment, label_fraction, seed)` of a grid, in table order."""
    return [(e, f, s) for f in fractions for e in experiments for s in seeds]


def run_grid(dataset, fractions, seeds, config, out_dir, test_dataset=None, jobs=None,
             experiments=PAPER_EXPERIMENTS, log=print):
    """Runs each experiment at each label fraction and seed; resumable via `out_dir`.

    `jobs` runs go at once in separate processes (default:
    `devices.default_jobs`). Every run writes its own files when it ends,
    so an interrupted grid keeps what finished; `results.json` lists the
    finished runs and is rewritten atomically after each.

    Returns:
        The `RunRecord`s of the plan, in table order.
    """
    from applications.experiments.devices import default_jobs

    os.makedirs(out_dir, exist_ok=True)
    results_path = os.path.join(out_dir, "results.json")
    if os.path.exists(results_path):
        with open(results_path) as file:
            previous = json.load(file).get("config")
        if previous != json.loads(json.dumps(config.to_dict())):
            raise ValueError(
                f"{results_path} was produced with other hyper-parameters; resume with the same "
                "ones, or choose another --out."
            )
    plan = plan_runs(experiments, fractions, seeds)
    records, pending = {}, []
    for run in plan:
        record_path = os.path.join(out_dir, f"{run_name(*run)}.json")
        if os.path.exists(record_path):
            with open(record_path) as file:
                records[run] = RunRecord.from_dict(json.load(file))
            log(f"[{len(records)}/{len(plan)}] {run_name(*run)}: already done, skipped")
        else:
            pending.append(run)

    def write_results():
        write_json_atomically(
            {"config": config.to_dict(), "runs": [records[r].to_dict() for r in plan if r in records]},
            results_path,
        )

    def finished(run, record):
        records[run] = record
        write_results()
        val = record.val
        log(
            f"[{len(records)}/{len(plan)}] {run_name(*run)}: val acc2 {100 * val['acc2']:.2f} "
            f"acc2_non0 {100 * val.get('acc2_non0', float('nan')):.2f} f1 {100 * val['f1']:.2f} "
            f"epochs {record.epochs} ({record.seconds:.0f} s)"
        )

    jobs = default_jobs(len(pending)) if jobs is None else max(1, min(jobs, len(pending)))
    if jobs == 1:
        for run in pending:
            finished(run, run_and_report(*run, dataset, config, test_dataset, out_dir))
    elif pending:
        log(f"{len(pending)} runs, {jobs} at a time in separate processes")
        payload = pickle.dumps(dict(dataset=dataset, config=config, test_dataset=test_dataset, out_dir=out_dir))
        threads = max(1, (os.cpu_count() or 1) // jobs)
        with ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("spawn"),
                                 initializer=_start_worker, initargs=(threads, payload)) as pool:
            # Longest runs first (DEC, more labels), so that no core idles at the end.
            order = sorted(pending, key=lambda run: (not EXPERIMENTS[run[0]].dec_pretraining, -run[1]))
            futures = {pool.submit(_run_in_worker, *run): run for run in order}
            try:
                for future in as_completed(futures):
                    finished(futures[future], future.result())
            except BaseException:
                pool.shutdown(wait=False, cancel_futures=True)
                raise
    write_results()
    return [records[r] for r in plan]
