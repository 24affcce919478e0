import json
import os

import pytest

from applications.experiments.cli import main
from applications.experiments.config import load_config
from applications.experiments.schedule import build_task


def trial_dirs(folder):
    return sorted(d for d in os.listdir(folder) if d.startswith("trial_"))


@pytest.mark.parametrize("model", ["classifier", "dec"])
def test_tune_finishes_two_trials_resumes_and_round_trips_best_values(files, capsys, model):
    out = files / "tune"
    argv = ["tune", "--data", str(files / "train.npz"), "--model", model, "--tuner", "random",
            "--max-trials", "2", "--epochs", "1", "--out", str(out),
            "--hyperparameters", str(files / "hp.json")]
    assert main(argv) == 0
    project = out / f"{model}_random"
    assert len(trial_dirs(project)) == 2
    best_path = out / f"best_hyperparameters_{model}_random.json"
    best = json.loads(best_path.read_text())
    assert best["trials"] == 2
    assert "best val_accuracy" in capsys.readouterr().out
    config = load_config(str(best_path))  # what train/reproduce --hyperparameters read
    for name, value in best["searched"].items():
        assert getattr(config, name) == value
    built = build_task("classifier", config, {"text": 6, "audio": 4, "visual": 3}, 5)
    assert built.count_params() > 0
    assert main(argv) == 0  # resumed: the two finished trials are not run again
    assert len(trial_dirs(project)) == 2
