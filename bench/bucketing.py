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
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_DATA = os.path.join(os.path.dirname(ROOT), "shared", "data", "cmu_mosi", "cmu_mosi_words.npz")


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
    from applications.batching import fit_arguments
    from applications.experiments.builders import build_task, compile_task
    from applications.experiments.dec_pretraining import make_dec_stage
    from applications.experiments.preparation import prepare_experiment
    from applications import MultimodalDecoder
    from mosi_keras.data import load_dataset
    from mosi_keras.layers import ModalityTransformerEncoder

    traces = {"count": 0}
    original_call = ModalityTransformerEncoder.call

    @functools.wraps(original_call)  # keeps the signature Keras reads
    def counting_call(self, *a, **k):  # runs once per trace in graph mode, per step eagerly
        traces["count"] += 1
        return original_call(self, *a, **k)

    ModalityTransformerEncoder.call = counting_call
    dataset = load_dataset(args.data)
    prepared = prepare_experiment(dataset, 0.4, seed=0)
    x, y = prepared.pretrain_train
    labels = (y >= 0).astype("float32")  # any target: the step's cost is what is measured
    n, modalities = len(labels), len(dataset.feature_dims)
    lengths = {m: prepared.inputs[f"{m}_mask"][prepared.split.train].sum(1) for m in dataset.feature_dims}
    print(f"{args.data}: {n} training rows; max_len {prepared.max_len}; " + ", ".join(
        f"{m} median {int(np.median(v))} / max {int(v.max())}" for m, v in lengths.items()))
    config = TrainingConfig()
    keras.utils.set_random_seed(0)

    def padded_feed(xx, yy):
        import tensorflow as tf

        data = tf.data.Dataset.from_tensor_slices((xx, yy)).shuffle(len(yy), seed=0).batch(config.batch_size)
        return dict(x=data.repeat(), steps_per_epoch=int(np.ceil(len(yy) / config.batch_size)))

    models = {}
    for feed in ("padded", "bucketed"):
        keras.utils.set_random_seed(0)
        classifier = compile_task(build_task("classifier", config, dataset.feature_dims, prepared.max_len), config)
        decoder = MultimodalDecoder.for_backbone(classifier.backbone, prepared.max_len)
        dec = make_dec_stage(classifier.backbone, decoder, config, stage=1)
        models[feed] = {"classifier": (classifier, labels), "dec stage 1": (dec, y)}
    results = {(feed, name): [] for feed in models for name in models[feed]}
    shapes = {}
    for round_index in range(args.rounds):
        for feed, named in models.items():
            for name, (model, target) in named.items():
                arguments = padded_feed(x, target) if feed == "padded" else fit_arguments(x, target, config.batch_size)
                before = traces["count"]
                model.fit(**arguments, epochs=1, verbose=0)  # traces, warms the pipeline
                start = time.perf_counter()
                model.fit(**arguments, epochs=args.epochs, verbose=0)
                results[(feed, name)].append(n * args.epochs / (time.perf_counter() - start))
                if round_index == 0:
                    iterator = iter(arguments["x"])
                    seen = {tuple(next(iterator)[0]["text"].shape[1:2]) for _ in range(arguments["steps_per_epoch"])}
                    shapes[(feed, name)] = (sorted(s[0] for s in seen), (traces["count"] - before) // modalities)
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
