import json

from applications.experiments.files import write_csv_atomically, write_json_atomically


def test_csv_columns_are_written_with_their_header(tmp_path):
    write_csv_atomically({"segment_id": ["a", "b"], "probability": [0.25, 0.75]}, tmp_path / "p.csv")
    assert (tmp_path / "p.csv").read_text().splitlines() == ["segment_id,probability", "a,0.25", "b,0.75"]


def test_json_is_written_indented_and_reads_back(tmp_path):
    write_json_atomically({"runs": [1, {"acc2": 0.5}]}, tmp_path / "results.json")
    text = (tmp_path / "results.json").read_text()
    assert json.loads(text) == {"runs": [1, {"acc2": 0.5}]} and "\n  " in text
    assert [p.name for p in tmp_path.iterdir()] == ["results.json"]
