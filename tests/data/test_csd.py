import numpy as np

from mosi_keras.data import load_dataset
from tests.fuzzing import write_csd


def test_csd_folder_aligns_feature_rows_inside_each_segment(tmp_path):
    write_csd(tmp_path / "CMU_MOSI_Opinion_Labels.csd", "labels", {
        "vidA": (np.array([[1.5], [-2.0]]), np.array([[0.0, 2.0], [2.0, 5.0]])),
        "vidB": (np.array([[0.4]]), np.array([[0.0, 1.0]])),
    })
    words = np.arange(12, dtype="float32").reshape(6, 2)
    write_csd(tmp_path / "CMU_MOSI_TimestampedWordVectors.csd", "glove", {
        "vidA": (words[:5], np.array([[0, .5], [.5, 1.5], [1.5, 2.0], [2.0, 3.0], [3.0, 4.9]])),
        "vidB": (words[5:], np.array([[0.1, 0.9]])),
    })
    write_csd(tmp_path / "CMU_MOSI_COVAREP.csd", "covarep", {
        "vidA": (np.ones((3, 4)), np.array([[0, 1.0], [1.0, 2.5], [2.5, 5.0]])),
        "vidB": (np.ones((1, 4)), np.array([[0, 1.0]])),
    })
    data = load_dataset(tmp_path)
    assert sorted(data.modality_names) == ["audio", "text"]
    assert data.lengths["text"].tolist() == [3, 2, 1]
    np.testing.assert_array_equal(data.modalities["text"][1, :2], words[3:5])
    # The COVAREP row (1.0, 2.5) straddles two segments and so falls in neither.
    assert data.lengths["audio"].tolist() == [1, 1, 1]
    np.testing.assert_allclose(data.sentiment, [1.5, -2.0, 0.4])
    assert data.video_ids.tolist() == ["vidA", "vidA", "vidB"]
