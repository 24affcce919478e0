import re

import pytest

from applications.experiments.reports import format_table, summarize
from applications.experiments.run import RunRecord


def record(experiment, seed, val):
    return RunRecord(experiment, 0.4, seed, 10, {}, 1, 1, 1, val)


def test_table_gives_mean_and_std_in_percent_and_score_columns_only_for_scores():
    runs = [record("baseline", 0, {"acc2": 0.6, "f1": 0.5}), record("baseline", 1, {"acc2": 0.8, "f1": 0.7})]
    summary = summarize(runs)
    assert summary[0]["val_acc2"] == pytest.approx((70.0, 10.0))
    assert "val mae" not in format_table(summary, wide=True)
    runs.append(record("baseline_regression", 0, {"acc2": 0.7, "f1": 0.7, "acc7": 0.3, "mae": 0.9, "corr": None}))
    table = format_table(summarize(runs), wide=True)
    assert "val mae" in table and "val corr" in table
    regression = next(line for line in table.splitlines() if line.startswith("baseline_regression"))
    assert " 0.90 " in regression and "±" not in regression  # MAE is not a percentage; one seed has no spread
    assert "70.00 ± 10.00" in table


def test_the_default_table_fits_a_hundred_columns_and_gives_no_spread_for_one_seed():
    runs = [RunRecord(e, f, s, 22_760_609, {}, 1, 1, 1, {"acc2": 0.6, "f1": 0.5}, val_all={"acc2": 0.6, "f1": 0.5},
                      val_unlabelled={"acc2": 0.6, "f1": 0.5}, test={"acc2": 0.6, "f1": 0.5})
            for e in ("baseline_regression", "dec_without_kl") for f in (0.4, 1.0) for s in range(2)]
    table = format_table(summarize(runs))
    assert max(len(line) for line in table.splitlines()) <= 100
    assert "test acc2" in table and "60.00 ± 0.00" in table
    one = format_table(summarize([run for run in runs if run.seed == 0]))
    assert "±" not in one and re.search(r"1\s+seed\(s\)", one) and max(len(line) for line in one.splitlines()) <= 100


def test_paired_differences_are_per_seed_with_a_t_interval():
    from applications.experiments.reports import format_paired, paired_differences

    runs = [record("baseline", s, {"acc2": 0.5}) for s in range(3)]
    runs += [record("dec", s, {"acc2": 0.5 + d}) for s, d in enumerate((0.01, 0.03, 0.02))]
    result = paired_differences(runs)[0.4]
    assert result["differences"] == pytest.approx({0: 1.0, 1: 3.0, 2: 2.0})
    # mean 2, sd 1, t(0.975, 2) = 4.303: half-width 4.303 / sqrt(3)
    assert (result["low"], result["high"]) == pytest.approx((2 - 2.4843, 2 + 2.4843), abs=1e-3)
    assert "mean +2.00, 95% CI [-0.48, +4.48]; per seed +1.00 +3.00 +2.00" in format_paired(runs)


def test_table_shows_the_unlabelled_validation_videos_when_every_run_has_them():
    runs = [record("dec", seed, {"acc2": 0.6, "f1": 0.5}) for seed in (0, 1)]
    assert "unlab" not in format_table(summarize(runs))
    for run, accuracy in zip(runs, (0.5, 0.7)):
        run.val_unlabelled = {"acc2": accuracy, "f1": accuracy}
    summary = summarize(runs)
    assert summary[0]["val_unlabelled_acc2"] == pytest.approx((60.0, 10.0))
    assert "unlab acc2" in format_table(summary) and "val_unlabelled acc2" in format_table(summary, wide=True)
