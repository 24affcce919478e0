"""Fine-tuning a text encoder inside the model: the kit's fit against plain PyTorch + `transformers`.

A 4-epoch fine-tuning fit as a user runs it (`mosi-keras train
--text-encoder FOLDER`: the `text` recipe's classifier on the word file's
transcripts, audio and visual, every row labelled, batch 32, the
validation videos measured every epoch), on each backend, eager or
compiled (TensorFlow with and without XLA, JAX's compiled step, PyTorch
eager and with `torch.compile`), beside the way a PyTorch user fine-tunes
the same all-MiniLM-L6-v2 weights: `transformers`' `AutoModel` and
`AutoTokenizer`, the same transcripts tokenized once, the mean of the
token states → one logit, AdamW (the `text` recipe's rates: 1e-4 on the
encoder, 1e-3 on the head), the validation rows predicted every epoch —
in random batches padded to their longest (`DataCollatorWithPadding`), or
grouped by length as `Trainer(group_by_length=True)` groups them (a
shuffled mega-batch of 50 batches sorted by length, transformers'
`LengthGroupedSampler`).

Each configuration runs in its own process, one after another in the
same run, so the ratios compare like with like on a shared, noisy
machine. Per configuration it prints each epoch's seconds (validation
included); "whole fit" is training rows × epochs over everything from
reading the data file to the end of the last epoch (tokenizing, loading
the encoder, building, compiling, every epoch); "steady" is the mean of
the epochs after the first; the step compilations (JAX: traces of the
train, test and predict steps; `torch.compile`: Dynamo's graphs;
TensorFlow with XLA: the batch shapes its one traced step was given, XLA
compiles each once); the batch shapes served (token width × rows); and
peak memory (the process's resident set; on a GPU, the most the
framework held there).

    ../shared/tools/get_minilm_preset.sh ~/.cache/mosi_keras/all-minilm-l6-v2
    pip install -e ".[bench]"
    python bench/finetune_speed.py --encoder ~/.cache/mosi_keras/all-minilm-l6-v2 [--epochs 4]
        [--only tensorflow tensorflow-xla jax torch torch-compile peer peer-grouped]
        [--device cpu|gpu] [--policy mixed_bfloat16|mixed_float16] [--option KEY=VALUE ...]

`--device gpu` runs every configuration on the machine's first GPU (the
peer on `cuda`), `cpu` hides it; by default each uses what it finds.
`--policy` trains under a mixed-precision policy (the peer under
`torch.autocast` in that type). `--option` sets a `TrainingConfig` field
of the kit's runs (e.g. `text_frozen_layers=3`), to measure what it costs
or saves.
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import time

import numpy as np

from applications.training_defaults import LEARNING_RATE, PAPER_WEIGHT_DECAY, TEXT_LEARNING_RATE

HERE = os.path.dirname(os.path.abspath(__file__))
WORDS = os.path.join(HERE, "..", "..", "shared", "data", "cmu_mosi", "cmu_mosi_words.npz")
CONFIGS = {  # --only's choice → (the table's name, the worker, its TrainingConfig options)
    "tensorflow": ("keras/tensorflow", "tensorflow", {}),
    "tensorflow-xla": ("keras/tensorflow (XLA)", "tensorflow", {"jit_compile": True}),
    "jax": ("keras/jax", "jax", {}),
    "torch": ("keras/torch", "torch", {}),
    "torch-compile": ("keras/torch (torch.compile)", "torch", {"jit_compile": True}),
    "peer": ("peer, random batches", "peer", {}),
    "peer-grouped": ("peer, length-grouped", "peer", {"grouped": True}),
}
BATCH = 32  # the `text` recipe's batch
ENCODER_RATE, HEAD_RATE, WEIGHT_DECAY = TEXT_LEARNING_RATE, LEARNING_RATE, PAPER_WEIGHT_DECAY  # its rates
MEGA_BATCHES = 50  # batches per length-sorted mega-batch, as transformers' LengthGroupedSampler


def peak_memory_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class StepCounter:
    """Counts the kit's step compilations and the batch shapes its steps are given, in this process."""

    def __init__(self, backend, jit_compile):
        from mosi_keras.data import LengthBucketedBatches

        self.backend, self.jit_compile = backend, jit_compile
        self.traces, self.shapes = 0, set()
        serve = LengthBucketedBatches.__getitem__

        def counted(batches, index):
            batch = serve(batches, index)
            x = batch[0] if isinstance(batch, tuple) else batch
            self.shapes.add((batches.shuffle, *sorted((name, np.shape(v)) for name, v in x.items())))
            return batch

        LengthBucketedBatches.__getitem__ = counted
        if backend == "jax":  # Python runs a jitted step only while tracing it
            from applications.sentiment_task import SentimentTask

            for name in ("train_step", "test_step", "predict_step"):  # Keras's own, counted on the kit's tasks
                setattr(SentimentTask, name, self.tracing(getattr(SentimentTask, name)))

    def tracing(self, step):
        def traced(*args, **kwargs):
            self.traces += 1
            return step(*args, **kwargs)

        return traced

    def compilations(self):
        if self.backend == "jax":
            return self.traces
        if self.backend == "torch":
            if not self.jit_compile:
                return 0
            from torch._dynamo.utils import counters

            return int(counters["stats"]["unique_graphs"])
        return len(self.shapes) if self.jit_compile else 0  # one trace; XLA compiles each shape once


