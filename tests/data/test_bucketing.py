import itertools

import keras
import numpy as np
import pytest

from mosi_keras.data import LengthBucketedBatches, Preprocessor, make_synthetic_mosi, to_tf_dataset
from mosi_keras.data.bucketing import length_ladder, padded_length

pytestmark = pytest.mark.backend_agnostic


@pytest.fixture(scope="module")
def inputs():
    data = make_synthetic_mosi(n_videos=12, segments_per_video=(5, 9), max_len=30,
                               feature_dims={"text": 4, "audio": 3}, seed=4)
    data.lengths["audio"] = np.minimum(data.lengths["audio"], 20)  # modalities of different lengths
    return Preprocessor(30).fit(data).transform(data)


def epoch(batches):
    return [batch for batch in (batches[i] for i in range(len(batches)))]


def test_a_bucketed_epoch_serves_every_row_exactly_once(inputs):
    n = len(inputs["text"])
    batches = LengthBucketedBatches(inputs, np.arange(n), batch_size=16, seed=0)
    for _ in range(3):
        served = np.concatenate([y for _, y in epoch(batches)])
        assert sorted(served) == list(range(n))
        batches.on_epoch_end()


def test_a_seed_gives_the_same_batches_and_each_epoch_a_new_order(inputs):
    n = len(inputs["text"])
    first = LengthBucketedBatches(inputs, np.arange(n), batch_size=16, seed=7)
    second = LengthBucketedBatches(inputs, np.arange(n), batch_size=16, seed=7)
    orders = []
    for _ in range(2):
        assert np.array_equal(first.order, second.order)
        orders.append(first.order)
        first.on_epoch_end()
        second.on_epoch_end()
    assert not np.array_equal(orders[0], orders[1])
    assert not np.array_equal(LengthBucketedBatches(inputs, batch_size=16, seed=8).order, orders[0])


def narrowest(widths, longest):
    return min(width for width in widths if width >= longest)


def test_batches_are_cut_to_the_narrowest_width_of_the_ladder_and_keep_every_valid_step(inputs):
    batches = LengthBucketedBatches(inputs, np.arange(len(inputs["text"])), batch_size=16, seed=0)
    assert len(batches.widths) == 4
    for x, rows in epoch(batches):
        length = x["text"].shape[1]
        for name in ("text", "audio"):
            assert x[f"{name}_mask"].shape == x[name].shape[:2]
            np.testing.assert_array_equal(x[f"{name}_mask"].sum(1), inputs[f"{name}_mask"][rows].sum(1))
            np.testing.assert_array_equal(x[name], inputs[name][rows][:, : x[name].shape[1]])
        longest = max(inputs["text_mask"][rows].sum(1).max(), inputs["audio_mask"][rows].sum(1).max())
        assert length == narrowest(batches.widths, longest)


def test_a_pass_serves_one_shape_per_width_and_one_short_batch(inputs):
    n = len(inputs["text"])
    for max_widths in (1, 3, 6):
        batches = LengthBucketedBatches(inputs, np.arange(n), batch_size=16, seed=0, max_widths=max_widths)
        for _ in range(3):
            sizes = [len(rows) for _, rows in epoch(batches)]
            assert sorted(sizes)[1:] == [16] * (len(sizes) - 1) and sum(sizes) == n  # one short batch at most
            assert len({x["text"].shape for x, _ in epoch(batches)}) <= len(batches.shapes) <= max_widths + 1
            batches.on_epoch_end()


def test_the_ladder_pads_the_rows_least_among_all_ladders_of_its_size():
    rng = np.random.default_rng(1)
    for _ in range(20):
        lengths = rng.integers(1, 40, rng.integers(1, 60))
        candidates = sorted({padded_length(n, 4, 39) for n in lengths})
        for size in (1, 2, 3, 4):
            def padded(widths):
                return sum(narrowest(widths, padded_length(n, 4, 39)) for n in lengths)
            best = min(padded((*rest, candidates[-1]))
                       for rest in itertools.combinations(candidates[:-1], min(size, len(candidates)) - 1))
            ladder = length_ladder(lengths, size, 4, 39)
            assert len(ladder) <= size and ladder[-1] == candidates[-1] and padded(ladder) == best


