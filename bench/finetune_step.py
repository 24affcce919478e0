"""One fine-tuning step of the kit taken apart, beside the PyTorch peer's, on whatever the backend computes on.

The `text` recipe's classifier with the encoder inside it (`mosi-keras train --text-encoder FOLDER`), on the
word file's length-bucketed training batches of 32, and the peer of `bench/finetune_speed.py` (`transformers`'
`AutoModel`, AdamW; here the mean of every token's state, padding included, → one logit) on the same token
batches, on `cuda` when there is one.
docs/PERFORMANCE.md ("On a GPU") reports its figures.

    KERAS_BACKEND=torch python bench/finetune_step.py --encoder FOLDER [--profile]
    KERAS_BACKEND=jax python bench/finetune_step.py --encoder FOLDER

- PyTorch (eager): ms a batch over the epoch's first 12 batches (their several shapes), median of 3 passes, of the
  model's forward, forward + backward, the kit's Adam update and Keras's, `train_on_batch`, and the peer's forward
  and whole step; `--profile`: cProfile's top entries over those 12 `train_on_batch` calls.
- JAX (compiled): the first `train_on_batch` of the epoch's most frequent batch shape (compiling), then ms a batch
  over every batch of that shape, median of 5 passes, beside the peer's whole step on the same batches.
"""

import argparse
import cProfile
import os
import pstats
import statistics
import time

os.environ.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")  # JAX beside the peer's PyTorch on one GPU
import keras
import numpy as np
from finetune_speed import peer_model  # this folder's: the peer, built as that script builds it

from applications.batching import fit_arguments
from applications.experiments.training import build_task, compile_task
from applications.experiments.config import load_config
from applications.experiments.preparation import prepare_experiment
from mosi_keras.data import load_dataset
from mosi_keras.inputs import TOKEN_INPUTS

HERE = os.path.dirname(os.path.abspath(__file__))
WORDS = os.path.join(HERE, "..", "..", "shared", "data", "cmu_mosi", "cmu_mosi_words.npz")


def build(encoder, data):
    """The compiled classifier with `encoder` inside it and its training batches (numpy), as a run feeds them."""
    keras.utils.set_random_seed(0)
    config = load_config(preset="text").replace(text_encoder=encoder)
    prepared = prepare_experiment(load_dataset(data), 1.0, 0, config.text_encoder)
    x, y = prepared.labelled("train")
    model = build_task("classifier", config, prepared.feature_dims, prepared.max_len,
                       preprocessor=prepared.preprocessor)
    compile_task(model, config, total_steps=1000)
    feed = fit_arguments(x, np.asarray(y, "float32"), 32, seed=0)["x"]
    return model, [feed[i] for i in range(len(feed))]


def peer(encoder, device):
    """`(forward, step)` of the PyTorch peer (`finetune_speed.peer_model`) on `device`, each taking a batch of the
    kit's token tensors there; the step's logit reads the mean of every token's state, padding included."""
    import torch

    model, head, optimizer = peer_model(encoder, device)

    def states(bx):
        return model(input_ids=bx[TOKEN_INPUTS["token_ids"]].long(),
                     attention_mask=bx[TOKEN_INPUTS["padding_mask"]].long()).last_hidden_state

    def forward(bx, by):
        with torch.no_grad():
            states(bx)

    def step(bx, by):
        loss = torch.nn.functional.binary_cross_entropy_with_logits(head(states(bx).mean(1)).squeeze(-1), by.float())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss.detach()

    return forward, step


def milliseconds(function, batches, rounds, wait):
    """Median over `rounds` passes of the ms a batch of `function(*batch)` over `batches` (two warm-up
    calls first); `wait(result)` blocks until the device is done."""
    for batch in batches[:2]:
        wait(function(*batch))
    passes = []
    for _ in range(rounds):
        start = time.perf_counter()
        for batch in batches:
            result = function(*batch)
        wait(result)
        passes.append((time.perf_counter() - start) / len(batches) * 1e3)
    return statistics.median(passes)


