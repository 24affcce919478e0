"""`mosi-keras`: demo, reproduce, train, tune, evaluate, predict and featurize from the command line.

This module parses arguments and prints; the work is done in the modules
beside it, imported only once a command runs, so `--help` answers without
loading Keras. Unless `--verbose`, the backend's C++ start-up lines are
kept off standard error (`console.filter_backend_noise`), in worker
processes too; real warnings still show.
"""

import argparse
import dataclasses
import errno
import json
import os
import sys
import traceback

from applications.experiments.config import (
    COMMAND_RECIPES, DEMO, EXPERIMENTS, KFOLD, LABEL_FRACTION, PAPER_EXPERIMENTS, QUICK, RECIPES, SEMI_SUPERVISED,
    TUNE_FOLDS, ConfigError, experiment_names, load_config,
)

EXPERIMENT_CHOICES = sorted([*EXPERIMENTS, "semi_supervised"])
"""What `--experiment(s)` accepts: every experiment, and `semi_supervised` (`config.SEMI_SUPERVISED`)."""


def print_table(records, ensembles=(), wide=False):
    from applications.experiments.reports import format_ensembles, format_paired, format_table, summarize

    print(format_table(summarize(records), wide))
    for lines in (format_paired(records), format_ensembles(ensembles)):
        if lines:
            print(lines)


def cmd_demo(args):
    from applications.experiments.grid import run_grid
    from mosi_keras.data import make_synthetic_mosi

    config = training_config(args, DEMO)
    dataset = make_synthetic_mosi(n_videos=args.videos, seed=args.seed)
    say = quiet_print(args)
    say(f"demo: {len(dataset)} generated segments from {args.videos} videos, "
        f"features {dataset.feature_dims}, T={dataset.modalities['text'].shape[1]}")
    print_table(run_grid(dataset, [args.label_fraction], [args.seed], config, args.out, jobs=args.jobs,
                         log=say, progress=not args.quiet), wide=args.wide)


def cmd_reproduce(args):
    from applications.experiments.grid import run_grid, seed_ensembles
    from mosi_keras.data import load_dataset

    config = training_config(args, QUICK if args.quick else None)
    seeds = list(range(args.seeds if args.seeds is not None else (1 if args.quick else 5)))
    dataset = load_dataset(args.data)
    test = load_dataset(args.test_data) if args.test_data else None
    fractions = sorted(set(args.label_fraction) | {1.0})
    kfold = args.folds if args.protocol == "kfold" else 0
    if args.protocol == "kfold" and args.folds < 2:
        raise ConfigError(f"--folds must be at least 2, got {args.folds}.")
    if args.transductive and not kfold:
        raise ConfigError("--transductive reads each held fold's inputs as unlabelled rows: it needs --protocol kfold.")
    say = quiet_print(args)
    say(f"reproduce: {len(dataset)} segments, {len(set(dataset.video_ids))} videos from {args.data}"
        + (f"; every row predicted by the model of {kfold} video-grouped folds that never saw it" if kfold else ""))
    records = run_grid(dataset, fractions, seeds, config, args.out, test, jobs=args.jobs,
                       experiments=experiment_names(args.experiments), log=say, progress=not args.quiet, kfold=kfold,
                       unlabelled=unlabelled_rows(args), transductive=args.transductive)
    ensembles = seed_ensembles(records, args.out, test) if test is not None and len(seeds) > 1 and not kfold else ()
    print_table(records, ensembles, args.wide)
    if kfold and len(fractions) > 1:
        from applications.experiments.reports import plot_learning_curve

        path = plot_learning_curve(records, args.out)
        say(f"learning curve written to {path}")


def cmd_train(args):
    from applications.experiments.folder_lock import FolderLock
    from applications.experiments.run import run_experiment
    from mosi_keras.data import load_dataset

    config = training_config(args)
    dataset = load_dataset(args.data)
    test = load_dataset(args.test_data) if args.test_data else None
    with FolderLock(args.out, "mosi-keras train"):  # one writer per folder, as reproduce and tune
        experiment = experiment_names([args.experiment])[0]
        result = run_experiment(dataset, experiment, args.label_fraction, args.seed, config, test, args.out,
                                verbose=0 if args.quiet else 1, unlabelled=unlabelled_rows(args))
    print(json.dumps(result.record.to_dict(), indent=2))


