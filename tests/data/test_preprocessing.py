import numpy as np
import pytest

from mosi_keras.data import Preprocessor, binary_labels, from_arrays, semi_supervised_split


def test_statistics_come_from_training_rows_only(data):
    split = semi_supervised_split(data.video_ids, seed=0)
    prep = Preprocessor().fit(data.subset(split.train))
    before = {k: v["mean"].copy() for k, v in prep.statistics.items()}
    shifted = data.subset(np.arange(len(data)))
    for array in shifted.modalities.values():
        array[split.val] += 100.0  # validation rows change; statistics must not
    refit = Preprocessor().fit(shifted.subset(split.train))
    for name in before:
        np.testing.assert_allclose(refit.statistics[name]["mean"], before[name])
    inputs = prep.transform(data.subset(split.train))
    valid = inputs["text_mask"].astype(bool)
    values = inputs["text"][valid]
    np.testing.assert_allclose(values.mean(0), 0.0, atol=1e-4)
    np.testing.assert_allclose(values.std(0), 1.0, atol=1e-3)


def test_padding_is_zero_and_masks_follow_lengths(data):
    inputs = Preprocessor(max_len=12).fit(data).transform(data)
    assert inputs["audio"].shape == (len(data), 12, 74)
    np.testing.assert_array_equal(inputs["audio_mask"].sum(1), np.minimum(data.lengths["audio"], 12))
    assert inputs["audio_mask"].dtype == np.int32
    assert np.all(inputs["audio"][inputs["audio_mask"] == 0] == 0)


def test_non_finite_values_are_replaced_counted_and_warned():
    x = np.array([[1.0, 2.0], [3.0, -np.inf], [5.0, 6.0], [np.nan, 4.0]], "float32")
    data = from_arrays({"audio": x}, np.zeros(4))
    prep = Preprocessor(max_len=1).fit(data)
    with pytest.warns(UserWarning, match="replaced 2 non-finite value"):
        inputs = prep.transform(data)
    assert np.all(np.isfinite(inputs["audio"]))
    assert inputs["audio"][1, 0, 1] == pytest.approx(0.0, abs=1e-6)


def test_constant_features_do_not_divide_by_zero():
    data = from_arrays({"visual": np.ones((5, 3))}, np.zeros(5))
    inputs = Preprocessor(max_len=1).fit(data).transform(data)
    np.testing.assert_array_equal(inputs["visual"], 0.0)


def test_preprocessor_round_trips_through_json(tmp_path, data):
    prep = Preprocessor().fit(data)
    prep.save(tmp_path / "prep.json")
    loaded = Preprocessor.load(tmp_path / "prep.json")
    np.testing.assert_allclose(loaded.transform(data)["text"], prep.transform(data)["text"], atol=1e-6)


def test_binary_label_conventions():
    sentiment = np.array([-1.2, 0.0, 0.4, -0.2])
    assert binary_labels(sentiment).tolist() == [0, 1, 1, 0]


def test_streaming_fit_over_chunks_equals_fit_on_all_rows(data):
    whole = Preprocessor().fit(data)
    chunks = [data.subset(np.arange(start, min(start + 37, len(data)))) for start in range(0, len(data), 37)]
    streamed = Preprocessor().fit_batches(chunks)
    for name, stats in whole.statistics.items():
        for key, value in stats.items():
            np.testing.assert_allclose(streamed.statistics[name][key], value, rtol=1e-9, atol=1e-12)


def test_a_text_tokenizer_reads_the_transcripts_in_place_of_the_text_array(data, tiny_bert_preset):
    import json

    import keras

    from mosi_keras.data import DataError
    from mosi_keras.transcript_tokenizer import TranscriptTokenizer
    from tests.text_encoder_testing import with_transcripts

    data = with_transcripts(data)
    prep = Preprocessor(max_len=12, text_tokenizer=TranscriptTokenizer.from_preset(tiny_bert_preset, max_words=12))
    prep.fit(data)
    assert list(prep.feature_dims) == ["audio", "visual"]  # no statistics of the text array
    inputs = prep.transform(data)
    assert sorted(inputs) == ["audio", "audio_mask", "text_padding_mask", "text_token_ids", "text_word_index",
                              "visual", "visual_mask"]
    tokens, _ = prep.text_tokenizer(data.transcripts)
    np.testing.assert_array_equal(inputs["text_token_ids"], tokens["token_ids"])
    config = json.loads(json.dumps(keras.saving.serialize_keras_object(prep)))  # as a task's .keras holds it
    twin = keras.saving.deserialize_keras_object(config, safe_mode=True)
    for name, value in twin.transform(data).items():
        np.testing.assert_array_equal(value, inputs[name])
    without = data.subset(np.arange(4))
    without.transcripts = None
    with pytest.raises(DataError, match="no 'transcript' array; this model reads its text from transcripts"):
        prep.transform(without)
