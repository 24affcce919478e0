"""Trains the DEC model and the classifier on one device and data-parallel,
from the same initial weights; prints their histories as JSON.

Run in fresh processes (the devices are fixed at start-up):
  python -m tests.applications.distributed_fit tensorflow   # MirroredStrategy, 2 logical CPUs
  XLA_FLAGS=--xla_force_host_platform_device_count=2 KERAS_BACKEND=jax \
      python -m tests.applications.distributed_fit jax       # DataParallel, 2 host devices
  KERAS_BACKEND=jax python -m tests.applications.distributed_fit jax-process I PORT
      # process I of 2: jax.distributed + DataParallel, each process feeding its rows
  python -m tests.applications.distributed_fit tf-worker I PORT0,PORT1
      # worker I of 2: TF_CONFIG + MultiWorkerMirroredStrategy
"""

import json
import os
import sys

import keras

from applications import SemiSupervisedDEC, SentimentClassifier
from tests.applications.conftest import make_backbone, make_backbone_decoder, make_tiny

BATCH = 32


def build(kind):
    keras.utils.set_random_seed(0)
    if kind == "dec":
        backbone, decoder = make_backbone_decoder()
        model = SemiSupervisedDEC(backbone, decoder, n_clusters=2, reconstruction_weight=0.1,
                                  supervised_weight=0.5, disentangle_weight=0.01)
        model.compile(optimizer=keras.optimizers.SGD(0.05))
    else:
        model = SentimentClassifier(make_backbone(), head_dropout=0.0)
        model.compile(optimizer=keras.optimizers.SGD(0.05))
    return model


def train(model, x, y, initial, batch_size=BATCH, fit=None):
    """`fit` (default the model's own: data-parallel, it hands Keras the arrays as they are,
    `applications.batching.distributed`) for 3 epochs from `initial`."""
    model(x)
    model.set_weights(initial)
    fit = fit or model.fit
    history = fit(x, y, epochs=3, batch_size=batch_size, shuffle=False, verbose=0)
    return history.history


def data():
    """Whole global batches of the tiny data: {kind: (x, y)}."""
    x, labels, semi = make_tiny(n_videos=8)
    n = len(labels) // BATCH * BATCH
    x = {name: value[:n] for name, value in x.items()}
    return {"dec": (x, semi[:n]), "classifier": (x, labels[:n].astype("float32"))}


def single_device(kind, x, y):
    """(history, initial weights) of training on one device."""
    model = build(kind)
    model(x)
    initial = model.get_weights()
    # Keras's own batches on one device too (the model's own would cut them in length buckets).
    return train(model, x, y, initial, fit=lambda *args, **kwargs: keras.Model.fit(model, *args, **kwargs)), initial


def compare(train_parallel):
    """Histories of each model on one device ("{kind}_single") and through
    `train_parallel(kind, x, y, initial)` ("{kind}_parallel")."""
    results = {}
    for kind, (x, y) in data().items():
        results[f"{kind}_single"], initial = single_device(kind, x, y)
        results[f"{kind}_parallel"] = train_parallel(kind, x, y, initial)
    return results


def under_strategy(strategy):
    """`train_parallel` for `compare`: build and train inside `strategy.scope()`."""
    def train_parallel(kind, x, y, initial):
        with strategy.scope():
            return train(build(kind), x, y, initial)
    return train_parallel


def mirrored():
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    return dict(compare(under_strategy(strategy)), replicas=strategy.num_replicas_in_sync)


def jax_data_parallel():
    def train_parallel(kind, x, y, initial):
        with keras.distribution.DataParallel().scope():
            return train(build(kind), x, y, initial)

    return dict(compare(train_parallel), replicas=len(keras.distribution.list_devices()))


def process_rows(array, index, count):
    """This process's share of every global batch: rows [i*b/count, (i+1)*b/count)
    of each batch of `BATCH`, so the processes' rows side by side are the batch."""
    share = BATCH // count
    return array.reshape(-1, count, share, *array.shape[1:])[:, index].reshape(-1, *array.shape[1:])


def jax_process(index, port):
    import jax

    jax.distributed.initialize(f"localhost:{port}", num_processes=2, process_id=index)

    def train_parallel(kind, x, y, initial):
        local_x = {name: process_rows(value, index, 2) for name, value in x.items()}
        with keras.distribution.DataParallel(auto_shard_dataset=False).scope():
            return train(build(kind), local_x, process_rows(y, index, 2), initial, batch_size=BATCH // 2)

    return dict(compare(train_parallel), replicas=len(keras.distribution.list_devices()))


def tf_worker(index, ports):
    os.environ["TF_CONFIG"] = json.dumps({
        "cluster": {"worker": [f"localhost:{port}" for port in ports.split(",")]},
        "task": {"type": "worker", "index": index},
    })
    import tensorflow as tf

    strategy = tf.distribute.MultiWorkerMirroredStrategy()
    return dict(compare(under_strategy(strategy)), replicas=strategy.num_replicas_in_sync)


def main(mode, *args):
    runs = {"tensorflow": mirrored, "jax": jax_data_parallel, "jax-process": jax_process, "tf-worker": tf_worker}
    if mode in ("jax-process", "tf-worker"):
        args = (int(args[0]), args[1])
    print(json.dumps(runs[mode](*args)))


if __name__ == "__main__":
    main(*sys.argv[1:])