def unlabelled_rows(args):
    """The dataset of `--unlabelled`, its labels (if any) never read; `None` without it."""
    from mosi_keras.data import load_dataset

    return None if args.unlabelled is None else load_dataset(args.unlabelled, require_sentiment=False)


def load_tasks(args):
    """The sentiment task of each model file named on the command line."""
    from applications.experiments.inference import load_task

    return [load_task(path) for path in args.model]


def cmd_evaluate(args):
    from applications.experiments.inference import evaluate_tasks
    from mosi_keras.data import load_dataset

    print(json.dumps(evaluate_tasks(load_tasks(args), load_dataset(args.data)), indent=2))


def cmd_predict(args):
    from applications.experiments.files import write_csv_atomically
    from applications.experiments.inference import predict_segments
    from mosi_keras.data import load_dataset

    columns = predict_segments(load_tasks(args), load_dataset(args.data, require_sentiment=False))
    write_csv_atomically(columns, args.out)
    classes = columns["predicted_class"]
    quiet_print(args)(f"{len(classes)} segments ({int(classes.sum())} predicted positive) written to {args.out}")


def cmd_tune(args):
    from applications.experiments.tuning import search
    from mosi_keras.data import load_dataset

    set_distribution(args)
    path, summary = search(
        load_dataset(args.data), args.model, args.tuner, args.out, args.max_trials, args.epochs,
        args.label_fraction, args.seed, training_config(args), 0 if args.quiet else 1,
    )
    if path is None:
        print(f"worker {summary['tuner_id']}: no trial left after {summary['trials']} of its own; "
              "the chief writes the best hyper-parameters")
        return
    print(f"best val_accuracy {summary['val_accuracy']:.4f} (on {summary['scored_on']}) after "
          f"{summary['trials']} trial(s):")
    for name, value in sorted(summary["searched"].items()):
        print(f"  {name} = {value}")
    print(f"written to {path}; use it with --hyperparameters {path}")


def set_distribution(args):
    """`--oracle HOST:PORT` and `--tuner-id ID` as keras-tuner's variables
    (`KERASTUNER_ORACLE_IP`, `KERASTUNER_ORACLE_PORT`, `KERASTUNER_TUNER_ID`),
    which keras-tuner reads itself; a flag wins over a variable already set."""
    if args.oracle:
        host, _, port = args.oracle.rpartition(":")
        if not host or not port.isdigit():
            raise ConfigError(f"--oracle must be HOST:PORT (e.g. 10.0.0.1:8000), got {args.oracle!r}.")
        os.environ.update(KERASTUNER_ORACLE_IP=host, KERASTUNER_ORACLE_PORT=port)
    if args.tuner_id:
        os.environ["KERASTUNER_TUNER_ID"] = args.tuner_id


def cmd_featurize(args):
    from mosi_keras.text_featurizer import TextFeaturizer, featurize_file

    featurizer = TextFeaturizer.from_preset(args.encoder, **({"max_words": args.max_words} if args.max_words else {}))
    say = quiet_print(args)
    say(f"featurize: {args.data} with the encoder of {args.encoder} "
        f"({featurizer.hidden_dim}-d per word, up to {featurizer.max_words} words)")
    arrays = featurize_file(args.data, featurizer, args.out, batch_size=args.batch_size, verbose=0 if args.quiet else 1)
    say(f"{len(arrays['text'])} segments written to {args.out} (text {arrays['text'].shape[1:]}, "
        "other arrays copied)")


def training_config(args, overrides=None):
    """The run's `TrainingConfig`: `overrides` (`tune`: `TUNE_FOLDS` folds),
    `--recipe` (default: `text` with `--text-encoder`, else the command's,
    `COMMAND_RECIPES`), `--hyperparameters`, then `--text-encoder`."""
    if args.command == "tune":
        overrides = {"folds": TUNE_FOLDS, **(overrides or {})}
    if args.preset is not None:
        raise ConfigError(f"--preset {args.preset} is --recipe {args.preset} since 0.15 (a keras-hub preset is a saved "
                          "model folder: from_preset, --text-encoder).")
    recipe = args.recipe or ("text" if args.text_encoder else COMMAND_RECIPES[args.command])
    config = load_config(args.hyperparameters, overrides, recipe)
    return dataclasses.replace(config, text_encoder=args.text_encoder) if args.text_encoder else config


