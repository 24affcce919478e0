"""The `mosi-keras` command line. The commands that train read, or continue
on a copy, the session's one small reproduce (`reproduced`)."""

import contextlib
import csv
import errno
import io
import json
import os
import re

import keras
import numpy as np
import pytest

from applications.experiments import files as run_files
from applications.experiments.cli import main
from tests.applications.conftest import reproduce_argv


def same_records(one, two, tolerance=1e-6, ignore=("seconds",)):
    """Whether two `results.json` runs agree: every field but those of
    `ignore` (the time), numbers to `tolerance`."""
    def flat(value, key=""):
        if isinstance(value, dict):
            return {k: v for name, item in value.items() if name not in ignore
                    for k, v in flat(item, f"{key}.{name}").items()}
        if isinstance(value, list):
            return {k: v for index, item in enumerate(value) for k, v in flat(item, f"{key}[{index}]").items()}
        return {key: value}

    a, b = flat(one), flat(two)
    return a.keys() == b.keys() and all(
        a[k] == pytest.approx(b[k], abs=tolerance) if isinstance(a[k], float) else a[k] == b[k] for k in a)


def quietly(argv):
    """`main(argv)` with what it prints to standard output kept: `(code, printed)`."""
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        code = main(argv)
    return code, printed.getvalue()


def read_runs(out):
    return json.loads((out / "results.json").read_text())["runs"]


def test_reproduce_writes_every_run_with_its_files_and_resumes_without_rerunning(reproduced, tmp_path, capsys):
    runs, out = reproduced.runs, reproduced.out
    assert [(r["experiment"], r["label_fraction"]) for r in runs] == [
        ("baseline", 0.4), ("dec", 0.4), ("baseline", 1.0), ("dec", 1.0)]
    for run in runs:
        assert {"experiment", "label_fraction", "seed", "params", "epochs", "val", "val_all", "test"} <= set(run)
        assert {"acc2", "acc2_non0", "f1"} <= set(run["val"]) and run["test"]["n"] == 13
    for name in ("dec_labels040_seed0_tsne.png", "baseline_labels040_seed0_losses.png",
                 "dec_labels040_seed0_history_autoencoder.csv", "dec_labels100_seed0.keras"):
        assert (out / name).exists()
    assert [r.get("autoencoder_reused") for r in runs if r["experiment"] == "dec"] == [False, True]
    copy = reproduced.copy(tmp_path / "again")
    stamp = os.path.getmtime(copy / "dec_labels040_seed0.keras")
    code, printed = quietly(reproduce_argv(reproduced.files, copy))
    assert code == 0 and printed.count("already done, skipped") == 4
    assert os.path.getmtime(copy / "dec_labels040_seed0.keras") == stamp
    assert same_records(read_runs(copy), runs, tolerance=0.0)
    changed = json.loads((reproduced.files / "hp.json").read_text())
    changed["epochs"] = 3
    (tmp_path / "other.json").write_text(json.dumps(changed))
    assert main(reproduce_argv(reproduced.files, copy, "--hyperparameters", str(tmp_path / "other.json"))) == 2
    assert "other hyper-parameters" in capsys.readouterr().err
    written = json.loads((copy / "results.json").read_text())
    del written["config"]["videos_per_batch"]  # as written before that field existed: its default then
    written["config"].update(written["config"].pop("backbone"))  # as 0.11 wrote it: the backbone's at the top
    (copy / "results.json").write_text(json.dumps(written))
    code, printed = quietly(reproduce_argv(reproduced.files, copy))
    assert code == 0 and "already done" in printed


def test_reproduce_prints_its_plan_stage_progress_and_time_left_unless_quiet(reproduced, tmp_path):
    printed = reproduced.printed
    assert "plan: 4 runs (baseline, dec × label fractions [0.4, 1.0] × seeds [0]), 0 already done" in printed
    for stage in ("autoencoder", "clustering", "classifier"):
        assert f"dec_labels040_seed0: {stage} started" in printed
        assert f"dec_labels040_seed0: {stage} done" in printed
    assert "min left" in printed  # an estimate after each run but the last
    table = printed.split("model", 1)[1]
    assert "baseline" in table and "acc2" in table and "dec − baseline, val acc2" in table
    code, quiet = quietly(reproduce_argv(reproduced.files, reproduced.copy(tmp_path / "quiet"), "--quiet"))
    assert code == 0
    assert "plan:" not in quiet and "already done" not in quiet and "min left" not in quiet
    assert quiet.split("model", 1)[1] == table  # the table alone, the same


