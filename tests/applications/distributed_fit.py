"""Trains the DEC model and the classifier on one device and data-parallel on
two logical CPU devices, from the same initial weights; prints their histories as JSON.

Run in a fresh process (the device count is fixed at start-up):
  python -m tests.applications.distributed_fit tensorflow   # tf.distribute.MirroredStrategy
  XLA_FLAGS=--xla_force_host_platform_device_count=2 KERAS_BACKEND=jax \
      python -m tests.applications.distributed_fit jax       # keras.distribution.DataParallel
"""

import json
import sys

import keras

from applications import SemiSupervisedDEC, build_sentiment_classifier
from applications.training import TrainingConfig, compile_classifier
from tests.applications.conftest import DIMS, MAX_LEN, SMALL, make_encoder_decoder, make_tiny


def build(kind):
    keras.utils.set_random_seed(0)
    if kind == "dec":
        encoder, decoder = make_encoder_decoder()
        model = SemiSupervisedDEC(encoder, decoder, n_clusters=2, alpha=0.1, beta=0.5, gamma=0.01)
        model.compile(optimizer=keras.optimizers.SGD(0.05))
    else:
        model = build_sentiment_classifier(DIMS, MAX_LEN, head_dropout=0.0, **SMALL)
        compile_classifier(model, TrainingConfig(learning_rate=1e-3, weight_decay=0.0))
        model.optimizer = keras.optimizers.SGD(0.05)
        model.compile(optimizer=model.optimizer, loss=keras.losses.BinaryCrossentropy(from_logits=True))
    return model


def train(model, x, y, initial):
    model(x)
    model.set_weights(initial)
    history = model.fit(x, y, epochs=3, batch_size=32, shuffle=False, verbose=0)
    return history.history


def main(backend):
    x, labels, semi = make_tiny(n_videos=8)
    targets = {"dec": semi, "classifier": labels.astype("float32")}
    results = {}
    if backend == "tensorflow":
        import tensorflow as tf

        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
        strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
        for kind, y in targets.items():
            single = build(kind)
            single(x)
            initial = single.get_weights()
            results[f"{kind}_single"] = train(single, x, y, initial)
            with strategy.scope():
                results[f"{kind}_parallel"] = train(build(kind), x, y, initial)
        results["replicas"] = strategy.num_replicas_in_sync
    else:
        for kind, y in targets.items():
            single = build(kind)
            single(x)
            initial = single.get_weights()
            results[f"{kind}_single"] = train(single, x, y, initial)
            keras.distribution.set_distribution(keras.distribution.DataParallel())
            results[f"{kind}_parallel"] = train(build(kind), x, y, initial)
            keras.distribution.set_distribution(None)
        results["replicas"] = len(keras.distribution.list_devices())
    print(json.dumps(results))


if __name__ == "__main__":
    main(sys.argv[1])
