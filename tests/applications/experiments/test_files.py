import json

import pytest

from applications.experiments.files import write_atomically, write_csv_atomically, write_json_atomically


def test_a_failed_write_leaves_the_previous_file_whole_and_no_partial_one(tmp_path):
    path = tmp_path / "results.json"
    write_json_atomically({"runs": [1]}, path)

    def half_written(partial):
        with open(partial, "w") as file:
            file.write('{"runs": [1, ')
        raise KeyboardInterrupt  # the user pressed Ctrl-C mid-write

    with pytest.raises(KeyboardInterrupt):
        write_atomically(path, half_written)
    assert json.loads(path.read_text()) == {"runs": [1]}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results.json"]


def test_the_temporary_name_keeps_the_ending_that_keras_reads(tmp_path):
    seen = []
    write_atomically(tmp_path / "stage.weights.h5", lambda partial: (seen.append(partial),
                                                                      open(partial, "w").close()),
                     ".weights.h5")
    assert seen[0].endswith("stage.partial.weights.h5") and (tmp_path / "stage.weights.h5").exists()


def test_csv_columns_are_written_with_their_header(tmp_path):
    write_csv_atomically({"segment_id": ["a", "b"], "probability": [0.25, 0.75]}, tmp_path / "p.csv")
    assert (tmp_path / "p.csv").read_text().splitlines() == ["segment_id,probability", "a,0.25", "b,0.75"]
