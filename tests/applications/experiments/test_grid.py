"""`run_grid`: the order runs start in, the time-left estimate, and a run
killed with SIGKILL that loses nothing."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from applications.experiments.grid import estimate_left, longest_first
from applications.experiments.run import RunRecord


def test_dec_runs_start_first_one_per_seed_before_a_second_of_the_same_seed():
    runs = [(e, f, s) for f in (0.4, 1.0) for e in ("baseline", "dec", "dec_without_kl") for s in (0, 1)]
    order = longest_first(runs)
    assert order[:2] == [("dec", 1.0, 0), ("dec", 1.0, 1)]  # each trains its seed's autoencoder
    assert {run[0] for run in order[:8]} == {"dec", "dec_without_kl"}
    assert {run[0] for run in order[8:]} == {"baseline"}


def test_time_left_counts_stage_one_once_per_seed_and_the_rate_of_finished_runs():
    from applications.experiments.config import TrainingConfig

    config = TrainingConfig(ae_epochs=10, dec_epochs=5)

    def record(experiment, fraction, seed, epochs, seconds, reused=None):
        return RunRecord(experiment, fraction, seed, 1, epochs, int(100 * fraction), 100 - int(100 * fraction), 1,
                         {}, seconds=seconds, autoencoder_reused=reused)

    # 10 s per unit of 1,000 epoch-rows: (10 + 5) × 100 + 20 × 100 rows, then 20 × 40.
    done = [record("dec", 1.0, 0, {"autoencoder": 10, "clustering": 5, "classifier": 20}, 35.0, reused=False),
            record("baseline", 0.4, 0, {"classifier": 20}, 8.0)]
    assert estimate_left(done, [("dec", 0.4, 0)], 1, config) == pytest.approx((5 * 100 + 20 * 40) * 0.01)
    assert estimate_left(done, [("dec", 0.4, 1), ("dec", 1.0, 1)], 2, config) == pytest.approx(
        ((10 + 5) * 100 + 20 * 40 + 5 * 100 + 20 * 100) * 0.01 / 2)  # seed 1's stage 1 counted once
    assert estimate_left(done, [("dec", 0.4, 1)], 1, config, trained={1}) == pytest.approx(
        (5 * 100 + 20 * 40) * 0.01)  # kept by an earlier call: not counted


def reproduce(files, out):
    return [sys.executable, "-m", "applications.experiments.cli", "reproduce", "--data", str(files / "train.npz"),
            "--seeds", "1", "--jobs", "1", "--label-fraction", "1.0", "--quiet", "--out", str(out),
            "--hyperparameters", str(files / "hp.json")]


def finished_runs(out):
    path = out / "results.json"
    if not path.exists():
        return []
    with open(path) as file:
        return json.load(file)["runs"]  # never half-written: this parse must always succeed


def without_times(runs):
    return [{key: value for key, value in run.items() if key != "seconds"} for run in runs]


def test_a_run_killed_with_sigkill_resumes_to_the_table_of_an_uninterrupted_one(files):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    reference = subprocess.run(reproduce(files, files / "whole"), capture_output=True, text=True, env=env,
                               timeout=600)
    assert reference.returncode == 0, reference.stderr

    killed = subprocess.Popen(reproduce(files, files / "cut"), stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, env=env)
    deadline = time.monotonic() + 600
    while not finished_runs(files / "cut") and killed.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    killed.send_signal(signal.SIGKILL)  # in the middle of the second run (DEC: three stages)
    killed.wait()
    survivors = finished_runs(files / "cut")
    assert [run["experiment"] for run in survivors] == ["baseline"]

    resumed = subprocess.run(reproduce(files, files / "cut"), capture_output=True, text=True, env=env, timeout=600)
    assert resumed.returncode == 0, resumed.stderr
    assert without_times(finished_runs(files / "cut")) == without_times(finished_runs(files / "whole"))
    assert resumed.stdout.split("model", 1)[1] == reference.stdout.split("model", 1)[1]  # the same table
