"""`mosi-keras`: demo, reproduce, train, tune and evaluate from the command line."""

import argparse
import json
import multiprocessing
import os
import pickle
import sys
from concurrent.futures import ProcessPoolExecutor, as_completed


def _quiet_tensorflow():
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


DEMO_CONFIG = dict(
    ae_epochs=10, dec_epochs=10, epochs=40, patience=8, learning_rate=5e-4,
    ae_learning_rate=1e-3, dec_learning_rate=5e-4, kmeans_n_init=5, hidden_dim=64,
)
QUICK_CONFIG = dict(ae_epochs=10, dec_epochs=5, epochs=60, patience=8, learning_rate=5e-4, kmeans_n_init=5)


def load_config(path=None, overrides=None):
    from applications.training import TrainingConfig

    values = {}
    if path:
        with open(path) as file:
            values = json.load(file)
        values = values.get("hyperparameters", values)
    values.update(overrides or {})
    return TrainingConfig.from_dict(values)


def strip_private(record):
    return {k: v for k, v in record.items() if not k.startswith("_")}


def save_figures(record, out_dir, name):
    """Fig. 3 for every run, Fig. 4 for DEC runs."""
    import numpy as np

    from applications.reports import plot_losses, plot_tsne

    plot_losses(record["_histories"], os.path.join(out_dir, f"{name}_losses.png"), name)
    dec = record.get("_dec_model")
    if dec is not None:
        prepared = record["_prepared"]
        rows, labels = prepared.pretrain_train  # every training row; -1 where unlabelled
        out = dec.predict(rows, verbose=0)
        plot_tsne(np.asarray(out["z"]), np.asarray(out["q"]).argmax(1), labels,
                  os.path.join(out_dir, f"{name}_tsne.png"))


def default_jobs(runs):
    """Runs at once: one per CPU core on a CPU-only machine, one otherwise.

    These models are too small to keep two cores busy in one process: on
    the project's 2-core CPU, two single-threaded processes trained 1.5x as
    many steps per second as one process with both cores (PERFORMANCE.md).
    With an accelerator, runs would compete for its memory.
    """
    from applications.training import accelerator_visible

    if runs <= 1 or accelerator_visible():
        return 1
    return min(os.cpu_count() or 1, runs)


_WORKER = {}


def _start_worker(threads, payload):
    """Process-pool initializer: set the thread counts, then unpack the data."""
    for variable in ("OMP_NUM_THREADS", "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS"):
        os.environ[variable] = str(threads)
    _WORKER.update(pickle.loads(payload))


def run_and_report(experiment, fraction, seed, dataset, config, test_dataset, out_dir):
    """One run with its files and figures; returns its JSON record."""
    import keras

    from applications.experiment import run_experiment, run_name

    # Many models are built in this process, one run after another: start
    # each from a clean Keras state rather than let traced graphs pile up.
    keras.backend.clear_session()
    record = run_experiment(dataset, experiment, fraction, seed, config, test_dataset, out_dir)
    save_figures(record, out_dir, run_name(experiment, fraction, seed))
    return strip_private(record)


def _run_in_worker(experiment, fraction, seed):
    return run_and_report(experiment, fraction, seed, **_WORKER)


