"""Training throughput of the classifier step and the DEC step, per backend,
against a plain PyTorch implementation of the same architecture.

MOSI-shaped generated data: T=30 (or --length); text 300, audio 74, visual
35 features; batch 128; the paper's architecture (SentimentClassifier on a MultimodalBackbone
defaults). Each configuration runs in its own process, --repeats rounds in
rotation, and the median of the rounds is reported: all in one run, so the
ratios compare like with like on a shared, noisy machine. Throughput is that
of the training steps: a Keras `fit` call also spends 0.1-0.8 s setting up
and tearing down its `tf.data` iterator, which over 20 steps would weigh as
much as the steps (printed separately, "whole fit").

Run: python bench/throughput.py [--steps 30] [--repeats 3] [--length 30] [--only CONFIG ...]
                                [--policy mixed_bfloat16]

--policy sets the Keras dtype policy of every Keras configuration and runs
the peer under `torch.autocast` with the same compute dtype, so the ratios
still compare like with like.
"""

import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np

DIMS = {"text": 300, "audio": 74, "visual": 35}
T, BATCH, HIDDEN, FF, HEADS, BLOCKS, HEAD = 30, 128, 128, 256, 4, 2, (64, 32)
CONFIGS = {
    "keras/tensorflow (XLA)": ("tensorflow", True),
    "keras/tensorflow (no XLA)": ("tensorflow", False),
    "keras/jax": ("jax", "auto"),
    "keras/torch": ("torch", False),
    "plain torch.nn (peer)": ("peer", None),
}


def batch_data(n, seed=0):
    rng = np.random.default_rng(seed)
    x = {}
    for name, dim in DIMS.items():
        x[name] = rng.normal(size=(n, T, dim)).astype("float32")
        lengths = rng.integers(min(5, T), T + 1, n)
        x[f"{name}_mask"] = (np.arange(T)[None] < lengths[:, None]).astype("int32")
    y = rng.integers(0, 2, n)
    return x, y


def flops_per_sample():
    """Forward multiply-adds ×2 of the classifier for one sample (training ≈ 3×)."""
    total = 0
    for dim in DIMS.values():
        total += 2 * T * dim * HIDDEN  # projection
        per_block = 4 * 2 * T * HIDDEN * HIDDEN  # q, k, v, output projections
        per_block += 2 * 2 * T * T * HIDDEN  # scores and weighted sum
        per_block += 2 * 2 * T * HIDDEN * FF  # feed-forward
        total += BLOCKS * per_block
    widths = [HIDDEN * len(DIMS), *HEAD, 1]
    total += sum(2 * a * b for a, b in zip(widths, widths[1:]))
    return total


def matmul_gflops(size=2048, repeats=5):
    a = np.random.rand(size, size).astype("float32")
    a @ a
    start = time.perf_counter()
    for _ in range(repeats):
        a @ a
    return 2 * size**3 * repeats / (time.perf_counter() - start) / 1e9


def keras_worker(jit, steps, policy):
    import keras

    keras.config.set_dtype_policy(policy)
    from applications import MultimodalBackbone, MultimodalDecoder, SemiSupervisedDEC, SentimentClassifier
    from applications.experiments.config import TrainingConfig
    from applications.experiments.training import compile_task

    n = BATCH * steps
    x, y = batch_data(n)
    out = {}
    classifier = compile_task(SentimentClassifier(MultimodalBackbone(DIMS, T)), TrainingConfig(jit_compile=jit))
    backbone = classifier.backbone
    dec = SemiSupervisedDEC(backbone, MultimodalDecoder.for_backbone(backbone), reconstruction_weight=0.1,
                            supervised_weight=0.5, disentangle_weight=0.001)
    dec.compile(optimizer=keras.optimizers.Adam(1e-4), jit_compile=jit)
    for name, model, target in (("classifier", classifier, y.astype("float32")), ("dec", dec, y)):
        model.fit(x, target, batch_size=BATCH, epochs=1, steps_per_epoch=3, verbose=0)  # compile
        clock = make_step_clock()
        start = time.perf_counter()
        model.fit(x, target, batch_size=BATCH, epochs=1, verbose=0, shuffle=False, callbacks=[clock])
        out[name] = BATCH * (steps - 1) / (clock.ends[-1] - clock.ends[0])
        out[f"{name}_fit"] = n / (time.perf_counter() - start)
    return out


def make_step_clock():
    import keras

    class StepClock(keras.callbacks.Callback):
        """Times the end of every training step. Keras hands a callback that
        is not marked async-safe its logs as numbers, so each end is synced."""

        def __init__(self):
            super().__init__()
            self.ends = []

        def on_train_batch_end(self, batch, logs=None):
            self.ends.append(time.perf_counter())

    return StepClock()