def quiet_print(args):
    """`print` (flushed), or nothing with `--quiet`."""
    from applications.experiments.console import print_line

    return (lambda line: None) if args.quiet else print_line


WIDE_HELP = "print every metric on every part (the default table fits 100 columns; results.json holds all)"
JOBS_HELP = "runs at once, each in its own process (default: one per CPU core; 1 with a GPU)"


def shared_options():
    """The parent parsers of the subcommands (`argparse` `parents=`), each
    option defined once: `common` (`--quiet` / `--verbose`), `training`
    (`--recipe`, `--hyperparameters`), `data` (`--data`), `fraction`
    (`--label-fraction`, one or several), `split` (one, and `--seed`),
    `pool` (`--unlabelled`) and `models` (the `.keras` files)."""
    def parent(*options):
        shared = argparse.ArgumentParser(add_help=False)
        for flags, kwargs in options:
            shared.add_argument(*flags, **kwargs)
        return shared

    fraction_option = (["--label-fraction"], dict(type=float, default=LABEL_FRACTION,
                                                  help=f"share of labelled rows (default {LABEL_FRACTION})"))
    fractions_option = (["--label-fraction"], dict(
        type=float, nargs="+", default=[LABEL_FRACTION], metavar="FRACTION",
        help=f"share(s) of labelled rows, each run beside 100 %% (default {LABEL_FRACTION}; several: the learning "
             "curve)"))
    common = argparse.ArgumentParser(add_help=False)
    chatter = common.add_mutually_exclusive_group()
    chatter.add_argument("--quiet", action="store_true",
                         help="print results only: no plan, progress or time estimates")
    chatter.add_argument("--verbose", action="store_true",
                         help="let the backend's start-up and C++ log lines through to standard error")
    return dict(
        common=common,
        training=parent(
            (["--recipe"], dict(choices=sorted(RECIPES),
                                help="named hyper-parameters: paper (the paper's schedule), small_data (the recipe "
                                     "for ~1k labelled rows, ahead of paper in every measured table) or text "
                                     "(small_data with a fine-tuned text encoder, its epochs and rate chosen on "
                                     "folds; docs/RESULTS.md). Default: text with --text-encoder, else " + ", ".join(
                                         f"{recipe} for {command}" for command, recipe in COMMAND_RECIPES.items()))),
            (["--preset"], dict(help=argparse.SUPPRESS)),  # 0.14's name of --recipe: a message saying so
            (["--hyperparameters"], dict(help="JSON file of TrainingConfig values, over the recipe's")),
            (["--text-encoder"], dict(metavar="PRESET",
                                      help="read the text from the data's transcripts with this preset's encoder, "
                                           "fine-tuned in the model: a local keras-hub / Hugging Face preset folder, "
                                           "or what keras-hub's from_preset takes (bert_base_en_uncased, hf://..., "
                                           "kaggle://...: downloaded and cached by keras-hub); needs the text extra "
                                           "(docs/text.md)")),
        ),
        data=parent((["--data"], dict(required=True,
                                      help="dataset file or folder (npz, HDF5, .csd folder, MMSA pickle)"))),
        fraction=parent(fractions_option),
        split=parent(fraction_option,
                     (["--seed"], dict(type=int, default=0, help="random seed of the split and the weights (default 0)"))),
        pool=parent((["--unlabelled"], dict(metavar="DATA", help=(
            "a dataset file or folder of unlabelled segments from elsewhere (labels, if any, never read), added to "
            "the unlabelled training rows of every semi-supervised experiment; the same modalities and widths as "
            "--data")))),
        models=parent((["model"], dict(nargs="+", help="a .keras file written by train or reproduce, or a preset "
                                                        "folder (task.save_to_preset); several: their ensemble "
                                                        "(mean probability, or mean score)"))),
    )


