import json
import os
import subprocess
import sys

import numpy as np
import pytest
from keras import ops

from mosi_keras.data import DataError, load_dataset, make_synthetic_mosi, write_dataset
from mosi_keras.data.kit_format import read_arrays, write_arrays
from mosi_keras.text_encoder import TextEncoderError
from mosi_keras.text_featurizer import TextFeaturizer, featurize_file
from tests.text_encoder_testing import save_tiny_bert_preset

REFERENCE = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data", "cmu_mosi",
                         "cmu_mosi_words_minilm.npz")
MINILM = os.environ.get("MOSI_KERAS_MINILM_PRESET", os.path.expanduser("~/.cache/mosi_keras/all-minilm-l6-v2"))


@pytest.fixture(scope="module")
def preset(tmp_path_factory):
    return save_tiny_bert_preset(tmp_path_factory.mktemp("tiny_bert"))


@pytest.fixture(scope="module")
def featurizer(preset):
    return TextFeaturizer.from_preset(preset, max_words=6, max_tokens=12)


def test_word_vectors_are_the_mean_of_their_pieces_read_in_context_whatever_the_batch(featurizer):
    transcripts = ["unbelievable movie", "i loved this movie so good", "not for me"]
    vectors, lengths = featurizer(transcripts)
    assert vectors.shape == (3, 6, 8) and vectors.dtype == np.float32
    np.testing.assert_array_equal(lengths, [2, 6, 3])
    assert not vectors[0, 2:].any() and not vectors[2, 3:].any()
    alone, _ = featurizer(transcripts[:1])  # no padding in its batch
    np.testing.assert_allclose(vectors[0], alone[0], atol=1e-5)
    inputs, _ = featurizer.tokenizer(transcripts[:1])
    states = ops.convert_to_numpy(featurizer.backbone({"token_ids": inputs["token_ids"], "padding_mask": inputs["padding_mask"],
                                            "segment_ids": np.zeros_like(inputs["token_ids"])})["sequence_output"])
    np.testing.assert_allclose(vectors[0, 0], states[0, 1:4].mean(axis=0), atol=1e-5)
    np.testing.assert_allclose(vectors[0, 1], states[0, 4], atol=1e-5)
    other, _ = featurizer(["unbelievable film"])  # the same word in another sentence: another vector
    assert not np.allclose(other[0, 0], vectors[0, 0], atol=1e-4)


def transcript_file(path, suffix):
    data = make_synthetic_mosi(n_videos=3, segments_per_video=(2, 3), max_len=5,
                               feature_dims={"text": 4, "audio": 3, "visual": 2}, seed=0)
    file = path / f"data{suffix}"
    write_dataset(data, file)
    arrays = read_arrays(file)
    arrays["transcript"] = np.array(["i loved this movie", "not for me", "", "so good", "bad", "it's great",
                                     "unbelievable", "i", "movie movie"][: len(data)])
    write_arrays(arrays, file)
    return file


@pytest.mark.parametrize("suffix", [".npz", ".h5"])
def test_featurize_file_replaces_text_and_copies_everything_else(featurizer, tmp_path, suffix):
    source = transcript_file(tmp_path, suffix)
    out = tmp_path / f"out{suffix}"
    featurize_file(source, featurizer, out, batch_size=2, verbose=0)
    before, after = read_arrays(source), read_arrays(out)
    assert set(after) == set(before)
    for key in before:
        if key not in ("text", "text_lengths"):
            np.testing.assert_array_equal(after[key], before[key])
    expected, lengths = featurizer(list(np.char.decode(before["transcript"]) if suffix == ".h5"
                                        else before["transcript"]))
    np.testing.assert_allclose(after["text"], expected, atol=1e-5)  # batches of 2 = one call
    np.testing.assert_array_equal(after["text_lengths"], lengths)
    dataset = load_dataset(out)
    assert dataset.feature_dims["text"] == 8 and dataset.modalities["text"].shape[1] == 6
    assert not os.path.exists(tmp_path / f"out.partial{suffix}")


def test_featurize_names_a_file_without_transcripts_and_bad_encoder_folders(featurizer, preset, tmp_path):
    plain = tmp_path / "plain.npz"
    write_dataset(make_synthetic_mosi(n_videos=2, seed=0), plain)
    with pytest.raises(DataError, match=r"plain.npz: no 'transcript' array"):
        featurize_file(plain, featurizer, tmp_path / "out.npz", verbose=0)
    assert not os.path.exists(tmp_path / "out.npz")
    with pytest.raises(TextEncoderError, match="no such encoder folder"):
        TextFeaturizer.from_preset(tmp_path / "absent")
    with pytest.raises(TextEncoderError, match="not a keras-hub or Hugging Face preset folder"):
        TextFeaturizer.from_preset(tmp_path)
    alien = tmp_path / "alien"
    alien.mkdir()
    (alien / "config.json").write_text(json.dumps({"model_type": "no_such_architecture"}))
    with pytest.raises(TextEncoderError, match="alien: keras-hub cannot load this encoder"):
        TextFeaturizer.from_preset(alien)


def test_mosi_keras_featurize_writes_the_file_and_names_errors(preset, tmp_path, capsys):
    from applications.experiments.cli import main

    source = transcript_file(tmp_path, ".npz")
    out = tmp_path / "featurized.npz"
    assert main(["featurize", "--data", str(source), "--encoder", str(preset), "--out", str(out),
                 "--max-words", "4", "--quiet"]) == 0
    assert load_dataset(out).modalities["text"].shape[1:] == (4, 8)
    assert main(["featurize", "--data", str(source), "--encoder", str(tmp_path / "absent"), "--out",
                 str(tmp_path / "x.npz")]) == 2
    assert "no such encoder folder" in capsys.readouterr().err


def test_the_kit_imports_and_runs_without_keras_hub(tmp_path):
    script = (
        "import sys; sys.modules['keras_hub'] = None\n"  # as if it were not installed
        "import mosi_keras, applications, applications.experiments.cli, mosi_keras.text_featurizer as t\n"
        "from mosi_keras.text_encoder import TextEncoderError\n"
        "try:\n    t.TextFeaturizer.from_preset(sys.argv[1])\n"
        "except TextEncoderError as error:\n    print(error)\n"
    )
    (tmp_path / "config.json").write_text("{}")
    done = subprocess.run([sys.executable, "-c", script, str(tmp_path)], capture_output=True, text=True, check=True,
                          env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))
    assert "install the text extra" in done.stdout


@pytest.mark.skipif(not (os.path.exists(os.path.join(MINILM, "model.safetensors")) and os.path.exists(REFERENCE)),
                    reason="all-MiniLM-L6-v2 not in MOSI_KERAS_MINILM_PRESET (../shared/tools/get_minilm_preset.sh)")
def test_minilm_features_agree_with_the_shared_reference_file():
    reference = np.load(REFERENCE)
    rows = np.arange(0, len(reference["transcript"]), 97)  # 15 segments across the file
    vectors, lengths = TextFeaturizer.from_preset(MINILM)(reference["transcript"][rows])
    np.testing.assert_array_equal(lengths, reference["text_lengths"][rows])
    mask = np.arange(vectors.shape[1])[None, :] < lengths[:, None]
    ours, theirs = vectors[mask], reference["text"][rows][mask].astype("float32")
    cosine = (ours * theirs).sum(1) / np.linalg.norm(ours, axis=1) / np.linalg.norm(theirs, axis=1)
    assert np.median(cosine) > 0.99 and cosine.min() > 0.99