def peer_models():
    """The PyTorch peer of the kit's classifier (per modality a projection,
    sinusoidal positions, Transformer blocks, a masked mean; the §3.2 head)
    and of DEC's decoder, seeded: `(classifier, decoder)`."""
    import torch
    from torch import nn

    from mosi_keras.inputs import mask_name

    torch.manual_seed(0)

    class Encoder(nn.Module):
        def __init__(self, dim):
            super().__init__()
            self.projection = nn.Linear(dim, HIDDEN)
            layer = nn.TransformerEncoderLayer(HIDDEN, HEADS, FF, dropout=0.1, batch_first=True)
            self.blocks = nn.TransformerEncoder(layer, BLOCKS, enable_nested_tensor=False)
            position = torch.arange(T)[:, None].float()
            rate = torch.pow(10000.0, -2 * (torch.arange(HIDDEN) // 2).float() / HIDDEN)
            angles = position * rate
            self.register_buffer("encoding", torch.where(torch.arange(HIDDEN) % 2 == 0, angles.sin(), angles.cos()))

        def forward(self, x, mask):
            h = self.blocks(self.projection(x) + self.encoding, src_key_padding_mask=~mask)
            weights = mask.float()[..., None]
            return (h * weights).sum(1) / weights.sum(1).clamp(min=1)

    class Classifier(nn.Module):
        def __init__(self):
            super().__init__()
            self.encoders = nn.ModuleDict({k: Encoder(d) for k, d in DIMS.items()})
            width = HIDDEN * len(DIMS)
            self.head = nn.Sequential(nn.Linear(width, HEAD[0]), nn.BatchNorm1d(HEAD[0]), nn.ReLU(), nn.Dropout(0.3),
                                      nn.Linear(HEAD[0], HEAD[1]), nn.ReLU(), nn.Linear(HEAD[1], 1))

        def embed(self, x):
            return torch.cat([self.encoders[k](x[k], x[mask_name(k)]) for k in DIMS], dim=1)

        def forward(self, x):
            return self.head(self.embed(x))[:, 0]

    class Decoder(nn.Module):
        def __init__(self):
            super().__init__()
            width = HIDDEN * len(DIMS)
            self.parts = nn.ModuleDict({k: nn.ModuleList([nn.Linear(width, HIDDEN), nn.Linear(HIDDEN, HIDDEN),
                                                          nn.Linear(HIDDEN, d)]) for k, d in DIMS.items()})

        def forward(self, z, encoding):
            out = {}
            for k, (a, b, c) in self.parts.items():
                h = torch.relu(a(z))[:, None, :].expand(-1, T, -1) + encoding
                out[k] = c(torch.relu(b(h)))
            return out

    return Classifier(), Decoder()


def peer_steps(model, decoder):
    """`{"classifier": step, "dec": step}`: a training step of the peer
    classifier (Adam 4e-5, BCE) and of DEC's stage 2 (KL + reconstruction +
    supervision + disentanglement, as eq. 8), each `step(x, y)`."""
    import torch
    from torch import nn

    from mosi_keras.inputs import mask_name

    centroids = nn.Parameter(torch.randn(2, HIDDEN * len(DIMS)))
    optimizer = torch.optim.Adam(model.parameters(), lr=4e-5, weight_decay=1e-2)
    dec_optimizer = torch.optim.Adam([*model.encoders.parameters(), *decoder.parameters(), centroids], lr=1e-4)
    encoding = model.encoders["text"].encoding

    def classifier_step(xb, yb):
        optimizer.zero_grad()
        loss = nn.functional.binary_cross_entropy_with_logits(model(xb), yb.float())
        loss.backward()
        optimizer.step()

    def dec_step(xb, yb):
        dec_optimizer.zero_grad()
        z = model.embed(xb)
        q = (1 + torch.cdist(z, centroids) ** 2).reciprocal()
        q = q / q.sum(1, keepdim=True)
        weight = q**2 / q.sum(0)
        p = (weight / weight.sum(1, keepdim=True)).detach()
        kl = (p * (p.clamp_min(1e-12).log() - q.clamp_min(1e-12).log())).sum(1).mean()
        recon = decoder(z, encoding)
        rec = torch.stack([(((xb[k] - recon[k]) ** 2).mean(-1) * xb[mask_name(k)]).sum()
                           / xb[mask_name(k)].sum() for k in DIMS]).mean()
        ce = nn.functional.nll_loss(q.clamp_min(1e-12).log(), yb)
        zc = z - z.mean(0)
        cov = zc.T @ zc / len(z)
        dis = (cov**2).sum() - (cov.diagonal() ** 2).sum()
        (kl + 0.1 * rec + 0.5 * ce + 0.001 * dis).backward()
        dec_optimizer.step()

    return {"classifier": classifier_step, "dec": dec_step}


def peer_worker(steps, policy):
    """Samples a second of the PyTorch peer's classifier and DEC steps under `policy`."""
    import contextlib

    import torch

    from mosi_keras.inputs import is_mask_name

    model, decoder = peer_models()
    n = BATCH * steps
    x_np, y_np = batch_data(n)
    x = {k: torch.from_numpy(v if not is_mask_name(k) else v.astype(bool)) for k, v in x_np.items()}
    y = torch.from_numpy(y_np)
    if policy.startswith("mixed_"):
        precision = torch.autocast("cpu", dtype=getattr(torch, policy.removeprefix("mixed_")))
    else:
        precision = contextlib.nullcontext()
    out = {}
    model.train()
    for name, step in peer_steps(model, decoder).items():
        with precision:
            for i in range(3):
                step({k: v[:BATCH] for k, v in x.items()}, y[:BATCH])
            start = time.perf_counter()
            for i in range(steps):
                s = slice(i * BATCH, (i + 1) * BATCH)
                step({k: v[s] for k, v in x.items()}, y[s])
            out[name] = n / (time.perf_counter() - start)
    return out


def run_worker(name, steps, policy):
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    backend = CONFIGS[name][0]
    env = dict(os.environ, KERAS_BACKEND=backend if backend != "peer" else "tensorflow",
               TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=root)
    done = subprocess.run(
        [sys.executable, __file__, "--worker", name, "--steps", str(steps), "--length", str(T),
         "--policy", policy],
        env=env, capture_output=True, text=True,
    )
    if done.returncode != 0:
        print(f"{name}: failed\n{done.stderr[-2000:]}", file=sys.stderr)
        return None
    return json.loads(done.stdout.strip().splitlines()[-1])


def main():
    global T
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=30, help="timed steps per model (default 30)")
    parser.add_argument("--repeats", type=int, default=3, help="rounds over all configurations (default 3)")
    parser.add_argument("--length", type=int, default=T, help=f"sequence length (default {T})")
    parser.add_argument("--only", nargs="+", choices=list(CONFIGS), metavar="CONFIG",
                        help="run only these configurations (default: all)")
    parser.add_argument("--policy", default="float32", choices=["float32", "mixed_bfloat16", "mixed_float16"],
                        help="dtype policy (default float32)")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    T = args.length
    if args.worker:
        backend, jit = CONFIGS[args.worker]
        if backend == "peer":
            result = peer_worker(args.steps, args.policy)
        else:
            result = keras_worker(jit, args.steps, args.policy)
        print(json.dumps(result))
        return
    rounds = {name: [] for name in args.only or CONFIGS}
    for round_index in range(args.repeats):
        for name in rounds:
            result = run_worker(name, args.steps, args.policy)
            if result is not None:
                rounds[name].append(result)
                print(f"  round {round_index + 1} {name}: {result}", flush=True)
    results = {
        name: {key: float(np.median([r[key] for r in runs])) for key in runs[0]}
        for name, runs in rounds.items() if runs
    }
    flops = flops_per_sample()
    ceiling = matmul_gflops()
    peer = results.get("plain torch.nn (peer)")
    print(f"\nT = {T}; {args.policy}; medians of {args.repeats} rounds of {args.steps} steps of {BATCH}")
    print(f"classifier forward FLOPs per sample: {flops / 1e6:.1f} M (training step ≈ 3×: {3 * flops / 1e6:.1f} M)")
    print(f"float32 2048² matmul (NumPy): {ceiling:.1f} GFLOP/s — the practical ceiling\n")
    print(f"{'configuration':<34}{'classifier samples/s':>22}{'× peer':>8}{'GFLOP/s':>9}{'DEC samples/s':>15}{'× peer':>8}")
    for name, r in results.items():
        ratio_c = r["classifier"] / peer["classifier"] if peer else float("nan")
        ratio_d = r["dec"] / peer["dec"] if peer else float("nan")
        gflops = r["classifier"] * 3 * flops / 1e9
        print(f"{name:<34}{r['classifier']:>22.1f}{ratio_c:>8.2f}{gflops:>9.1f}{r['dec']:>15.1f}{ratio_d:>8.2f}")
    print("\nSteps only: Keras from the end of a fit's first step to the end of its last (each")
    print("synced by a callback), the peer over its step loop. Whole fit calls, with Keras's")
    print("per-fit set-up and tf.data teardown spread over the steps:")
    for name, r in results.items():
        if "classifier_fit" in r:
            print(f"{name:<34}{r['classifier_fit']:>22.1f}{'':>17}{r['dec_fit']:>15.1f}")
    print("\nThe default Keras path here: the TensorFlow backend, where TrainingConfig's "
          "jit_compile='auto' means no XLA on a CPU (applications.devices.resolve_jit_compile).")


if __name__ == "__main__":
    main()