def build_parser():
    shared = shared_options()
    common, training, data, fraction, split, pool, models = (
        shared[name] for name in ("common", "training", "data", "fraction", "split", "pool", "models"))
    parser = argparse.ArgumentParser(
        prog="mosi-keras",
        description="Multimodal sentiment classification with semi-supervised DEC pre-training.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    def command(name, func, parents=(), out=None, **kwargs):
        """A subcommand with the common `--quiet` / `--verbose`, the shared
        options of `parents`, and `--out` (default `runs/<name>`) described
        by `out`."""
        made = sub.add_parser(name, parents=[common, *parents], allow_abbrev=False, **kwargs)  # --seed ≠ --seeds
        if out:
            made.add_argument("--out", default=f"runs/{name}", help=f"{out} (default runs/{name})")
        made.set_defaults(func=func)
        return made

    demo = command("demo", cmd_demo, [training, split], out="output folder",
                   help="the whole pipeline on generated data (a few minutes on a CPU)")
    demo.add_argument("--videos", type=int, default=40, help="generated videos (default 40)")
    demo.add_argument("--jobs", type=int, help=JOBS_HELP)
    demo.add_argument("--wide", action="store_true", help=WIDE_HELP)

    add_reproduce(command, [training, data, fraction, pool])

    train = command("train", cmd_train, [training, data, split, pool], out="output folder",
                    help="train one model (Keras's progress bar) and print its record as JSON")
    train.add_argument("--test-data", help="held-out dataset to score the model on")
    train.add_argument("--experiment", choices=EXPERIMENT_CHOICES, default="dec",
                       help=f"what to train (default dec; semi_supervised: now {SEMI_SUPERVISED})")

    tune = command("tune", cmd_tune, [training, data, split], out="tuner directory; rerun with it to resume",
                   help=f"keras-tuner search, each trial scored on {TUNE_FOLDS} folds of the labelled training "
                        "videos unless the hyper-parameters set folds; resumable; writes the best as JSON")
    tune.add_argument("--model", choices=["classifier", "dec"], default="classifier",
                      help="search the classifier alone or DEC pre-training + fine-tuning")
    tune.add_argument("--tuner", choices=["random", "bayesian", "hyperband"], default="random")
    tune.add_argument("--max-trials", type=int, default=10)
    tune.add_argument("--epochs", type=int, default=100, help="epochs per trial (hyperband: max epochs)")
    tune.add_argument("--oracle", metavar="HOST:PORT",
                      help="a search spread over processes or machines on keras-tuner's engine: the chief's address "
                           "(the chief listens there; workers connect to it); or set KERASTUNER_ORACLE_IP/_PORT")
    tune.add_argument("--tuner-id", help="this process's id in a distributed search: 'chief' for the chief, any "
                                         "other unique name for a worker; or set KERASTUNER_TUNER_ID")

    add_model_commands(command, models, data)
    return parser


def add_reproduce(command, parents):
    """`reproduce`, with the shared options of `parents` and its own."""
    reproduce = command("reproduce", cmd_reproduce, parents, out="output folder; rerun to resume",
                        help="Table 1: baseline vs DEC at a label fraction and at 100 %%")
    reproduce.add_argument("--test-data", help="held-out dataset, evaluated with each run's preprocessing")
    reproduce.add_argument("--seeds", type=int, default=None, help="number of seeds (default 5; 1 with --quick)")
    reproduce.add_argument("--experiments", nargs="+", choices=EXPERIMENT_CHOICES, default=list(PAPER_EXPERIMENTS),
                           help="experiments to run (default: the paper's baseline and dec; the *_regression "
                                "ones predict the score and add Acc-7, MAE and Corr; semi_supervised: the best "
                                f"measured semi-supervised one, now {SEMI_SUPERVISED})")
    reproduce.add_argument("--protocol", choices=["split", "kfold"], default="split",
                           help="split: the paper's (one video-grouped split per seed, measured on its validation "
                                "videos); kfold: the yardstick that compares methods (every row predicted by the "
                                "model of --folds video-grouped folds that never saw its video; each fold's choices "
                                "made on its own training folds; docs/RESULTS.md)")
    reproduce.add_argument("--folds", type=int, default=KFOLD, help=f"folds of --protocol kfold (default {KFOLD})")
    reproduce.add_argument("--transductive", action="store_true",
                           help="with --protocol kfold: each fold's semi-supervised models also read the held fold's "
                                "inputs as unlabelled rows (labels hidden); reported apart (its own --out)")
    reproduce.add_argument("--quick", action="store_true", help="short schedule, one seed: a smoke run")
    reproduce.add_argument("--jobs", type=int, help=JOBS_HELP)
    reproduce.add_argument("--wide", action="store_true", help=WIDE_HELP)


def add_model_commands(command, models, data):
    """`evaluate`, `predict` (of saved models) and `featurize` (of a text encoder)."""
    command("evaluate", cmd_evaluate, [models, data],
            help="metrics of a saved model (or the ensemble of several) on a dataset, as JSON")

    predict = command("predict", cmd_predict, [models],
                      help="predict the sentiment of new segments (no labels needed) into a CSV")
    predict.add_argument("--data", required=True,
                         help="segments to predict on: a dataset file or folder; 'sentiment' may be absent")
    predict.add_argument("--out", default="predictions.csv",
                         help="CSV to write: segment_id, video_id, probability (or score), predicted_class "
                              "(default predictions.csv)")
    featurize = command("featurize", cmd_featurize,
                        help="text features from transcripts with a keras-hub encoder (needs the text extra)")
    featurize.add_argument("--data", required=True,
                           help="kit-layout .npz or HDF5 file with a 'transcript' array (one string per segment)")
    featurize.add_argument("--encoder", required=True,
                           help="a BERT-style encoder's preset: a local keras-hub or Hugging Face preset folder, or a "
                                "keras-hub preset name, hf://... or kaggle://... handle")
    featurize.add_argument("--out", required=True, help="file to write (.npz or .h5): the data, text replaced")
    featurize.add_argument("--max-words", type=int, help="words kept per transcript (default: the paper's length, "
                           "mosi_keras.inputs.MAX_LEN = 30)")
    featurize.add_argument("--batch-size", type=int, default=32, help="transcripts per encoder call (default 32)")


def main(argv=None):
    args = build_parser().parse_args(argv)
    from applications.devices import keep_compiled_steps

    keep_compiled_steps()
    if not args.verbose:
        from applications.experiments.console import filter_backend_noise

        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # TensorFlow's own Python-side logging
        filter_backend_noise()
    from applications.experiments.folder_lock import FolderInUse
    from mosi_keras.data import DataError
    from mosi_keras.text_encoder import TextEncoderError

    try:
        args.func(args)
    except (DataError, TextEncoderError, ConfigError, FileNotFoundError, FolderInUse) as error:
        print(f"mosi-keras {args.command}: error: {error}", file=sys.stderr)  # bad input: one line names it
        return 2
    except OSError as error:
        print(f"mosi-keras {args.command}: error: {os_error_message(error, args.command in RESUMABLE)}",
              file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"\nmosi-keras {args.command}: interrupted; finished runs are kept, rerun with the same --out to resume.",
              file=sys.stderr)
        return 130
    except Exception:  # not bad input: a bug of ours (or of a library), shown whole
        traceback.print_exc()
        print(f"mosi-keras {args.command}: internal error: this is a bug in mosi-keras, not in your input; please "
              "report it with the traceback above.", file=sys.stderr)
        return 1
    return 0


RESUMABLE = ("demo", "reproduce", "train", "tune")
"""The commands that resume from their `--out` when run again."""

OS_ERRORS = {
    errno.ENOSPC: "the disk is full", errno.EDQUOT: "the disk quota is used up",
    errno.EROFS: "the file system is read-only", errno.EACCES: "permission denied", errno.EPERM: "permission denied",
    errno.ENOENT: "no such file or folder", errno.ENOTDIR: "not a folder", errno.EISDIR: "a folder, not a file",
}


def os_error_message(error, resumable):
    """What failed, from the `OSError` itself: the file, the cause (disk
    full, read-only, permission, missing), and, for a command that resumes,
    that finished work is intact (every file is written whole or not at all)."""
    cause = OS_ERRORS.get(error.errno, error.strerror or str(error))
    where = error.filename or "a file"
    message = f"{where}: {cause}"
    if not resumable:
        return message + "."
    fix = {errno.ENOSPC: "free space", errno.EDQUOT: "free space"}.get(
        error.errno, "fix the folder (permissions, mount)")
    return (f"{message}. Files are written whole or not at all, so every finished run's files are intact; {fix}, "
            "then rerun the same command to resume.")


if __name__ == "__main__":
    sys.exit(main())
