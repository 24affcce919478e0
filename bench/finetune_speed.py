"""Fine-tuning a text encoder inside the model: the kit's epoch against plain PyTorch + `transformers`.

Training samples per second of a fine-tuning epoch as a user runs it
(`mosi-keras train --text-encoder FOLDER`: the classifier on the word
file's transcripts, audio and visual, every row labelled, batch 32, the
validation videos measured every epoch), on the TensorFlow, JAX and
PyTorch backends, beside the way a PyTorch user fine-tunes the same
all-MiniLM-L6-v2 weights: `transformers`' `AutoModel` and `AutoTokenizer`,
the same transcripts tokenized once and padded per random batch (what
`DataCollatorWithPadding` does), the mean of the token states → one logit,
AdamW (5e-5 on the encoder, 1e-3 on the head), the validation rows
predicted every epoch. Each configuration runs in its own process with
every core, one after another in the same run, so the ratios compare like
with like on a shared, noisy machine. The first epoch also pays for tracing
or compiling; the figure is the mean of the epochs after it ("steady"),
the first is printed beside it. Peak memory is the process's maximum
resident set and, on a GPU, the most the framework held on it. On a
machine with a GPU every configuration runs there: the kit's backends as
Keras places them, the peer on `cuda`.

    ../shared/tools/get_minilm_preset.sh ~/.cache/mosi_keras/all-minilm-l6-v2
    pip install -e ".[bench]"
    python bench/finetune_speed.py --encoder ~/.cache/mosi_keras/all-minilm-l6-v2 [--epochs 3]
        [--only tensorflow jax torch peer] [--option KEY=VALUE ...]

`--option` sets a `TrainingConfig` field of the kit's runs (e.g.
`text_frozen_layers=3`), to measure what it costs or saves.
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
WORDS = os.path.join(HERE, "..", "..", "shared", "data", "cmu_mosi", "cmu_mosi_words.npz")
CONFIGS = {
    "keras/tensorflow": "tensorflow",
    "keras/jax": "jax",
    "keras/torch": "torch",
    "torch + transformers (peer)": "peer",
}
BATCH, ENCODER_RATE, HEAD_RATE, WEIGHT_DECAY = 32, 5e-5, 1e-3, 0.01


def peak_memory_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def kit_worker(args):
    """One `fit` of the kit's classifier with the text encoder, timed per epoch."""
    import keras

    from applications.experiments.config import load_config
    from applications.experiments.preparation import prepare_experiment
    from applications.experiments.run import fit_task
    from mosi_keras.data import load_dataset

    data = load_dataset(args.data)
    options = dict(text_encoder=args.encoder, text_learning_rate=ENCODER_RATE, epochs=args.epochs, batch_size=BATCH)
    options.update(json.loads(args.options))
    config = load_config(preset="small_data").replace(**options)
    prepared = prepare_experiment(data, 1.0, 0, config.text_encoder)

    class EpochTimer(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.seconds = []

        def on_epoch_begin(self, epoch, logs=None):
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):  # after the epoch's validation
            self.seconds.append(time.perf_counter() - self.start)

    timer = EpochTimer()
    start = time.perf_counter()
    fit_task("classifier", prepared, config, progress=lambda stage, epochs: [timer])
    return dict(seconds=timer.seconds, fit_seconds=time.perf_counter() - start,
                rows=len(prepared.split.labelled_train), val_rows=len(prepared.split.labelled_val))


def peer_model(folder, device):
    """`(encoder, head, optimizer)` of the peer on `device`: `transformers`' `AutoModel` of `folder`, one linear
    logit, AdamW with the encoder at `ENCODER_RATE` and the head at `HEAD_RATE`."""
    import torch
    import transformers

    encoder = transformers.AutoModel.from_pretrained(folder).to(device)
    head = torch.nn.Linear(encoder.config.hidden_size, 1).to(device)
    optimizer = torch.optim.AdamW([{"params": encoder.parameters(), "lr": ENCODER_RATE},
                                   {"params": head.parameters(), "lr": HEAD_RATE}], weight_decay=WEIGHT_DECAY)
    return encoder, head, optimizer


