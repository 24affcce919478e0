import json
import os

import pytest

from applications.experiments.cli import main
from tests.conftest import FIXTURES

V0_1 = os.path.join(FIXTURES, "v0_1")


def reproduce_at_full_labels(files, out, *experiments, quiet=False):
    """`reproduce` of `experiments` at 100 % labels, one seed, one process,
    on the generated files with the tiny schedule; returns its runs."""
    argv = ["reproduce", "--data", str(files / "train.npz"), "--seeds", "1", "--out", str(out), "--jobs", "1",
            "--label-fraction", "1.0", "--experiments", *experiments, "--hyperparameters", str(files / "hp.json")]
    assert main(argv + (["--quiet"] if quiet else [])) == 0
    return json.loads((out / "results.json").read_text())["runs"]


def test_reproduce_writes_results_and_resumes_without_rerunning(files, capsys):
    out = files / "out"
    argv = ["reproduce", "--data", str(files / "train.npz"), "--test-data", str(files / "test.h5"),
            "--seeds", "1", "--out", str(out), "--jobs", "1", "--hyperparameters", str(files / "hp.json")]
    assert main(argv) == 0
    results = json.loads((out / "results.json").read_text())
    runs = results["runs"]
    assert {(r["experiment"], r["label_fraction"]) for r in runs} == {
        ("baseline", 0.4), ("dec", 0.4), ("baseline", 1.0), ("dec", 1.0)}
    for run in runs:
        assert {"experiment", "label_fraction", "seed", "params", "epochs", "val", "test"} <= set(run)
        assert {"acc2", "acc2_non0", "f1"} <= set(run["val"]) and run["test"]["n"] > 0
    assert (out / "dec_labels040_seed0_tsne.png").exists()
    assert (out / "baseline_labels040_seed0_losses.png").exists()
    assert (out / "dec_labels040_seed0_history_autoencoder.csv").exists()
    printed = capsys.readouterr().out
    assert "baseline" in printed and "acc2" in printed
    assert "min left" in printed  # an estimate after each run but the last
    stamp = os.path.getmtime(out / "dec_labels040_seed0.keras")
    assert main(argv) == 0
    assert "already done" in capsys.readouterr().out
    assert os.path.getmtime(out / "dec_labels040_seed0.keras") == stamp
    changed = json.loads((files / "hp.json").read_text())
    changed["epochs"] = 3
    (files / "other.json").write_text(json.dumps(changed))
    assert main(argv[:-1] + [str(files / "other.json")]) == 2
    assert "other hyper-parameters" in capsys.readouterr().err
    written = json.loads((out / "results.json").read_text())
    del written["config"]["videos_per_batch"]  # as written before that field existed: its default then
    (out / "results.json").write_text(json.dumps(written))
    assert main(argv) == 0 and "already done" in capsys.readouterr().out


def test_reproduce_runs_the_contextual_experiments_beside_the_papers(files, capsys):
    out = files / "contextual"
    runs = reproduce_at_full_labels(files, out, "baseline", "contextual")
    assert [r["experiment"] for r in runs] == ["baseline", "contextual"]
    assert set(runs[1]) == set(runs[0]) and set(runs[1]["epochs"]) == {"contextual_classifier"}
    assert "contextual − baseline, val_all acc2" in capsys.readouterr().out
    model = str(out / "contextual_labels100_seed0.keras")
    assert main(["evaluate", model, "--data", str(files / "test.h5")]) == 0
    assert json.loads(capsys.readouterr().out)["n"] > 0
    assert main(["predict", model, "--data", str(files / "test.h5"), "--out", str(files / "p.csv")]) == 0
    lines = (files / "p.csv").read_text().splitlines()
    assert lines[0].startswith("segment_id,video_id,probability") and len(lines) > 1


def test_reproduce_in_parallel_processes_gives_the_records_of_one_process(files, capsys):
    def reproduce(jobs):
        out = files / f"jobs{jobs}"
        assert main(["reproduce", "--data", str(files / "train.npz"), "--seeds", "1", "--out", str(out),
                     "--label-fraction", "1.0", "--jobs", str(jobs), "--hyperparameters", str(files / "hp.json")]) == 0
        return json.loads((out / "results.json").read_text())["runs"], out

    sequential, _ = reproduce(1)
    parallel, out = reproduce(2)
    assert "2 to run, 2 at a time in separate processes" in capsys.readouterr().out
    assert [(r["experiment"], r["label_fraction"], r["seed"]) for r in parallel] == [
        (r["experiment"], r["label_fraction"], r["seed"]) for r in sequential]
    for one, two in zip(sequential, parallel):
        assert one["epochs"] == two["epochs"] and one["params"] == two["params"]
        assert one["val"] == pytest.approx(two["val"], abs=1e-6)
    assert (out / "dec_labels100_seed0_tsne.png").exists()
    assert (out / "baseline_labels100_seed0.keras").exists()


