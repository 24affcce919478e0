import re

import pytest

from applications.experiments.reports import format_table, summarize
from applications.experiments.run import RunRecord


def record(experiment, seed, val):
    return RunRecord(experiment, 0.4, seed, 10, {}, 1, 1, 1, val)


def test_table_gives_mean_and_sample_std_in_percent_and_score_columns_only_for_scores():
    runs = [record("baseline", 0, {"acc2": 0.6, "f1": 0.5}), record("baseline", 1, {"acc2": 0.8, "f1": 0.7})]
    summary = summarize(runs)
    assert summary[0]["val_acc2"] == pytest.approx((70.0, 200 ** 0.5))  # ddof = 1: sqrt(2 × 10² / 1)
    assert "val mae" not in format_table(summary, wide=True)
    runs.append(record("baseline_regression", 0, {"acc2": 0.7, "f1": 0.7, "acc7": 0.3, "mae": 0.9, "corr": None}))
    table = format_table(summarize(runs), wide=True)
    assert "val mae" in table and "val corr" in table
    regression = next(line for line in table.splitlines() if line.startswith("baseline_regression"))
    assert " 0.90 " in regression and "±" not in regression  # MAE is not a percentage; one seed has no spread
    assert "70.00 ± 14.14" in table


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
    assert summary[0]["val_unlabelled_acc2"] == pytest.approx((60.0, 200 ** 0.5))
    assert "unlab acc2" in format_table(summary) and "val_unlabelled acc2" in format_table(summary, wide=True)


def test_a_kfold_table_gives_the_protocols_three_metrics_on_every_row_and_its_paired_interval():
    from applications.experiments.reports import format_paired

    def pooled(experiment, seed, accuracy):
        scores = {"acc2": accuracy, "acc2_non0": accuracy + 0.01, "f1": accuracy - 0.01}
        return RunRecord(experiment, 0.4, seed, 10, {}, 1, 1, 1400, None, kfold=scores, folds=5)

    runs = [pooled("baseline", s, 0.70) for s in range(3)]
    runs += [pooled("self_training", s, 0.70 + d) for s, d in enumerate((0.01, 0.03, 0.02))]
    table = format_table(summarize(runs))
    assert "kfold acc2" in table and "kfold acc2_non0" in table and "kfold f1" in table
    assert " val " not in table and "all acc2" not in table  # no validation videos in a pooled record
    assert re.search(r"self_training\s+40%\s+72.00 ± 1.00\s+73.00 ± 1.00\s+71.00 ± 1.00", table)
    assert "self_training − baseline, kfold acc2, 40% labels: mean +2.00, 95% CI [-0.48, +4.48]" in format_paired(runs)


def test_the_learning_curve_gives_each_experiments_mean_and_t_interval_by_fraction(tmp_path):
    from applications.experiments.reports import learning_curve, plot_learning_curve

    runs = [RunRecord("baseline", f, s, 10, {}, 1, 1, 1400, None, kfold={"acc2": f / 2 + 0.01 * s, "f1": 0.5})
            for f in (1.0, 0.1) for s in range(3)]
    curve = learning_curve(runs)["baseline"]
    assert [point[0] for point in curve] == [0.1, 1.0]
    fraction, mean, low, high = curve[0]
    assert mean == pytest.approx(6.0) and high - mean == pytest.approx(4.3027 * 1.0 / 3 ** 0.5, abs=1e-3)
    assert plot_learning_curve(runs, str(tmp_path)) == str(tmp_path / "learning_curve.png")
    assert (tmp_path / "learning_curve.png").stat().st_size > 0
