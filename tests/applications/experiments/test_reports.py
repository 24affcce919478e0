import pytest

from applications.experiments.reports import format_table, summarize
from applications.experiments.run import RunRecord


def record(experiment, seed, val):
    return RunRecord(experiment, 0.4, seed, 10, {}, 1, 1, 1, val)


def test_table_gives_mean_and_std_in_percent_and_score_columns_only_for_scores():
    runs = [record("baseline", 0, {"acc2": 0.6, "f1": 0.5}), record("baseline", 1, {"acc2": 0.8, "f1": 0.7})]
    summary = summarize(runs)
    assert summary[0]["val_acc2"] == pytest.approx((70.0, 10.0))
    assert "val mae" not in format_table(summary)
    runs.append(record("baseline_regression", 0, {"acc2": 0.7, "f1": 0.7, "acc7": 0.3, "mae": 0.9, "corr": None}))
    table = format_table(summarize(runs))
    assert "val mae" in table and "0.90 ± 0.00" in table  # MAE is not a percentage
    assert "val corr" in table