def test_evaluate_prints_metrics_of_a_trained_model(files, capsys):
    out = files / "trained"
    assert main(["train", "--data", str(files / "train.npz"), "--experiment", "baseline",
                 "--out", str(out), "--hyperparameters", str(files / "hp.json")]) == 0
    capsys.readouterr()
    assert not list(out.glob("*preprocessor*"))  # the .keras file carries its preprocessing
    assert main(["evaluate", str(out / "baseline_labels040_seed0.keras"), "--data", str(files / "test.h5")]) == 0
    metrics = json.loads(capsys.readouterr().out)
    assert 0.0 <= metrics["acc2"] <= 1.0 and metrics["n"] > 0


def test_evaluate_reads_a_0_1_classifier_with_its_preprocessing_file(capsys):
    model, data = os.path.join(V0_1, "classifier.keras"), os.path.join(V0_1, "data.npz")
    assert main(["evaluate", model, "--data", data]) == 2
    assert "carries no preprocessing" in capsys.readouterr().err
    assert main(["evaluate", model, "--data", data,
                 "--preprocessor", os.path.join(V0_1, "classifier_preprocessor.json")]) == 0
    assert json.loads(capsys.readouterr().out)["n"] == 9


def test_reproduce_runs_the_regression_experiments_with_the_literatures_columns(files, capsys):
    out = files / "regression"
    runs = reproduce_at_full_labels(files, out, "baseline_regression", "dec_regression")
    assert [r["experiment"] for r in runs] == ["baseline_regression", "dec_regression"]
    for run in runs:
        assert {"acc2", "acc2_non0", "f1", "acc7", "mae", "corr"} <= set(run["val"])
        assert set(run["epochs"]) >= {"regressor"}
    header = capsys.readouterr().out.split("model", 1)[1].splitlines()[0]
    for column in ("val acc2", "val acc7", "val mae", "val corr"):
        assert column in header
    assert main(["evaluate", str(out / "dec_regression_labels100_seed0.keras"), "--data", str(files / "train.npz")]) == 0
    assert "mae" in json.loads(capsys.readouterr().out)


def test_missing_data_file_is_a_clear_error_not_a_traceback(files, capsys):
    assert main(["reproduce", "--data", str(files / "absent.npz"), "--out", str(files / "o")]) == 2
    assert "absent.npz: no such file" in capsys.readouterr().err


def test_unknown_hyperparameter_is_a_clear_error(files, capsys):
    with open(files / "bad.json", "w") as file:
        json.dump({"hiden_dim": 3}, file)
    assert main(["train", "--data", str(files / "train.npz"), "--hyperparameters", str(files / "bad.json")]) == 2
    assert "hiden_dim" in capsys.readouterr().err


def test_predict_writes_one_row_per_segment_of_a_file_without_labels(files, capsys):
    import csv

    import numpy as np

    out = files / "trained"
    assert main(["train", "--data", str(files / "train.npz"), "--experiment", "baseline", "--quiet",
                 "--out", str(out), "--hyperparameters", str(files / "hp.json")]) == 0
    model = str(out / "baseline_labels040_seed0.keras")
    with np.load(files / "train.npz") as archive:
        arrays = {key: archive[key] for key in archive.files if key != "sentiment"}
    np.savez(files / "new.npz", **arrays)
    capsys.readouterr()
    assert main(["predict", model, "--data", str(files / "new.npz"), "--out", str(files / "p.csv")]) == 0
    assert "written to" in capsys.readouterr().out
    with open(files / "p.csv") as file:
        rows = list(csv.DictReader(file))
    assert list(rows[0]) == ["segment_id", "video_id", "probability", "predicted_class"]
    assert [row["segment_id"] for row in rows] == arrays["segment_id"].tolist()
    for row in rows:
        assert 0.0 <= float(row["probability"]) <= 1.0
        assert int(row["predicted_class"]) == int(float(row["probability"]) >= 0.5)
    arrays["audio"] = arrays["audio"][..., :2]
    np.savez(files / "narrow.npz", **arrays)
    assert main(["predict", model, "--data", str(files / "narrow.npz"), "--out", str(files / "q.csv")]) == 2
    assert "modality 'audio' has 2 features" in capsys.readouterr().err
    assert not (files / "q.csv").exists()


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