def test_restore_order_puts_outputs_back_in_row_order(inputs):
    batches = LengthBucketedBatches(inputs, batch_size=16, shuffle=False)
    outputs = np.concatenate([x["text_mask"].sum(1) for x in epoch(batches)])
    np.testing.assert_array_equal(batches.restore_order(outputs), inputs["text_mask"].sum(1))
    assert batches.restore_order({"a": outputs})["a"].shape == outputs.shape


@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="tf.data is TensorFlow's")
def test_tf_dataset_leaves_the_time_axis_free_and_repeats_epochs(inputs):
    n = len(inputs["text"])
    batches = LengthBucketedBatches(inputs, np.arange(n), batch_size=16, seed=0)
    dataset = to_tf_dataset(batches)
    assert dataset.element_spec[0]["text"].shape.as_list() == [None, None, 4]
    iterator = iter(dataset)
    for _ in range(2):
        served = np.concatenate([np.asarray(next(iterator)[1]) for _ in range(len(batches))])
        assert sorted(served) == list(range(n))


@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="tf.data is TensorFlow's")
def test_unshuffled_batches_of_one_shape_still_leave_their_axes_free(inputs):
    """Otherwise each `predict` of another row count traces the step anew
    (TensorFlow's retracing warning after five)."""
    short = {name: value[:3, :4] for name, value in inputs.items()}  # one bucket, one batch
    dataset = to_tf_dataset(LengthBucketedBatches(short, batch_size=16, shuffle=False), repeat=False)
    assert dataset.element_spec["text"].shape.as_list() == [None, None, 4]
    served = list(dataset)
    assert len(served) == 1 and np.array_equal(served[0]["text"], short["text"])


def test_unshuffled_batches_leave_numpys_generator_alone(inputs):
    np.random.seed(3)
    expected = np.random.randint(1000)
    np.random.seed(3)
    LengthBucketedBatches(inputs, batch_size=16, shuffle=False)
    assert np.random.randint(1000) == expected


def test_a_per_row_input_follows_its_rows_uncut(inputs):
    n = len(inputs["text"])
    with_index = {**inputs, "sample_index": np.arange(n)}
    batches = LengthBucketedBatches(with_index, batch_size=16, seed=0)
    for x in epoch(batches):
        assert x["sample_index"].shape == (len(x["text"]),)
        np.testing.assert_array_equal(x["text_mask"], inputs["text_mask"][x["sample_index"]][:, : x["text"].shape[1]])
    if keras.backend.backend() == "tensorflow":
        assert to_tf_dataset(batches).element_spec["sample_index"].shape.as_list() == [None]


def with_tokens(inputs, width=48):
    """`inputs` with a text encoder's token inputs of 3 to `width` tokens a
    row, unrelated to the rows' word counts, and each row's index."""
    n = len(inputs["text"])
    rng = np.random.default_rng(0)
    mask = (np.arange(width)[None, :] < rng.integers(3, width + 1, n)[:, None]).astype("int32")
    return {**inputs, "sample_index": np.arange(n), "text_token_ids": rng.integers(1, 20, (n, width)) * mask,
            "text_padding_mask": mask, "text_word_index": np.where(mask > 0, 0, -1).astype("int32")}


def test_rows_with_a_text_encoders_tokens_are_laddered_by_tokens_and_every_axis_cut_apart(inputs):
    x = with_tokens(inputs)
    batches = LengthBucketedBatches(x, batch_size=16, seed=0)
    shapes = set()
    for batch in epoch(batches):
        rows = batch["sample_index"]
        tokens = x["text_padding_mask"][rows].sum(1)
        width = batch["text_token_ids"].shape[1]
        assert width == narrowest(batches.widths, tokens.max())  # the ladder's width of the rows' token counts
        for name in ("text_token_ids", "text_padding_mask", "text_word_index"):
            np.testing.assert_array_equal(batch[name], x[name][rows][:, :width])  # only padding is cut
        steps = max(x["text_mask"][rows].sum(1).max(), x["audio_mask"][rows].sum(1).max())
        assert batch["text"].shape[1] >= steps and batch["audio"].shape == batch["text"].shape[:2] + (3,)
        shapes.add((width, batch["text"].shape[1]))
    assert len(shapes) <= len(batches.widths)  # one shape per width: a compiled step compiles each once
    if keras.backend.backend() == "tensorflow":
        spec = to_tf_dataset(batches).element_spec
        assert spec["text_token_ids"].shape.as_list() == [None, None]