@pytest.fixture(scope="module")
def two_seeds(reproduced, tmp_path_factory):
    """The shared reproduce continued, on a copy, with a second seed of the
    baseline at 100 % labels: `(folder, what it printed, what the tries that
    failed printed to standard error, one string per try)`. The first four
    tries fail at a write, as a full disk or a read-only folder makes it
    fail: while the model, its history, its record and `results.json` are
    being written; each is rerun as it was."""
    out = reproduced.copy(tmp_path_factory.mktemp("two_seeds") / "out")
    argv = reproduce_argv(reproduced.files, out, "--seeds", "2", "--label-fraction", "1.0", "--experiments",
                          "baseline", "--quiet")
    run = "baseline_labels100_seed1"
    failures = [(keras.Model, "save", disk_full_at_save(f"{run}.partial.keras", keras.Model.save)),
                (run_files, "open", failing_open(f"{run}_history_classifier.partial.csv", errno.ENOSPC)),
                (run_files, "open", failing_open(f"{run}.partial.json", errno.EROFS)),
                (run_files, "open", failing_open("results.partial.json", errno.ENOSPC))]
    errors = []
    for owner, name, failing in failures:
        errors.append(io.StringIO())
        with pytest.MonkeyPatch.context() as patch, contextlib.redirect_stderr(errors[-1]):
            patch.setattr(owner, name, failing, raising=False)
            assert quietly(argv)[0] == 2
        assert not list(out.glob("*.partial*"))
    code, printed = quietly(argv)
    assert code == 0
    return out, printed, [error.getvalue() for error in errors]


def disk_full_at_save(name, save):
    """`keras.Model.save` that fills the disk while it writes the file called
    `name`: part of the file is written, then ENOSPC, as zipfile or h5py
    raise it on a full disk."""
    def failing(model, filepath, *args, **kwargs):
        if os.path.basename(os.fspath(filepath)) == name:
            with open(filepath, "wb") as file:
                file.write(b"PK\x03\x04 a zip cut short")
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), os.fspath(filepath))
        return save(model, filepath, *args, **kwargs)

    return failing