def test_reproduce_prints_its_plan_stage_progress_and_time_left_unless_quiet(files, capsys):
    reproduce_at_full_labels(files, files / "loud", "dec")
    printed = capsys.readouterr().out
    assert "plan: 1 runs (dec × label fractions [1.0] × seeds [0]), 0 already done" in printed
    for stage in ("autoencoder", "clustering", "classifier"):
        assert f"dec_labels100_seed0: {stage} started" in printed
        assert f"dec_labels100_seed0: {stage} done" in printed
    reproduce_at_full_labels(files, files / "quiet", "baseline", quiet=True)  # the cheapest run that trains
    printed = capsys.readouterr().out
    assert "plan:" not in printed and "started" not in printed and "min left" not in printed
    assert "acc2" in printed  # the table is still printed


def test_demo_dec_matches_or_beats_its_baseline_and_predicts_both_classes(tmp_path, capsys):
    assert main(["demo", "--out", str(tmp_path), "--quiet"]) == 0
    runs = {r["experiment"]: r for r in json.loads((tmp_path / "results.json").read_text())["runs"]}
    dec, baseline = runs["dec"], runs["baseline"]
    for part in ("val", "val_all"):
        assert dec[part]["acc2"] >= baseline[part]["acc2"]
        assert 0.2 < dec[part]["predicted_positive"] < 0.8
    # the generated data's clusters are its classes: stage 2 finds them
    assert dec["clusters"]["after_clustering"]["cluster_acc"] > 0.8


def test_reproduce_with_held_out_data_prints_the_seed_ensemble_and_evaluate_averages_files(files, capsys):
    import numpy as np

    out = files / "seeds"
    assert main(["reproduce", "--data", str(files / "train.npz"), "--test-data", str(files / "test.h5"),
                 "--seeds", "2", "--out", str(out), "--jobs", "1", "--label-fraction", "1.0", "--quiet",
                 "--experiments", "baseline", "--hyperparameters", str(files / "hp.json")]) == 0
    printed = capsys.readouterr().out
    ensemble = json.loads((out / "ensembles.json").read_text())["ensembles"]
    assert [(row["experiment"], row["seeds"]) for row in ensemble] == [("baseline", 2)]
    assert f"seed ensemble of baseline (2 seeds, 100% labels), test: acc2 {100 * ensemble[0]['test']['acc2']:.2f}" in printed
    models = [str(out / f"baseline_labels100_seed{seed}.keras") for seed in (0, 1)]
    assert main(["evaluate", *models, "--data", str(files / "test.h5")]) == 0
    assert json.loads(capsys.readouterr().out) == ensemble[0]["test"]
    assert main(["predict", *models, "--data", str(files / "test.h5"), "--out", str(files / "e.csv")]) == 0
    with open(files / "e.csv") as file:
        probability = np.array([float(line.split(",")[2]) for line in file.read().splitlines()[1:]])
    singles = []
    for path in models:
        assert main(["predict", path, "--data", str(files / "test.h5"), "--out", str(files / "one.csv")]) == 0
        with open(files / "one.csv") as file:
            singles.append([float(line.split(",")[2]) for line in file.read().splitlines()[1:]])
    np.testing.assert_allclose(probability, np.mean(singles, axis=0), atol=1e-5)  # the members' mean


def test_preset_sets_the_recipe_and_the_file_goes_over_it(files, capsys):
    from applications.experiments.config import PRESETS, load_config

    config = load_config(str(files / "hp.json"), preset="small_data")
    assert not config.early_stopping and config.lr_schedule == "cosine" and config.learning_rate == 1e-3
    assert (config.hidden_dim, config.batch_size) == (8, 64)  # hp.json's, over the preset's
    assert load_config(preset="paper") == load_config()
    assert set(PRESETS) == {"paper", "small_data"}
    with pytest.raises(SystemExit):
        main(["train", "--data", str(files / "train.npz"), "--preset", "tiny"])
    assert "invalid choice: 'tiny'" in capsys.readouterr().err
