"""Training throughput on the word-level file's real lengths: every batch
padded to `max_len` against length buckets padded per batch.

The training rows of seed 0's split of `cmu_mosi_words.npz` (text ≤ 30
words, audio/visual ≤ 20 aligned words, median ~10), the paper's
architecture and batch 128, the default backend (TensorFlow, no XLA on a
CPU). Both feeds train the same model from the same weights, in rounds
taken in turn (the machine is shared: compare the ratio within one run).
Also prints how many times the step was traced and the distinct batch
shapes each feed produced.

Run: python bench/bucketing.py [--data PATH] [--epochs 3] [--rounds 2]
"""

import argparse
import functools
import os

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_DATA = os.path.join(os.path.dirname(ROOT), "shared", "data", "cmu_mosi", "cmu_mosi_words.npz")


def count_traces():
    """Counts the Python calls of `ModalityTransformerEncoder.call` (once per
    trace in graph mode, per step eagerly): `{"count": n}`, kept up to date."""
    from mosi_keras.layers import ModalityTransformerEncoder

    traces = {"count": 0}
    original_call = ModalityTransformerEncoder.call

    @functools.wraps(original_call)  # keeps the signature Keras reads
    def counting_call(self, *a, **k):
        traces["count"] += 1
        return original_call(self, *a, **k)

    ModalityTransformerEncoder.call = counting_call
    return traces


def feeds(config):
    """`{feed: (x, y) → fit's data arguments}`: every batch padded to `max_len`, or length buckets."""
    import numpy as np

    from applications.batching import fit_arguments

    def padded_feed(xx, yy):
        import tensorflow as tf

        data = tf.data.Dataset.from_tensor_slices((xx, yy)).shuffle(len(yy), seed=0).batch(config.batch_size)
        return dict(x=data.repeat(), steps_per_epoch=int(np.ceil(len(yy) / config.batch_size)))

    return {"padded": padded_feed, "bucketed": lambda xx, yy: fit_arguments(xx, yy, config.batch_size)}


def same_start_models(config, feature_dims, max_len, labels, y):
    """`{feed: {model name: (model, targets)}}`: the classifier and DEC's stage 1, from the same weights per feed."""
    import keras

    from applications import MultimodalDecoder
    from applications.experiments.training import build_task, compile_task
    from applications.experiments.dec_pretraining import make_dec_stage

    models = {}
    for feed in ("padded", "bucketed"):
        keras.utils.set_random_seed(0)
        classifier = compile_task(build_task("classifier", config, feature_dims, max_len), config)
        decoder = MultimodalDecoder.for_backbone(classifier.backbone, max_len)
        dec = make_dec_stage(classifier.backbone, decoder, config, stage=1)
        models[feed] = {"classifier": (classifier, labels), "dec stage 1": (dec, y)}
    return models


def timed_rounds(models, x, config, traces, modalities, args):
    """Samples per second of each feed and model over `args.rounds` rounds
    taken in turn, and, from the first, the text lengths served and traces."""
    import time

    results = {(feed, name): [] for feed in models for name in models[feed]}
    shapes, make_feed = {}, feeds(config)
    for round_index in range(args.rounds):
        for feed, named in models.items():
            for name, (model, target) in named.items():
                arguments = make_feed[feed](x, target)
                before = traces["count"]
                model.fit(**arguments, epochs=1, verbose=0)  # traces, warms the pipeline
                start = time.perf_counter()
                model.fit(**arguments, epochs=args.epochs, verbose=0)
                results[(feed, name)].append(len(target) * args.epochs / (time.perf_counter() - start))
                if round_index == 0:
                    iterator = iter(arguments["x"])
                    seen = {tuple(next(iterator)[0]["text"].shape[1:2]) for _ in range(arguments["steps_per_epoch"])}
                    shapes[(feed, name)] = (sorted(s[0] for s in seen), (traces["count"] - before) // modalities)
    return results, shapes


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default=DEFAULT_DATA)
    parser.add_argument("--epochs", type=int, default=3, help="timed epochs per round (after one untimed)")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

    import keras
    import numpy as np

    from applications.experiments.config import TrainingConfig
    from applications.experiments.preparation import prepare_experiment
    from mosi_keras.data import load_dataset
    from mosi_keras.inputs import mask_name

    traces = count_traces()
    dataset = load_dataset(args.data)
    prepared = prepare_experiment(dataset, 0.4, seed=0)
    x, y = prepared.pretrain_train
    labels = (y >= 0).astype("float32")  # any target: the step's cost is what is measured
    lengths = {m: prepared.inputs[mask_name(m)][prepared.split.train].sum(1) for m in dataset.feature_dims}
    print(f"{args.data}: {len(labels)} training rows; max_len {prepared.max_len}; " + ", ".join(
        f"{m} median {int(np.median(v))} / max {int(v.max())}" for m, v in lengths.items()))
    config = TrainingConfig()
    models = same_start_models(config, dataset.feature_dims, prepared.max_len, labels, y)
    results, shapes = timed_rounds(models, x, config, traces, len(dataset.feature_dims), args)
    print(f"\n{'feed':<10} {'model':<12} {'samples/s (median of rounds)':>30} {'text lengths served':>24} {'traces':>7}")
    for (feed, name), values in results.items():
        lengths_served, traced = shapes[(feed, name)]
        print(f"{feed:<10} {name:<12} {np.median(values):>30.1f} {str(lengths_served):>24} {traced:>7}")
    for name in ("classifier", "dec stage 1"):
        ratio = np.median(results[("bucketed", name)]) / np.median(results[("padded", name)])
        print(f"bucketed / padded, {name}: {ratio:.2f}x")
    print(f"(backend {keras.backend.backend()}; traces: Python calls of each encoder during the two fits of "
          "the first round, per modality)")


if __name__ == "__main__":
    main()