def failing_open(name, number):
    """`open` for the run files' writers (`applications.experiments.files`)
    whose file called `name` fails at its first write with `number` (ENOSPC,
    EROFS) after half of that write reached the file, as a full disk or a
    file system remounted read-only makes it fail."""
    class Failing(io.TextIOWrapper):
        def write(self, text):
            super().write(text[: len(text) // 2])
            self.flush()
            raise OSError(number, os.strerror(number), self.name)

    def opener(path, mode="r", **kwargs):
        if os.path.basename(os.fspath(path)) != name or "w" not in mode:
            return open(path, mode, **kwargs)
        return Failing(open(path, "wb"), **{k: v for k, v in kwargs.items() if k in ("encoding", "newline")})

    return opener


def test_a_reproduce_that_fails_at_each_write_names_it_keeps_every_finished_run_and_resumes(reproduced, two_seeds):
    out, printed, errors = two_seeds
    causes = ["the disk is full", "the disk is full", "the file system is read-only", "the disk is full"]
    written = ["baseline_labels100_seed1.partial.keras", "baseline_labels100_seed1_history_classifier.partial.csv",
               "baseline_labels100_seed1.partial.json", "results.partial.json"]
    for error, cause, name in zip(errors, causes, written):
        assert f"{name}: {cause}" in error and "Traceback" not in error
        assert "every finished run's files are intact" in error and "rerun the same command to resume" in error
    assert "free space" in errors[0] and "fix the folder" in errors[2]
    assert "already done, skipped" not in printed  # --quiet; the four earlier runs were not trained again:
    for run in reproduced.runs:
        name = f"{run['experiment']}_labels{int(run['label_fraction'] * 100):03d}_seed0.keras"
        assert os.path.getmtime(out / name) == os.path.getmtime(reproduced.out / name)
    assert not list(out.glob("*.partial*"))
    with open(out / "baseline_labels100_seed1_history_classifier.csv", newline="") as file:
        assert len(list(csv.reader(file))) > 1  # whole: the header and every epoch


def test_a_reproduce_with_other_experiments_or_seeds_adds_to_the_index_and_prints_what_it_ran(reproduced, two_seeds):
    out, printed, _ = two_seeds
    runs = read_runs(out)
    assert [(r["experiment"], r["label_fraction"], r["seed"]) for r in runs] == [
        ("baseline", 1.0, 0), ("baseline", 1.0, 1), ("baseline", 0.4, 0), ("dec", 0.4, 0), ("dec", 1.0, 0)]
    for run in reproduced.runs:  # the earlier runs are listed as they were
        assert any(same_records(run, other, tolerance=0.0) for other in runs)
    table = printed.split("model", 1)[1]
    assert re.search(r"\nbaseline\s+100%\s", table) and re.search(r"2\s+seed\(s\)", table)  # one row: 2 seeds
    assert "\ndec " not in table and " 40%" not in table


@pytest.mark.slow  # run with -m slow; in the default suite: test_inference's ensemble test
def test_reproduce_with_held_out_data_prints_the_seed_ensemble_and_evaluate_averages_files(reproduced, two_seeds,
                                                                                          tmp_path, capsys):
    files, (out, printed, _) = reproduced.files, two_seeds
    ensemble = json.loads((out / "ensembles.json").read_text())["ensembles"]
    assert [(row["experiment"], row["seeds"]) for row in ensemble] == [("baseline", 2)]
    assert (f"seed ensemble of baseline (2 seeds, 100% labels), test: acc2 {100 * ensemble[0]['test']['acc2']:.2f}"
            in printed)
    models = [str(out / f"baseline_labels100_seed{seed}.keras") for seed in (0, 1)]
    assert main(["evaluate", *models, "--data", str(files / "test.h5")]) == 0
    assert json.loads(capsys.readouterr().out) == ensemble[0]["test"]
    assert main(["predict", *models, "--data", str(files / "test.h5"), "--out", str(tmp_path / "e.csv")]) == 0
    singles = []
    for path in models:
        assert main(["predict", path, "--data", str(files / "test.h5"), "--out", str(tmp_path / "one.csv")]) == 0
        singles.append(np.loadtxt(tmp_path / "one.csv", delimiter=",", skiprows=1, usecols=2))
    probability = np.loadtxt(tmp_path / "e.csv", delimiter=",", skiprows=1, usecols=2)
    np.testing.assert_allclose(probability, np.mean(singles, axis=0), atol=1e-5)  # the members' mean


def test_evaluate_prints_the_metrics_the_run_measured_on_the_same_file(reproduced, capsys):
    for run in reproduced.runs[1:3]:  # a DEC-pre-trained and a baseline classifier
        model = reproduced.out / f"{run['experiment']}_labels{int(run['label_fraction'] * 100):03d}_seed0.keras"
        assert main(["evaluate", str(model), "--data", str(reproduced.files / "test.h5")]) == 0
        printed = json.loads(capsys.readouterr().out)
        assert printed.keys() == run["test"].keys()
        assert printed == pytest.approx(run["test"], abs=1e-6)


def test_predict_writes_one_row_per_segment_of_a_file_without_labels(reproduced, tmp_path, capsys):
    model = str(reproduced.out / "baseline_labels040_seed0.keras")
    with np.load(reproduced.files / "train.npz") as archive:
        arrays = {key: archive[key] for key in archive.files if key != "sentiment"}
    np.savez(tmp_path / "new.npz", **arrays)
    assert main(["predict", model, "--data", str(tmp_path / "new.npz"), "--out", str(tmp_path / "p.csv")]) == 0
    assert "written to" in capsys.readouterr().out
    with open(tmp_path / "p.csv") as file:
        rows = list(csv.DictReader(file))
    assert list(rows[0]) == ["segment_id", "video_id", "probability", "predicted_class"]
    assert [row["segment_id"] for row in rows] == arrays["segment_id"].tolist()
    for row in rows:
        assert 0.0 <= float(row["probability"]) <= 1.0
        assert int(row["predicted_class"]) == int(float(row["probability"]) >= 0.5)
    arrays["audio"] = arrays["audio"][..., :2]
    np.savez(tmp_path / "narrow.npz", **arrays)
    assert main(["predict", model, "--data", str(tmp_path / "narrow.npz"), "--out", str(tmp_path / "q.csv")]) == 2
    assert "modality 'audio' has 2 features" in capsys.readouterr().err
    assert not (tmp_path / "q.csv").exists()


@pytest.mark.slow  # run with -m slow; in the default suite: the contextual and regressor task tests
def test_reproduce_runs_the_contextual_and_regression_experiments_beside_the_papers(reproduced, tmp_path, capsys):
    files, out = reproduced.files, reproduced.copy(tmp_path / "more")
    code, printed = quietly(reproduce_argv(files, out, "--label-fraction", "1.0", "--quiet", "--experiments",
                                           "baseline", "contextual", "baseline_regression", "dec_regression"))
    assert code == 0
    runs = {r["experiment"]: r for r in read_runs(out) if r["label_fraction"] == 1.0}
    assert set(runs["contextual"]) == set(runs["baseline"]) and set(runs["contextual"]["epochs"]) == {
        "contextual_classifier"}
    assert "contextual − baseline, val_all acc2" in printed
    for name in ("baseline_regression", "dec_regression"):
        assert {"acc2", "acc2_non0", "f1", "acc7", "mae", "corr"} <= set(runs[name]["val"])
    assert runs["dec_regression"]["autoencoder_reused"]  # the seed's stage 1, trained by the dec runs
    header = printed.split("model", 1)[1].splitlines()[0]
    for column in ("val acc2", "val acc7", "val mae", "val corr"):
        assert column in header
    contextual = str(out / "contextual_labels100_seed0.keras")
    assert main(["evaluate", contextual, "--data", str(files / "test.h5")]) == 0
    assert json.loads(capsys.readouterr().out) == pytest.approx(runs["contextual"]["test"], abs=1e-6)
    assert main(["predict", contextual, "--data", str(files / "test.h5"), "--out", str(tmp_path / "p.csv")]) == 0
    lines = (tmp_path / "p.csv").read_text().splitlines()
    assert lines[0].startswith("segment_id,video_id,probability") and len(lines) == 14
    regressor = str(out / "dec_regression_labels100_seed0.keras")
    capsys.readouterr()
    assert main(["evaluate", regressor, "--data", str(files / "test.h5")]) == 0
    assert json.loads(capsys.readouterr().out)["mae"] == pytest.approx(runs["dec_regression"]["test"]["mae"])


@pytest.mark.cited
@pytest.mark.slow  # run with -m slow; in the default suite: one process
def test_reproduce_in_parallel_processes_gives_the_records_of_one_process(reproduced, tmp_path):
    out = tmp_path / "parallel"
    code, printed = quietly(reproduce_argv(reproduced.files, out, "--label-fraction", "1.0", "--jobs", "2"))
    assert code == 0 and "2 to run, 2 at a time in separate processes" in printed
    one_process = [run for run in reproduced.runs if run["label_fraction"] == 1.0]
    parallel = read_runs(out)
    # Each process trains its own stage 1 where the one process reused the 40 % run's: the same weights.
    assert len(parallel) == 2 and all(same_records(a, b, ignore=("seconds", "autoencoder_reused"))
                                      for a, b in zip(parallel, one_process))
    assert (out / "dec_labels100_seed0_tsne.png").exists()


def test_missing_data_file_is_a_clear_error_not_a_traceback(files, capsys):
    assert main(["reproduce", "--data", str(files / "absent.npz"), "--out", str(files / "o")]) == 2
    assert "absent.npz: no such file" in capsys.readouterr().err


def test_unknown_hyperparameter_is_a_clear_error(files, capsys):
    with open(files / "bad.json", "w") as file:
        json.dump({"hiden_dim": 3}, file)
    assert main(["train", "--data", str(files / "train.npz"), "--hyperparameters", str(files / "bad.json")]) == 2
    assert "hiden_dim" in capsys.readouterr().err


def test_help_of_every_command_loads_no_backend():
    import subprocess
    import sys

    script = (
        "import sys\n"
        "from applications.experiments.cli import main\n"
        "for command in ([], ['demo'], ['reproduce'], ['train'], ['tune'], ['evaluate'], ['predict']):\n"
        "    try:\n"
        "        main(command + ['--help'])\n"
        "    except SystemExit:\n"
        "        pass\n"
        "print('LOADED', sorted(m for m in ('keras', 'tensorflow', 'jax', 'torch') if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "LOADED []" in done.stdout


@pytest.mark.slow  # run with -m slow; in the default suite: the shared reproduce runs the same grid
def test_demo_runs_the_whole_pipeline_and_prints_its_table(files, tmp_path, capsys):
    """The main job's command path, on fewer generated videos with the tiny
    schedule; its figures are checked by the slow test below."""
    assert main(["demo", "--videos", "12", "--out", str(tmp_path), "--jobs", "1",
                 "--hyperparameters", str(files / "hp.json")]) == 0
    printed = capsys.readouterr().out
    assert printed.startswith("demo: ") and "plan: 2 runs (baseline, dec" in printed
    runs = json.loads((tmp_path / "results.json").read_text())["runs"]
    assert [(r["experiment"], r["label_fraction"]) for r in runs] == [("baseline", 0.4), ("dec", 0.4)]
    assert (tmp_path / "dec_labels040_seed0_tsne.png").exists() and "dec − baseline, val acc2" in printed


@pytest.mark.slow
def test_demo_dec_matches_or_beats_its_baseline_and_predicts_both_classes(tmp_path, capsys):
    assert main(["demo", "--out", str(tmp_path), "--quiet"]) == 0
    runs = {r["experiment"]: r for r in json.loads((tmp_path / "results.json").read_text())["runs"]}
    dec, baseline = runs["dec"], runs["baseline"]
    for part in ("val", "val_all"):
        assert dec[part]["acc2"] >= baseline[part]["acc2"]
        assert 0.2 < dec[part]["predicted_positive"] < 0.8
    # the generated data's clusters are its classes: stage 2 finds them
    assert dec["clusters"]["after_clustering"]["cluster_acc"] > 0.8


def test_a_bug_of_ours_shows_its_traceback_and_where_to_report_it_and_bad_input_stays_one_line(
        files, capsys, monkeypatch):
    import applications.experiments.run as run

    def shape_bug(*args, **kwargs):
        raise ValueError("Input 0 of layer 'dense' is incompatible with the layer")  # what Keras raises

    monkeypatch.setattr(run, "run_experiment", shape_bug)
    assert main(["train", "--data", str(files / "train.npz"), "--quiet"]) == 1
    error = capsys.readouterr().err
    assert "Traceback" in error and "incompatible with the layer" in error
    assert "internal error: this is a bug in mosi-keras, not in your input; please report it" in error
    assert main(["train", "--data", str(files / "missing.npz"), "--quiet"]) == 2
    error = capsys.readouterr().err
    assert "missing.npz" in error and "Traceback" not in error and len(error.strip().splitlines()) == 1
    (files / "frozen.json").write_text(json.dumps({"text_frozen_layers": -1}))
    assert main(["train", "--data", str(files / "train.npz"), "--hyperparameters", str(files / "frozen.json")]) == 2
    assert "text_frozen_layers must be 0 or more, got -1" in capsys.readouterr().err


def test_train_and_tune_default_to_the_best_measured_recipe_reproduce_to_the_papers_a_text_encoder_to_text(files):
    import dataclasses

    from applications.experiments.cli import build_parser, training_config
    from applications.experiments.config import TEXT_EPOCHS, TEXT_LEARNING_RATE, load_config

    def config(*argv):
        return training_config(build_parser().parse_args([*argv, "--data", str(files / "train.npz")]))

    assert config("train") == config("train", "--recipe", "small_data") == load_config(recipe="small_data")
    assert config("reproduce") == load_config(recipe="paper") != config("train")
    assert config("tune").folds == 5 and config("tune").backbone == load_config(recipe="small_data").backbone
    assert config("train").folds == 0
    text = config("train", "--text-encoder", "minilm/")
    assert text == dataclasses.replace(load_config(recipe="text"), text_encoder="minilm/")  # the text recipe
    assert config("reproduce", "--text-encoder", "minilm/") == text  # whatever the command
    assert (text.epochs, text.text_learning_rate) == (TEXT_EPOCHS, TEXT_LEARNING_RATE)  # not small_data's 40, 1e-3
    assert config("train", "--text-encoder", "minilm/", "--recipe", "small_data").epochs == 40  # a recipe named wins
    assert config("train", "--hyperparameters", str(files / "hp.json")).batch_size == 64  # the file over the default


def test_recipe_sets_the_hyperparameters_the_file_goes_over_it_and_preset_names_its_new_name(files, capsys):
    from applications.experiments.config import RECIPES, load_config

    config = load_config(str(files / "hp.json"), recipe="small_data")
    assert not config.early_stopping and config.lr_schedule == "cosine" and config.learning_rate == 1e-3
    assert (config.backbone["hidden_dim"], config.batch_size) == (8, 64)  # hp.json's, over the recipe's
    assert load_config(recipe="paper") == load_config()
    assert set(RECIPES) == {"paper", "small_data", "text"}
    with pytest.raises(SystemExit):
        main(["train", "--data", str(files / "train.npz"), "--recipe", "tiny"])
    assert "invalid choice: 'tiny'" in capsys.readouterr().err
    assert main(["train", "--data", str(files / "train.npz"), "--preset", "small_data"]) == 2  # 0.14's name
    assert "--preset small_data is --recipe small_data since 0.15" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    offered = capsys.readouterr().out
    assert "--recipe" in offered and "--preset" not in offered  # only the new name is offered


def test_a_read_only_output_is_a_named_error_and_leaves_no_partial_file(reproduced, tmp_path, capsys, monkeypatch):
    out = tmp_path / "predictions.csv"

    def refused(source, destination):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), os.fspath(destination))

    monkeypatch.setattr(os, "replace", refused)
    model = reproduced.out / "baseline_labels040_seed0.keras"
    assert main(["predict", str(model), "--data", str(reproduced.files / "test.h5"), "--out", str(out)]) == 2
    error = capsys.readouterr().err
    assert f"{out}: permission denied." in error and "Traceback" not in error
    assert "resume" not in error  # predict writes one file and resumes nothing
    assert list(tmp_path.iterdir()) == []


def test_train_fine_tunes_a_text_encoder_and_predict_reads_new_transcripts(files, tmp_path, capsys,
                                                                           tiny_bert_preset):
    from mosi_keras.data import load_dataset, write_dataset
    from tests.text_encoder_testing import with_transcripts

    data = with_transcripts(load_dataset(files / "train.npz"))
    write_dataset(data, tmp_path / "said.npz")
    hp = dict(json.loads((files / "hp.json").read_text()), epochs=1, text_learning_rate=1e-4, text_output="pooled")
    (tmp_path / "hp.json").write_text(json.dumps(hp))
    train = ["train", "--data", str(tmp_path / "said.npz"), "--hyperparameters", str(tmp_path / "hp.json"),
             "--text-encoder", str(tiny_bert_preset), "--out", str(tmp_path / "run"), "--quiet"]
    assert main(train + ["--experiment", "baseline"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert 0.0 <= record["val_all"]["acc2"] <= 1.0
    model = tmp_path / "run" / "baseline_labels040_seed0.keras"
    new = data.subset(np.arange(6))  # new segments: transcripts, audio and visual, no text array, no label
    new.modalities.pop("text")
    new.lengths.pop("text")
    new.labelled, new.sentiment = False, np.full(6, np.nan, "float32")
    write_dataset(new, tmp_path / "new.h5")
    assert main(["predict", str(model), "--data", str(tmp_path / "new.h5"), "--out", str(tmp_path / "p.csv")]) == 0
    with open(tmp_path / "p.csv") as file:
        rows = list(csv.DictReader(file))
    assert [row["segment_id"] for row in rows] == new.ids.tolist()
    new.transcripts = np.array(["bad bad bad"] * 6)  # what is said changes the prediction
    write_dataset(new, tmp_path / "other.h5")
    assert main(["predict", str(model), "--data", str(tmp_path / "other.h5"), "--out", str(tmp_path / "q.csv")]) == 0
    with open(tmp_path / "q.csv") as file:
        assert [row["probability"] for row in csv.DictReader(file)] != [row["probability"] for row in rows]
    capsys.readouterr()
    assert main(train + ["--experiment", "dec"]) == 2
    assert "DEC pre-trains the text's ModalityTransformerEncoder" in capsys.readouterr().err  # not 'pooled'


def test_dec_pretrains_on_a_text_encoders_word_states_and_its_model_and_preset_load_safely_and_read_transcripts(
        files, tmp_path, capsys, tiny_bert_preset):
    from mosi_keras.data import load_dataset, write_dataset
    from tests.text_encoder_testing import with_transcripts

    data = with_transcripts(load_dataset(files / "train.npz"))
    write_dataset(data, tmp_path / "said.npz")
    hp = dict(json.loads((files / "hp.json").read_text()), epochs=1, text_learning_rate=1e-4)
    (tmp_path / "hp.json").write_text(json.dumps(hp))
    argv = ["train", "--data", str(tmp_path / "said.npz"), "--hyperparameters", str(tmp_path / "hp.json"),
            "--text-encoder", str(tiny_bert_preset), "--out", str(tmp_path / "run"), "--quiet", "--experiment", "dec"]
    assert main(argv) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["epochs"] == {"autoencoder": 1, "clustering": 1, "classifier": 1}
    assert len(list((tmp_path / "run" / "text_states").iterdir())) == 1  # computed once, kept for the next run
    task = keras.saving.load_model(tmp_path / "run" / "dec_labels040_seed0.keras", safe_mode=True)
    assert type(task.backbone.text_encoder).__name__ == "BertBackbone"
    new = data.subset(np.arange(6))
    new.modalities.pop("text")  # the text comes from the transcripts
    new.lengths.pop("text")
    said = task.predict(new, verbose=0)
    task.save_to_preset(tmp_path / "preset")  # one folder to hand on: the encoder's own folder is not read again
    assert not any(str(tiny_bert_preset) in path.read_text() for path in (tmp_path / "preset").glob("*.json"))
    assert (tmp_path / "preset" / "assets" / "tokenizer" / "vocabulary.txt").exists()
    write_dataset(new, tmp_path / "new.h5")
    assert main(["predict", str(tmp_path / "preset"), "--data", str(tmp_path / "new.h5"),
                 "--out", str(tmp_path / "p.csv")]) == 0
    with open(tmp_path / "p.csv") as file:
        probabilities = [float(row["probability"]) for row in csv.DictReader(file)]
    np.testing.assert_allclose(probabilities, 1 / (1 + np.exp(-said[:, 0])), atol=1e-5)
    new.transcripts = np.array(["bad bad bad"] * 6)
    assert said.shape == (6, 1) and not np.allclose(task.predict(new, verbose=0), said)


@pytest.mark.cited
@pytest.mark.slow  # one process per command: ~1 min; in the default suite: each command in-process
def test_each_command_prints_its_own_output_and_nothing_else(files, tmp_path):
    """As a user runs them, in processes of their own: standard error stays
    empty (no backend start-up lines, Keras warnings or retracing notices)
    and standard output holds the command's lines alone."""
    import subprocess
    import sys

    folds = files / "hp_folds.json"  # tune's default 5 folds need more videos than the tiny data has
    folds.write_text(json.dumps(dict(json.loads((files / "hp.json").read_text()), folds=2)))
    data, model = str(files / "train.npz"), str(tmp_path / "run" / "baseline_labels040_seed0.keras")
    commands = [
        ["train", "--data", data, "--hyperparameters", str(folds), "--experiment", "baseline",
         "--out", str(tmp_path / "run"), "--quiet"],
        ["reproduce", *reproduce_argv(files, tmp_path / "rep", "--seeds", "2", "--experiments", "baseline", "dec",
                                      "--quiet")[1:]],
        ["evaluate", model, "--data", str(files / "test.h5")],
        ["predict", model, "--data", str(files / "test.h5"), "--out", str(tmp_path / "p.csv")],
        ["tune", "--data", data, "--hyperparameters", str(folds), "--max-trials", "1", "--epochs", "1",
         "--out", str(tmp_path / "tune"), "--quiet"],
    ]
    for argv in commands:
        done = subprocess.run([sys.executable, "-m", "applications.experiments.cli", *argv], capture_output=True,
                              text=True)
        assert done.returncode == 0, done.stderr
        assert done.stderr == "", f"{argv[0]} printed to standard error:\n{done.stderr[-3000:]}"
        assert not re.search(r"warn|retrac|oneDNN|cuda", done.stdout, re.IGNORECASE), (argv[0], done.stdout[-3000:])
        if argv[0] == "reproduce":  # its tables fit a 100-column terminal (other lines may hold long paths)
            assert max(len(line) for line in done.stdout.splitlines()) <= 100, done.stdout


def test_reproduce_refuses_a_seed_it_would_ignore_and_takes_seeds(capsys):
    from applications.experiments.cli import build_parser

    with pytest.raises(SystemExit):
        build_parser().parse_args(["reproduce", "--data", "d.npz", "--seed", "3"])
    assert "unrecognized arguments: --seed" in capsys.readouterr().err
    assert build_parser().parse_args(["reproduce", "--data", "d.npz", "--seeds", "3"]).seeds == 3
    assert build_parser().parse_args(["train", "--data", "d.npz", "--seed", "3"]).seed == 3


def test_reproduce_kfold_measures_every_row_draws_the_learning_curve_and_keeps_to_its_protocol(reproduced, files,
                                                                                                 tmp_path):
    out = tmp_path / "kfold"
    code, printed = quietly(reproduce_argv(files, out, "--protocol", "kfold", "--folds", "3", "--label-fraction",
                                           "0.5", "--experiments", "baseline", "self_training"))
    assert code == 0
    runs = read_runs(out)
    assert [(r["experiment"], r["label_fraction"]) for r in runs] == [
        ("baseline", 0.5), ("self_training", 0.5), ("baseline", 1.0)]  # self-training at 100 %: the classifier
    assert all(r["kfold"]["n"] == 46 and r["folds"] == 3 and "val" not in r for r in runs)
    assert json.loads((out / "results.json").read_text())["protocol"] == {"name": "kfold", "folds": 3}
    assert "kfold acc2_non0" in printed and "self_training − baseline, kfold acc2, 50% labels" in printed
    assert (out / "learning_curve.png").exists() and not list(out.glob("**/*.keras"))
    code, again = quietly(reproduce_argv(files, out, "--protocol", "kfold", "--folds", "3", "--label-fraction",
                                         "0.5", "--experiments", "baseline", "self_training"))
    table = printed[printed.index("\nmodel "):].replace(str(out), "")
    assert code == 0 and again[again.index("\nmodel "):].replace(str(out), "") == table  # read back, not rerun
    assert "already done, skipped" in again
    split = reproduced.copy(tmp_path / "split")  # a folder of the split protocol is not resumed as k-fold
    assert main(reproduce_argv(files, split, "--protocol", "kfold", "--folds", "3")) == 2
    assert main(reproduce_argv(files, out, "--label-fraction", "0.5")) == 2


def test_train_adds_unlabelled_rows_from_elsewhere_and_transductive_needs_the_kfold_protocol(files, tmp_path):
    from applications.experiments.preparation import prepare_experiment
    from mosi_keras.data import load_dataset, make_synthetic_mosi, write_dataset

    extra = make_synthetic_mosi(n_videos=2, segments_per_video=(4, 4), max_len=5,
                                feature_dims={"text": 6, "audio": 4, "visual": 3}, seed=7)
    write_dataset(extra, tmp_path / "more.npz")
    code, printed = quietly(["train", "--data", str(files / "train.npz"), "--unlabelled", str(tmp_path / "more.npz"),
                             "--experiment", "self_training", "--hyperparameters", str(files / "hp.json"),
                             "--out", str(tmp_path / "run"), "--quiet"])
    assert code == 0
    own = len(prepare_experiment(load_dataset(str(files / "train.npz")), 0.4, 0).split.unlabelled_train)
    assert json.loads(printed)["n_train_unlabelled"] == own + len(extra)
    assert main(reproduce_argv(files, tmp_path / "t", "--transductive")) == 2


SIZES = dict(hidden_dim=8, num_blocks=1, num_heads=2, intermediate_dim=16)


def trained_in_python(data, seed, epochs, text_encoder=None):
    """What a user writes: the split of `mosi-keras train --label-fraction 1`, a task on the fitted preprocessing,
    `task.compile()`, `task.fit` with the recipe's batch size."""
    from applications import MultimodalBackbone, SentimentClassifier
    from mosi_keras.data import Preprocessor, semi_supervised_split
    from mosi_keras.text_encoder import load_text_backbone
    from mosi_keras.transcript_tokenizer import TranscriptTokenizer

    keras.utils.set_random_seed(seed)
    split = semi_supervised_split(data.video_ids, 1.0, seed=seed)
    max_len = data.modalities["audio"].shape[1]
    tokenizer = text_encoder and TranscriptTokenizer.from_preset(text_encoder, max_words=max_len)
    preprocessor = Preprocessor(max_len, tokenizer).fit(data.subset(split.train))
    encoder = text_encoder and load_text_backbone(text_encoder)
    backbone = MultimodalBackbone(preprocessor.feature_dims, max_len, text_encoder=encoder, **SIZES)
    task = SentimentClassifier(backbone, head_units=(8, 4), preprocessor=preprocessor)
    task.compile()
    task.fit(data.subset(split.labelled_train), validation_data=data.subset(split.labelled_val), epochs=epochs,
             batch_size=32, verbose=0)
    return task


@pytest.mark.parametrize("text", [False, True], ids=["features", "text_encoder"])
def test_task_compile_and_fit_train_the_weights_that_mosi_keras_train_does(files, tmp_path, text, request, capsys):
    """`train`'s recipe (`small_data`; `text` with an encoder, its encoder at its own rate) is the task's
    `compile()`: its optimizer, its rates, its warm-up and cosine decay over the fit."""
    from mosi_keras.data import load_dataset, write_dataset
    from tests.text_encoder_testing import with_transcripts

    data, encoder = load_dataset(files / "train.npz"), []
    if text:
        encoder = ["--text-encoder", str(request.getfixturevalue("tiny_bert_preset"))]
        data = with_transcripts(data)
        write_dataset(data, files / "train.npz")
    (tmp_path / "hp.json").write_text(json.dumps(dict(SIZES, head_units=[8, 4], epochs=3)))
    assert main(["train", "--data", str(files / "train.npz"), "--experiment", "baseline", "--label-fraction", "1",
                 "--seed", "1", "--hyperparameters", str(tmp_path / "hp.json"), "--out", str(tmp_path / "run"),
                 "--quiet", *encoder]) == 0
    by_cli = keras.saving.load_model(tmp_path / "run" / "baseline_labels100_seed1.keras")
    by_python = trained_in_python(data, 1, 3, text_encoder=encoder[-1] if text else None)
    assert int(by_python.optimizer.iterations) == int(by_cli.optimizer.iterations) > 3
    assert ({**by_python.optimizer.get_config(), "name": ""} == {**by_cli.optimizer.get_config(), "name": ""})
    for python_weight, cli_weight in zip(by_python.get_weights(), by_cli.get_weights(), strict=True):
        np.testing.assert_allclose(python_weight, cli_weight, rtol=1e-5, atol=1e-6)


def test_semi_supervised_names_the_best_measured_experiment_in_train_and_reproduce(files, tmp_path, capsys):
    from applications.experiments.config import EXPERIMENTS, SEMI_SUPERVISED, experiment_names

    assert SEMI_SUPERVISED in EXPERIMENTS and EXPERIMENTS[SEMI_SUPERVISED].dec_pretraining  # DEC, as measured
    assert experiment_names(["baseline", "semi_supervised", SEMI_SUPERVISED]) == ["baseline", SEMI_SUPERVISED]
    out = tmp_path / "run"
    assert main(["train", "--data", str(files / "train.npz"), "--experiment", "semi_supervised",
                 "--hyperparameters", str(files / "hp.json"), "--out", str(out), "--quiet"]) == 0
    assert json.loads(capsys.readouterr().out)["experiment"] == SEMI_SUPERVISED
    assert (out / f"{SEMI_SUPERVISED}_labels040_seed0.json").exists()