def peer_worker(args):
    """The same weights fine-tuned the PyTorch way, timed per epoch."""
    import torch
    import transformers

    from mosi_keras.data import binary_labels, load_dataset, semi_supervised_split
    from mosi_keras.transcript_tokenizer import transcript_words

    torch.set_num_threads(os.cpu_count())
    torch.manual_seed(0)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")  # where the kit's torch backend runs
    data = load_dataset(args.data)
    split = semi_supervised_split(data.video_ids, 1.0, seed=0)  # the kit's rows (prepare_experiment's split)
    tokenizer = transformers.AutoTokenizer.from_pretrained(args.encoder)
    encoder, head, optimizer = peer_model(args.encoder, device)
    texts = [" ".join(transcript_words(t)) for t in data.transcripts]  # the words the kit reads
    tokens = [tokenizer(text, truncation=True, max_length=128) for text in texts]
    labels = torch.tensor(binary_labels(data.sentiment), dtype=torch.float32, device=device)

    def logits(rows):
        batch = tokenizer.pad([tokens[i] for i in rows], return_tensors="pt").to(device)  # to the batch's longest
        states = encoder(**batch).last_hidden_state
        mask = batch["attention_mask"].unsqueeze(-1).to(states.dtype)
        return head((states * mask).sum(1) / mask.sum(1)).squeeze(-1)

    seconds = []
    rng = np.random.default_rng(0)
    for _ in range(args.epochs):
        start = time.perf_counter()
        encoder.train(), head.train()
        order = rng.permutation(split.labelled_train)
        for i in range(0, len(order), BATCH):
            rows = order[i:i + BATCH]
            loss = torch.nn.functional.binary_cross_entropy_with_logits(logits(rows), labels[rows])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        encoder.eval(), head.eval()
        with torch.no_grad():
            for i in range(0, len(split.labelled_val), BATCH):
                logits(split.labelled_val[i:i + BATCH])
        if device.type == "cuda":
            torch.cuda.synchronize()
        seconds.append(time.perf_counter() - start)
    return dict(seconds=seconds, rows=len(split.labelled_train), val_rows=len(split.labelled_val))


def accelerator(backend):
    """What `backend` computed on: `(its first GPU's name, that GPU's peak memory in MiB)`, or `("cpu", None)`."""
    if backend == "jax":
        import jax

        device = jax.devices()[0]
        if device.platform == "cpu":
            return "cpu", None
        return device.device_kind, device.memory_stats()["peak_bytes_in_use"] / 2**20
    if backend == "torch":
        import torch

        if not torch.cuda.is_available():
            return "cpu", None
        return torch.cuda.get_device_name(), torch.cuda.max_memory_allocated() / 2**20
    import tensorflow as tf

    if not tf.config.list_logical_devices("GPU"):
        return "cpu", None
    return "GPU", tf.config.experimental.get_memory_info("GPU:0")["peak"] / 2**20


def worker(args):
    result = peer_worker(args) if args.worker == "peer" else kit_worker(args)
    result["peak_mib"] = peak_memory_mib()
    result["device"], result["gpu_peak_mib"] = accelerator("torch" if args.worker == "peer" else args.worker)
    print("RESULT " + json.dumps(result), flush=True)


def run_config(backend, args):
    env = dict(os.environ, KERAS_BACKEND=backend if backend != "peer" else "torch", TF_CPP_MIN_LOG_LEVEL="3")
    command = [sys.executable, __file__, "--worker", backend, "--encoder", args.encoder, "--data", args.data,
               "--epochs", str(args.epochs), "--options", json.dumps(options_of(args))]
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    if done.returncode or not lines:
        print(f"{backend} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}", file=sys.stderr)
        return None
    return json.loads(lines[-1][len("RESULT "):])


def options_of(args):
    options = {}
    for item in args.option or ():
        key, value = item.split("=", 1)
        options[key] = json.loads(value)
    return options


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--encoder", required=True, help="local all-MiniLM-L6-v2 preset folder")
    parser.add_argument("--data", default=WORDS)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--only", nargs="*", choices=sorted(CONFIGS.values()))
    parser.add_argument("--option", action="append", help="KEY=JSON: a TrainingConfig field of the kit's runs")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--options", default="{}", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return worker(args)
    results = {}
    for name, backend in CONFIGS.items():
        if args.only and backend not in args.only:
            continue
        result = run_config(backend, args)
        if result is None:
            continue
        steady = result["seconds"][1:] or result["seconds"]
        result["samples_per_s"] = result["rows"] / float(np.mean(steady))
        results[name] = result
        print(f"  {name}: epochs {[round(s, 1) for s in result['seconds']]} s", flush=True)
    peer = results.get("torch + transformers (peer)", {}).get("samples_per_s")
    print(f"\n{args.epochs} epochs of {next(iter(results.values()))['rows']} training rows (batch {BATCH}), "
          f"validation included; options {options_of(args) or 'none'}")
    print("| configuration | device | samples/s (steady epochs) | × peer | first epoch, s | peak memory, MiB "
          "(host; GPU) |")
    print("|---|---|---|---|---|---|")
    for name, result in results.items():
        ratio = f"{result['samples_per_s'] / peer:.2f}" if peer else "–"
        gpu = "" if result["gpu_peak_mib"] is None else f"; {result['gpu_peak_mib']:.0f}"
        print(f"| {name} | {result['device']} | {result['samples_per_s']:.1f} | {ratio} | {result['seconds'][0]:.1f} | "
              f"{result['peak_mib']:.0f}{gpu} |")


if __name__ == "__main__":
    main()
