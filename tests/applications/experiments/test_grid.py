"""`run_grid`: the order runs start in, the time-left estimate, and a run
killed with SIGKILL that loses nothing."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from applications.experiments.cli import main
from applications.experiments.grid import estimate_left, longest_first
from applications.experiments.run import RunRecord
from tests.applications.conftest import reproduce_argv
from tests.applications.experiments.test_cli import same_records


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


def finished_runs(out):
    path = out / "results.json"
    if not path.exists():
        return []
    with open(path) as file:
        return json.load(file)["runs"]  # never half-written: this parse must always succeed


@pytest.mark.cited
@pytest.mark.slow  # run with -m slow; in the default suite: the resume and full-disk tests
def test_a_run_killed_with_sigkill_resumes_to_the_table_of_an_uninterrupted_one(reproduced, tmp_path, capsys):
    """The shared reproduce is the uninterrupted one; the same command is
    killed during its last run (DEC at 100 %), then run again. While it
    runs, a second writer to its folder is refused; once killed, its lock
    does not block the run that resumes."""
    argv = [sys.executable, "-m", "applications.experiments.cli",
            *reproduce_argv(reproduced.files, tmp_path / "cut", "--quiet")]
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    killed = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    deadline = time.monotonic() + 600
    while len(finished_runs(tmp_path / "cut")) < 3 and killed.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert main(reproduce_argv(reproduced.files, tmp_path / "cut")) == 2  # a second writer, while it runs
    refusal = capsys.readouterr().err
    assert f"{tmp_path / 'cut'} is being written by process {killed.pid}" in refusal
    killed.send_signal(signal.SIGKILL)
    killed.wait()
    survivors = finished_runs(tmp_path / "cut")
    assert [(run["experiment"], run["label_fraction"]) for run in survivors] == [
        ("baseline", 0.4), ("dec", 0.4), ("baseline", 1.0)]

    resumed = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=600)
    assert resumed.returncode == 0, resumed.stderr
    runs = finished_runs(tmp_path / "cut")
    assert len(runs) == 4 and all(same_records(a, b) for a, b in zip(runs, reproduced.runs))
    assert resumed.stdout.split("model", 1)[1] == reproduced.printed.split("model", 1)[1]  # the same table


def test_an_experiment_that_only_adds_unlabelled_rows_is_not_rerun_at_full_labels_unless_rows_come_from_elsewhere():
    from applications.experiments.grid import not_run, plan_runs

    experiments = ["baseline", "self_training", "consistency", "dec", "dec_self_training"]
    plan = plan_runs(experiments, [0.4, 1.0], [0])
    assert [run[:2] for run in plan if run[1] == 1.0] == [("baseline", 1.0), ("dec", 1.0)]
    said = not_run(experiments, [0.4, 1.0], plan)  # what reproduce's log says of them
    assert [line.split(":")[0] for line in said] == ["self_training at 100% labels", "consistency at 100% labels",
                                                     "dec_self_training at 100% labels"]
    assert "would train the classifier again" in said[0] and "the baseline's runs are its figures" in said[0]
    assert "would train DEC's model again" in said[2] and "dec's runs are its figures" in said[2]
    assert len(plan_runs(["self_training"], [0.4, 1.0], [0], pool=True)) == 2  # --unlabelled: it learns from those