def eager_phases(model, batches, encoder, profile):
    """PyTorch: the step's phases on the first 12 batches, and the peer's."""
    import torch

    device = "cuda" if torch.cuda.is_available() else "cpu"

    def wait(result):
        if device == "cuda":
            torch.cuda.synchronize()

    batches = batches[:12]
    tensors = [({k: torch.as_tensor(v, device=device) for k, v in bx.items()}, torch.as_tensor(by, device=device))
               for bx, by in batches]
    print("device", torch.cuda.get_device_name() if device == "cuda" else "cpu", "| token widths",
          sorted({bx[TOKEN_INPUTS["token_ids"]].shape[1] for bx, _ in batches}))
    variables = model.trainable_variables

    def forward(bx, by):
        with torch.no_grad():
            model(bx, training=True)

    def forward_backward(bx, by):
        model.zero_grad()
        model.compute_loss(bx, by, model(bx, training=True), training=True).backward()

    grads = [torch.zeros_like(v.value) for v in variables]
    plain = keras.optimizers.Adam(1e-3, weight_decay=0.01)
    plain.build(variables)
    peer_forward, peer_step = peer(encoder, device)
    figures = {
        "the kit's model forward": milliseconds(forward, tensors, 3, wait),
        "the kit's model forward + backward": milliseconds(forward_backward, tensors, 3, wait),
        "the kit's Adam update (MultiRateAdam.apply)": milliseconds(
            lambda bx, by: model.optimizer.apply(grads, variables), tensors, 3, wait),
        "Keras's Adam update (one rate)": milliseconds(lambda bx, by: plain.apply(grads, variables), tensors, 3,
                                                       wait),
        "train_on_batch": milliseconds(model.train_on_batch, batches, 3, wait),
        "the peer: forward (the same token batches)": milliseconds(peer_forward, tensors, 3, wait),
        "the peer: a whole step (forward, backward, AdamW)": milliseconds(peer_step, tensors, 3, wait),
    }
    print("| phase | ms a batch |\n|---|---|")
    for name, value in figures.items():
        print(f"| {name} | {value:.1f} |")
    if profile:
        profiler = cProfile.Profile()
        profiler.enable()
        for bx, by in batches:
            model.train_on_batch(bx, by)
        wait(None)
        profiler.disable()
        pstats.Stats(profiler).sort_stats("tottime").print_stats(20)
        pstats.Stats(profiler).sort_stats("cumtime").print_stats(30)


def compiled_step(model, batches, encoder):
    """JAX: the step compiled for the most frequent batch shape, then steady, beside the peer's."""
    import jax
    import torch

    shapes = [bx[TOKEN_INPUTS["token_ids"]].shape for bx, _ in batches]
    shape = max(set(shapes), key=shapes.count)
    same = [batch for batch, batch_shape in zip(batches, shapes) if batch_shape == shape]
    print("device", jax.devices()[0], "| batch shape", shape, "|", len(same), "batches of it", flush=True)
    start = time.perf_counter()
    model.train_on_batch(*same[0])
    print(f"first step (compiling): {time.perf_counter() - start:.1f} s", flush=True)
    kit = milliseconds(model.train_on_batch, same, 5, lambda result: np.asarray(keras.tree.flatten(result)[0]))
    print(f"| keras / jax: train_on_batch, steady | {kit:.1f} ms |", flush=True)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    _, peer_step = peer(encoder, device)

    def step(bx, by):
        return peer_step({k: torch.as_tensor(v, device=device) for k, v in bx.items()},
                         torch.as_tensor(by, device=device)).cpu()

    print(f"| the peer: a whole step, the same batches | {milliseconds(step, same, 5, lambda result: None):.1f} ms |")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--encoder", required=True, help="local all-MiniLM-L6-v2 preset folder")
    parser.add_argument("--data", default=WORDS)
    parser.add_argument("--profile", action="store_true", help="PyTorch: cProfile's top entries of the steps")
    args = parser.parse_args()
    model, batches = build(args.encoder, args.data)
    if keras.backend.backend() == "torch":
        eager_phases(model, batches, args.encoder, args.profile)
    elif keras.backend.backend() == "jax":
        compiled_step(model, batches, args.encoder)
    else:
        parser.error("KERAS_BACKEND=torch (eager phases) or jax (the compiled step)")


if __name__ == "__main__":
    main()