def kit_worker(args):
    """One `fit` of the kit's classifier with the text encoder, as `mosi-keras train` runs it, timed per epoch."""
    start = time.perf_counter()
    import keras

    from applications.experiments.config import load_config
    from applications.experiments.preparation import prepare_experiment
    from applications.experiments.run import fit_task
    from mosi_keras.data import load_dataset

    if args.policy:
        keras.config.set_dtype_policy(args.policy)
    options = dict(text_encoder=args.encoder, epochs=args.epochs, batch_size=BATCH)
    options.update(json.loads(args.options))
    counter = StepCounter(args.worker, bool(options.get("jit_compile")))
    config = load_config(recipe="text").replace(**options)
    prepared = prepare_experiment(load_dataset(args.data), 1.0, 0, config.text_encoder)

    class EpochTimer(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.seconds = []

        def on_epoch_begin(self, epoch, logs=None):
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):  # after the epoch's validation
            self.seconds.append(time.perf_counter() - self.start)

    timer = EpochTimer()
    fit_task("classifier", prepared, config, progress=lambda stage, epochs: [timer])
    return dict(seconds=timer.seconds, whole_seconds=time.perf_counter() - start,
                rows=len(prepared.split.labelled_train), compilations=counter.compilations(),
                shapes=len(counter.shapes))


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


def grouped_order(rows, lengths, rng):
    """`rows` shuffled, then each mega-batch of `MEGA_BATCHES` batches sorted by length, longest first
    (transformers' `get_length_grouped_indices`)."""
    rows = rng.permutation(rows)
    size = MEGA_BATCHES * BATCH
    return np.concatenate([sorted(rows[i:i + size], key=lambda row: -lengths[row])
                           for i in range(0, len(rows), size)])


def peer_worker(args):
    """The same weights fine-tuned the PyTorch way, timed per epoch."""
    start = time.perf_counter()
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
    autocast = dict(device_type=device.type, enabled=bool(args.policy),
                    dtype=torch.float16 if args.policy == "mixed_float16" else torch.bfloat16)

    def logits(rows):
        batch = tokenizer.pad([tokens[i] for i in rows], return_tensors="pt").to(device)  # to the batch's longest
        with torch.autocast(**autocast):
            states = encoder(**batch).last_hidden_state
        mask = batch["attention_mask"].unsqueeze(-1).to(states.dtype)
        return head(((states * mask).sum(1) / mask.sum(1)).float()).squeeze(-1)

    seconds = []
    rng = np.random.default_rng(0)
    lengths = np.array([len(t["input_ids"]) for t in tokens])
    grouped = json.loads(args.options).get("grouped")
    for _ in range(args.epochs):
        epoch_start = time.perf_counter()
        encoder.train(), head.train()
        order = grouped_order(split.labelled_train, lengths, rng) if grouped else rng.permutation(split.labelled_train)
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
        seconds.append(time.perf_counter() - epoch_start)
    return dict(seconds=seconds, whole_seconds=time.perf_counter() - start, rows=len(split.labelled_train),
                compilations=0, shapes=None)


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


