"""Reusing the kit on another multimodal task: activity recognition from a
wrist accelerometer (50 steps × 6 channels) and ambient audio (20 frames ×
40 mel bands), with generated data.

Run: python docs/tutorial_reuse.py [--out DIR]
"""

import argparse
import os

import keras
import numpy as np

from applications import MultimodalDecoder, SemiSupervisedDEC
from mosi_keras.layers import ModalityTransformerEncoder
from mosi_keras.evaluation import clustering_metrics

LENGTHS = {"accelerometer": 50, "audio": 20}
WIDTHS = {"accelerometer": 6, "audio": 40}


def make_data(n, seed):
    """Two activities; each modality carries a weak, noisy trace of the class."""
    patterns = np.random.default_rng(42)  # the activities look the same in every split
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    x = {}
    for name in LENGTHS:
        pattern = patterns.normal(size=(2, WIDTHS[name]))
        steps = rng.normal(size=(n, LENGTHS[name], WIDTHS[name]))
        x[name] = (steps + 0.07 * pattern[y][:, None, :]).astype("float32")
        lengths = rng.integers(LENGTHS[name] // 3, LENGTHS[name] + 1, n)
        x[f"{name}_mask"] = np.arange(LENGTHS[name])[None] < lengths[:, None]
        x[name][~x[f"{name}_mask"]] = 0.0
    return x, y


def build_encoder():
    """Your own encoder: our layers, your modalities, any lengths."""
    inputs, embeddings = {}, []
    for name in LENGTHS:
        inputs[name] = keras.Input((LENGTHS[name], WIDTHS[name]), name=name)
        inputs[f"{name}_mask"] = keras.Input((LENGTHS[name],), dtype="bool", name=f"{name}_mask")
        embeddings.append(ModalityTransformerEncoder(hidden_dim=32, num_heads=4, intermediate_dim=64)(
            inputs[name], mask=inputs[f"{name}_mask"]))
    return keras.Model(inputs, keras.layers.Concatenate()(embeddings), name="activity_encoder")


def build_classifier(encoder):
    logit = keras.layers.Dense(1)(keras.layers.Dense(32, activation="relu")(encoder(encoder.input)))
    model = keras.Model(encoder.input, logit)
    model.compile(keras.optimizers.Adam(1e-3), keras.losses.BinaryCrossentropy(from_logits=True),
                  metrics=[keras.metrics.BinaryAccuracy(threshold=0.0, name="accuracy")])
    return model


def main(out, epochs=(8, 30, 10), samples=600):
    """`epochs`: (supervised, few-label fine-tuning, DEC pre-training) epochs."""
    keras.utils.set_random_seed(0)
    x, y = make_data(samples, seed=0)
    x_test, y_test = make_data(samples // 2, seed=1)

    # 1. Supervised, all labels.
    model = build_classifier(build_encoder())
    model.fit(x, y, epochs=epochs[0], batch_size=64, verbose=0)
    print(f"supervised, {samples} labels:  test accuracy {model.evaluate(x_test, y_test, verbose=0)[1]:.3f}")

    # 2. Only 30 labels: from scratch vs. semi-supervised DEC pre-training.
    labelled = np.arange(30)
    few = {k: v[labelled] for k, v in x.items()}
    scratch = build_classifier(build_encoder())
    scratch.fit(few, y[labelled], epochs=epochs[1], batch_size=16, verbose=0)
    print(f"30 labels, from scratch: test accuracy {scratch.evaluate(x_test, y_test, verbose=0)[1]:.3f}")

    encoder = build_encoder()
    decoder = MultimodalDecoder(64, WIDTHS, LENGTHS, hidden_dim=32)
    semi = np.full(len(y), -1)  # -1: unlabelled
    semi[labelled] = y[labelled]
    dec = SemiSupervisedDEC(encoder, decoder, n_clusters=2, reconstruction_weight=0.1, supervised_weight=0.5)
    dec.compile(optimizer=keras.optimizers.Adam(1e-3))
    history = dec.fit(x, semi, epochs=epochs[2], batch_size=64, verbose=0)
    q = np.asarray(dec.predict(x_test, verbose=0)["q"])
    print("DEC clusters on test:", {k: round(v, 3) for k, v in clustering_metrics(y_test, q.argmax(1)).items()})
    tuned = build_classifier(encoder)  # the pre-trained encoder, fine-tuned
    tuned.fit(few, y[labelled], epochs=epochs[1], batch_size=16, verbose=0)
    print(f"30 labels, DEC-pretrained: test accuracy {tuned.evaluate(x_test, y_test, verbose=0)[1]:.3f}")

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(6, 3.5))
    for name in ("loss", "cluster_loss", "reconstruction_loss", "supervised_loss"):
        axis.plot(history.history[name], label=name)
    axis.set_xlabel("epoch")
    axis.set_title("DEC pre-training on the activity task")
    axis.legend()
    figure.tight_layout()
    os.makedirs(out, exist_ok=True)
    figure.savefig(os.path.join(out, "tutorial_reuse_losses.png"), dpi=90)
    print(f"plot written to {os.path.join(out, 'tutorial_reuse_losses.png')}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", default=os.path.dirname(os.path.abspath(__file__)))
    main(parser.parse_args().out)