def run_grid(dataset, fractions, seeds, config, out_dir, test_dataset=None, jobs=None, log=print):
    """Runs baseline and DEC at each label fraction and seed; resumable via `out_dir`.

    `jobs` runs go at once in separate processes (default: `default_jobs`).
    Every run writes its own files when it ends, so an interrupted grid
    keeps what finished; `results.json` lists the finished runs.
    """
    from applications.experiment import run_name

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
    plan = [(e, f, s) for f in fractions for e in ("baseline", "dec") for s in seeds]
    records, pending = {}, []
    for run in plan:
        record_path = os.path.join(out_dir, f"{run_name(*run)}.json")
        if os.path.exists(record_path):
            with open(record_path) as file:
                records[run] = json.load(file)
            log(f"[{len(records)}/{len(plan)}] {run_name(*run)}: already done, skipped")
        else:
            pending.append(run)

    def write_results():
        with open(results_path, "w") as file:
            json.dump({"config": config.to_dict(), "runs": [records[r] for r in plan if r in records]},
                      file, indent=2)

    def finished(run, record):
        records[run] = record
        write_results()
        val = record["val"]
        log(
            f"[{len(records)}/{len(plan)}] {run_name(*run)}: val acc2 {100 * val['acc2']:.2f} "
            f"acc2_non0 {100 * val.get('acc2_non0', float('nan')):.2f} f1 {100 * val['f1']:.2f} "
            f"epochs {record['epochs']} ({record['seconds']:.0f} s)"
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
            order = sorted(pending, key=lambda run: (run[0] != "dec", -run[1]))
            futures = {pool.submit(_run_in_worker, *run): run for run in order}
            try:
                for future in as_completed(futures):
                    finished(futures[future], future.result())
            except BaseException:
                pool.shutdown(wait=False, cancel_futures=True)
                raise
    write_results()
    return [records[r] for r in plan]


def print_table(runs):
    from applications.reports import format_table, summarize

    print(format_table(summarize(runs)))


def cmd_demo(args):
    from mosi_keras.data import make_synthetic_mosi

    config = load_config(args.hyperparameters, DEMO_CONFIG)
    dataset = make_synthetic_mosi(n_videos=args.videos, seed=args.seed)
    print(f"demo: {len(dataset)} generated segments from {args.videos} videos, "
          f"features {dataset.feature_dims}, T={dataset.modalities['text'].shape[1]}")
    runs = run_grid(dataset, [args.label_fraction], [args.seed], config, args.out, jobs=args.jobs)
    print_table(runs)


def cmd_reproduce(args):
    from mosi_keras.data import load_dataset

    config = load_config(args.hyperparameters, QUICK_CONFIG if args.quick else None)
    seeds = list(range(args.seeds if args.seeds is not None else (1 if args.quick else 5)))
    dataset = load_dataset(args.data)
    test = load_dataset(args.test_data) if args.test_data else None
    fractions = sorted({args.label_fraction, 1.0})
    print(f"reproduce: {len(dataset)} segments, {len(set(dataset.video_ids))} videos; "
          f"label fractions {fractions}; seeds {seeds}; out {args.out}")
    runs = run_grid(dataset, fractions, seeds, config, args.out, test, jobs=args.jobs)
    print_table(runs)


def cmd_train(args):
    from applications.experiment import run_experiment
    from mosi_keras.data import load_dataset

    config = load_config(args.hyperparameters)
    dataset = load_dataset(args.data)
    test = load_dataset(args.test_data) if args.test_data else None
    record = run_experiment(dataset, args.experiment, args.label_fraction, args.seed, config, test, args.out)
    print(json.dumps(strip_private(record), indent=2))


def cmd_evaluate(args):
    import keras

    from applications.experiment import evaluate_classifier
    from mosi_keras.data import Preprocessor, load_dataset

    preprocessor_path = args.preprocessor or args.model[: -len(".keras")] + "_preprocessor.json"
    if not os.path.exists(args.model):
        raise FileNotFoundError(f"{args.model}: no such model file.")
    if not os.path.exists(preprocessor_path):
        raise FileNotFoundError(
            f"{preprocessor_path}: the preprocessing fitted with this model is missing "
            "(pass it with --preprocessor)."
        )
    model = keras.saving.load_model(args.model, safe_mode=True)
    metrics = evaluate_classifier(model, Preprocessor.load(preprocessor_path), load_dataset(args.data))
    print(json.dumps(metrics, indent=2))


def cmd_tune(args):

    from applications.experiment import prepare_experiment
    from applications.tuning import DECHyperModel, SentimentClassifierHyperModel, make_tuner
    from mosi_keras.data import load_dataset

    base = load_config(args.hyperparameters)
    dataset = load_dataset(args.data)
    prepared = prepare_experiment(dataset, args.label_fraction, args.seed)
    if args.model == "dec":
        hypermodel = DECHyperModel(dataset.feature_dims, prepared.max_len, *prepared.pretrain_train,
                                   prepared.pretrain_val, base_config=base)
    else:
        hypermodel = SentimentClassifierHyperModel(dataset.feature_dims, prepared.max_len, base_config=base)
    tuner = make_tuner(args.tuner, hypermodel, args.out, f"{args.model}_{args.tuner}",
                       max_trials=args.max_trials, max_epochs=args.epochs, seed=args.seed)
    (x, y), (x_val, y_val) = prepared.labelled_train, prepared.labelled_val
    tuner.search(x, y.astype("float32"), validation_data=(x_val, y_val.astype("float32")),
                 epochs=args.epochs, batch_size=base.batch_size, verbose=args.verbose)
    best = tuner.get_best_hyperparameters(1)[0]
    config = hypermodel.config(best)
    trial = tuner.oracle.get_best_trials(1)[0]
    path = os.path.join(args.out, f"best_hyperparameters_{args.model}_{args.tuner}.json")
    with open(path, "w") as file:
        json.dump({"hyperparameters": config.to_dict(), "searched": best.values,
                   "val_accuracy": trial.score, "trials": len(tuner.oracle.trials)}, file, indent=2)
    print(f"best val_accuracy {trial.score:.4f} after {len(tuner.oracle.trials)} trial(s):")
    for name, value in sorted(best.values.items()):
        print(f"  {name} = {value}")
    print(f"written to {path}; use it with --hyperparameters {path}")


JOBS_HELP = "runs at once, each in its own process (default: one per CPU core; 1 with a GPU)"


def build_parser():
    parser = argparse.ArgumentParser(
        prog="mosi-keras",
        description="Multimodal sentiment classification with semi-supervised DEC pre-training.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="the whole pipeline on generated data (a few minutes on a CPU)")
    demo.add_argument("--videos", type=int, default=40, help="generated videos (default 40)")
    demo.add_argument("--label-fraction", type=float, default=0.4, help="share of labelled rows (default 0.4)")
    demo.add_argument("--seed", type=int, default=0)
    demo.add_argument("--out", default="runs/demo", help="output folder (default runs/demo)")
    demo.add_argument("--hyperparameters", help="JSON file of TrainingConfig values")
    demo.add_argument("--jobs", type=int, help=JOBS_HELP)
    demo.set_defaults(func=cmd_demo)

    reproduce = sub.add_parser("reproduce", help="Table 1: baseline vs DEC at a label fraction and at 100 %%")
    reproduce.add_argument("--data", required=True, help="dataset file or folder (npz, HDF5, .csd folder, MMSA pickle)")
    reproduce.add_argument("--test-data", help="held-out dataset, evaluated with each run's preprocessing")
    reproduce.add_argument("--seeds", type=int, default=None, help="number of seeds (default 5; 1 with --quick)")
    reproduce.add_argument("--label-fraction", type=float, default=0.4, help="share of labelled rows (default 0.4)")
    reproduce.add_argument("--out", default="runs/reproduce", help="output folder; rerun to resume (default runs/reproduce)")
    reproduce.add_argument("--quick", action="store_true", help="short schedule, one seed: a smoke run")
    reproduce.add_argument("--hyperparameters", help="JSON file of TrainingConfig values")
    reproduce.add_argument("--jobs", type=int, help=JOBS_HELP)
    reproduce.set_defaults(func=cmd_reproduce)

    train = sub.add_parser("train", help="train one model and print its record as JSON")
    train.add_argument("--data", required=True)
    train.add_argument("--test-data")
    train.add_argument("--experiment", choices=["baseline", "dec"], default="dec")
    train.add_argument("--label-fraction", type=float, default=0.4)
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--out", default="runs/train")
    train.add_argument("--hyperparameters", help="JSON file of TrainingConfig values")
    train.set_defaults(func=cmd_train)

    tune = sub.add_parser("tune", help="keras-tuner search; resumable; writes the best hyper-parameters as JSON")
    tune.add_argument("--data", required=True)
    tune.add_argument("--model", choices=["classifier", "dec"], default="classifier",
                      help="search the classifier alone or DEC pre-training + fine-tuning")
    tune.add_argument("--tuner", choices=["random", "bayesian", "hyperband"], default="random")
    tune.add_argument("--max-trials", type=int, default=10)
    tune.add_argument("--epochs", type=int, default=100, help="epochs per trial (hyperband: max epochs)")
    tune.add_argument("--label-fraction", type=float, default=0.4)
    tune.add_argument("--seed", type=int, default=0)
    tune.add_argument("--out", default="runs/tune", help="tuner directory; rerun with it to resume")
    tune.add_argument("--hyperparameters", help="JSON of fixed TrainingConfig values (epoch counts, ...)")
    tune.add_argument("--verbose", type=int, default=0)
    tune.set_defaults(func=cmd_tune)

    evaluate = sub.add_parser("evaluate", help="metrics of a saved classifier on a dataset, as JSON")
    evaluate.add_argument("model", help="a .keras file written by train or reproduce")
    evaluate.add_argument("--data", required=True)
    evaluate.add_argument("--preprocessor", help="its preprocessing JSON (default: beside the model)")
    evaluate.set_defaults(func=cmd_evaluate)
    return parser


def main(argv=None):
    _quiet_tensorflow()
    args = build_parser().parse_args(argv)
    from mosi_keras.data import DataError

    try:
        args.func(args)
    except (DataError, FileNotFoundError, ValueError) as error:
        print(f"mosi-keras {args.command}: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"\nmosi-keras {args.command}: interrupted; finished runs are kept, rerun with the same --out to resume.",
              file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