def environment(backend, device):
    """The worker's environment: its Keras backend, and the GPU hidden for `--device cpu`."""
    env = dict(os.environ, KERAS_BACKEND=backend if backend != "peer" else "torch", TF_CPP_MIN_LOG_LEVEL="3")
    if device == "cpu":
        env.update(CUDA_VISIBLE_DEVICES="", JAX_PLATFORMS="cpu")
    return env


def run_config(choice, args):
    name, backend, options = CONFIGS[choice]
    command = [sys.executable, __file__, "--worker", backend, "--encoder", args.encoder, "--data", args.data,
               "--epochs", str(args.epochs), "--options", json.dumps({**options, **options_of(args)})]
    if args.policy:
        command += ["--policy", args.policy]
    done = subprocess.run(command, env=environment(backend, args.device), capture_output=True, text=True)
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    if done.returncode or not lines:
        print(f"{name} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}", file=sys.stderr)
        return None
    return json.loads(lines[-1][len("RESULT "):])


def options_of(args):
    options = {}
    for item in args.option or ():
        key, value = item.split("=", 1)
        options[key] = json.loads(value)
    return options


def print_table(results, args):
    """The figures of every configuration that ran, as a Markdown table, × the plain and the grouped peer."""
    peers = [results.get(name, {}).get(key) for name in ("peer, random batches", "peer, length-grouped")
             for key in ("steady", "whole")]
    print(f"\n{args.epochs} epochs of {next(iter(results.values()))['rows']} training rows (batch {BATCH}), "
          f"validation included; policy {args.policy or 'float32'}; options {options_of(args) or 'none'}")
    print("| configuration | device | whole fit, samples/s | steady, samples/s | × peer steady (random; grouped) | "
          "× peer whole (random; grouped) | first epoch, s | step compilations | batch shapes | "
          "peak memory, MiB (host; GPU) |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name, r in results.items():
        def ratio(key, peer):
            return f"{r[key] / peer:.2f}" if peer else "–"

        gpu = "" if r["gpu_peak_mib"] is None else f"; {r['gpu_peak_mib']:.0f}"
        print(f"| {name} | {r['device']} | {r['whole']:.1f} | {r['steady']:.1f} | "
              f"{ratio('steady', peers[0])}; {ratio('steady', peers[2])} | "
              f"{ratio('whole', peers[1])}; {ratio('whole', peers[3])} | {r['seconds'][0]:.1f} | "
              f"{r['compilations']} | {r['shapes'] if r['shapes'] is not None else '–'} | {r['peak_mib']:.0f}{gpu} |")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--encoder", required=True, help="local all-MiniLM-L6-v2 preset folder")
    parser.add_argument("--data", default=WORDS)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--only", nargs="*", choices=sorted(CONFIGS))
    parser.add_argument("--device", choices=("cpu", "gpu"), help="default: whatever each framework finds")
    parser.add_argument("--policy", choices=("mixed_bfloat16", "mixed_float16"), help="mixed precision")
    parser.add_argument("--option", action="append", help="KEY=JSON: a TrainingConfig field of the kit's runs")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--options", default="{}", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return worker(args)
    results = {}
    for choice, (name, _, _) in CONFIGS.items():
        if args.only and choice not in args.only:
            continue
        result = run_config(choice, args)
        if result is None:
            continue
        steady = result["seconds"][1:] or result["seconds"]
        result["steady"] = result["rows"] / float(np.mean(steady))
        result["whole"] = result["rows"] * args.epochs / result["whole_seconds"]
        results[name] = result
        print(f"  {name}: epochs {[round(s, 1) for s in result['seconds']]} s, whole {result['whole_seconds']:.1f} s",
              flush=True)
    if results:
        print_table(results, args)


if __name__ == "__main__":
    main()
