"""Where a fine-tuning epoch's time goes: the text encoder, the rest of the model, the update, validation.

The model and batches of `mosi-keras train --text-encoder FOLDER` (the
`text` recipe: the classifier with all-MiniLM-L6-v2 inside it, batch 32,
the word file's training rows in length buckets, the validation rows
measured every epoch), on the default backend (TensorFlow). Each phase
runs over the same batches of one epoch, traced beforehand, and is timed
as the median of `--rounds` passes; phases are nested, so the differences
between them are the shares of the step:

- encoder forward: MiniLM alone on the batches' tokens (training mode);
- encoder forward + backward: the same with the gradients of its weights;
- model forward; model forward + backward (the loss's gradients, every
  trainable weight);
- the same and Keras's own Adam update, one `tf.function` per step;
  then the same with the kit's update instead (`MultiRateAdam.apply`:
  sparse gradients made dense, the update compiled by XLA apart from the
  rest, as `compile_task` sets it for a text encoder: one shape, compiled
  once);
- a training epoch as `fit` runs it (the kit's update; Keras's step loop,
  metrics and input pipeline added), without validation;
- the validation pass `fit` adds at each epoch's end (`evaluate`);
- the encoder's lower layers alone (embeddings and the first
  `text_frozen_layers`, default 3), forward in inference mode: what caching
  them would save per epoch where they are frozen;
- XLA: one training step with and without `jit_compile`, on the epoch's
  most frequent batch shape, and what compiling it costs; Keras's update
  and the kit's alone, on one batch's gradients.

    python bench/finetune_profile.py --encoder ~/.cache/mosi_keras/all-minilm-l6-v2 [--rounds 3]
"""

import argparse
import os
import statistics
import time

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras
import numpy as np
import tensorflow as tf

from applications.batching import fit_arguments, validation_arguments
from applications.experiments.training import build_task, compile_task
from applications.experiments.config import load_config
from applications.experiments.preparation import prepare_experiment
from mosi_keras.data import LengthBucketedBatches, load_dataset
from mosi_keras.inputs import TOKEN_INPUTS
from mosi_keras.layers import encoder_states

HERE = os.path.dirname(os.path.abspath(__file__))
WORDS = os.path.join(HERE, "..", "..", "shared", "data", "cmu_mosi", "cmu_mosi_words.npz")


def timed(function, batches, rounds):
    """Median seconds of one pass of `function` over `batches` (after one untimed pass that traces)."""
    def one_pass():
        start = time.perf_counter()
        for batch in batches:
            result = function(*batch)
        keras.ops.convert_to_numpy(keras.tree.flatten(result)[0])  # wait for the last step
        return time.perf_counter() - start

    one_pass()
    return statistics.median(one_pass() for _ in range(rounds))


def lower_layers(encoder, count):
    """The encoder's embeddings and first `count` Transformer layers, as one functional model."""
    return keras.Model(encoder.input, encoder.get_layer(f"transformer_layer_{count - 1}").output)


def phases(model, batches, frozen):
    """The timed functions, each `(inputs, targets) -> something`."""
    encoder = model.backbone.text_encoder
    lower = lower_layers(encoder, frozen)

    def tokens(x):
        return x[TOKEN_INPUTS["token_ids"]], x[TOKEN_INPUTS["padding_mask"]]

    @tf.function(reduce_retracing=True)
    def encoder_forward(x, y):
        return encoder_states(encoder, *tokens(x))

    @tf.function(reduce_retracing=True)
    def encoder_backward(x, y):
        with tf.GradientTape() as tape:
            states = encoder_states(encoder, *tokens(x))
            loss = tf.reduce_mean(states)
        return tape.gradient(loss, encoder.trainable_variables)

    @tf.function(reduce_retracing=True)
    def model_forward(x, y):
        return model(x, training=True)

    @tf.function(reduce_retracing=True)
    def model_backward(x, y):
        with tf.GradientTape() as tape:
            loss = model.compute_loss(x, y, model(x, training=True), training=True)
        return tape.gradient(loss, model.trainable_variables)

    @tf.function(reduce_retracing=True)
    def lower_forward(x, y):
        token_ids, padding_mask = tokens(x)
        feed = {"token_ids": token_ids, "padding_mask": padding_mask}
        if "segment_ids" in encoder.input:
            feed["segment_ids"] = tf.zeros_like(token_ids)
        return lower(feed, training=False)

    return {"encoder forward": encoder_forward, "encoder forward + backward": encoder_backward,
            "model forward": model_forward, "model forward + backward": model_backward,
            "model forward + backward + Keras's Adam update": update_step(model),
            "the same, the kit's update (compiled by XLA apart)": update_step(model, kit_update=True),
            f"encoder's embeddings + {frozen} lower layers, inference": lower_forward}


def optimizer_update(model, kit):
    """The optimizer's update of every trainable weight: the kit's (`MultiRateAdam.apply`, which `compile_task`
    compiles by XLA apart from the step for a model with a text encoder) or, with `kit=False`, Keras's own
    Adam update (the same per-variable rates, neither compiled apart nor with sparse gradients made dense)."""
    variables = model.trainable_variables
    if kit:
        return lambda grads: model.optimizer.apply(grads, variables)
    return lambda grads: keras.optimizers.Adam.apply(model.optimizer, grads, variables)


def update_step(model, jit_compile=False, kit_update=False):
    """One training step as a `tf.function`: forward, backward, the optimizer's update (Keras's, or with
    `kit_update` the kit's)."""
    apply = optimizer_update(model, kit_update)

    @tf.function(reduce_retracing=True, jit_compile=jit_compile)
    def step(x, y):
        with tf.GradientTape() as tape:
            loss = model.compute_loss(x, y, model(x, training=True), training=True)
        apply(tape.gradient(loss, model.trainable_variables))
        return loss

    return step


def update_alone(model, batch, steps=10):
    """Milliseconds of the optimizer's update alone on one batch's gradients: Keras's, and the kit's."""
    x, y = batch
    with tf.GradientTape() as tape:
        loss = model.compute_loss(x, y, model(x, training=True), training=True)
    grads = tape.gradient(loss, model.trainable_variables)
    figures = []
    for apply in (tf.function(optimizer_update(model, kit)) for kit in (False, True)):
        apply(grads)
        start = time.perf_counter()
        for _ in range(steps):
            apply(grads)
        keras.ops.convert_to_numpy(model.trainable_variables[0])
        figures.append((time.perf_counter() - start) / steps * 1e3)
    return figures


def xla_against_default(model, batches, steps=10):
    """On the epoch's most frequent full batch shape: seconds of the first call (tracing; with XLA, compiling)
    and of a step after it, with and without `jit_compile` (every bucket shape is compiled once)."""
    full = [batch for batch in batches if len(batch[1]) == len(batches[0][1])]
    shapes = [batch[0][TOKEN_INPUTS["token_ids"]].shape for batch in full]
    batch = full[shapes.index(max(set(shapes), key=shapes.count))]
    figures = {}
    for jit_compile in (False, True):
        step = update_step(model, jit_compile)
        start = time.perf_counter()
        keras.ops.convert_to_numpy(step(*batch))
        first = time.perf_counter() - start
        start = time.perf_counter()
        for _ in range(steps):
            loss = step(*batch)
        keras.ops.convert_to_numpy(loss)
        figures[jit_compile] = (first, (time.perf_counter() - start) / steps)
    return batch[0][TOKEN_INPUTS["token_ids"]].shape, figures


def fit_epoch(model, train, rounds):
    """Median seconds of a `fit` epoch (no validation), its first (tracing) epoch left out, and how many
    times the train step was traced (Python runs `train_step` only while tracing)."""
    seconds, traces, step = [], [], model.train_step

    def counted_step(data):
        traces.append(1)
        return step(data)

    model.train_step = counted_step

    class Timer(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            seconds.append(time.perf_counter() - self.start)

    model.fit(**fit_arguments(*train, 32, seed=0), epochs=rounds + 1, verbose=0, callbacks=[Timer()])
    return statistics.median(seconds[1:]), len(traces)


def validation_pass(model, validation, rounds):
    feed = validation_arguments(*validation, 32)
    model.evaluate(feed["validation_data"], steps=feed["validation_steps"], verbose=0)  # traces
    seconds = []
    for _ in range(rounds):
        start = time.perf_counter()
        model.evaluate(feed["validation_data"], steps=feed["validation_steps"], verbose=0)
        seconds.append(time.perf_counter() - start)
    return statistics.median(seconds)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--encoder", required=True, help="local all-MiniLM-L6-v2 preset folder")
    parser.add_argument("--data", default=WORDS)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--frozen", type=int, default=3, help="lower layers timed as the cacheable part")
    args = parser.parse_args()
    keras.utils.set_random_seed(0)
    config = load_config(preset="text").replace(text_encoder=args.encoder)
    prepared = prepare_experiment(load_dataset(args.data), 1.0, 0, config.text_encoder)
    train, validation = prepared.labelled("train"), prepared.labelled("val")
    model = build_task("classifier", config, prepared.feature_dims, prepared.max_len,
                       preprocessor=prepared.preprocessor)
    compile_task(model, config, total_steps=1000)
    batches = list(LengthBucketedBatches(*train, batch_size=32, shuffle=True, seed=0))
    rows = len(train[1])
    figures = {name: timed(function, batches, args.rounds)
               for name, function in phases(model, batches, args.frozen).items()}
    shape, xla = xla_against_default(model, batches)
    alone = update_alone(model, batches[0])
    figures["fit epoch (forward, backward, the kit's update)"], traces = fit_epoch(model, train, args.rounds)
    figures["validation pass"] = validation_pass(model, validation, args.rounds)
    epoch = figures["fit epoch (forward, backward, the kit's update)"] + figures["validation pass"]
    shapes = len({b[0][TOKEN_INPUTS["token_ids"]].shape for b in batches})
    print(f"{rows} training rows, {len(validation[1])} validation rows, {len(batches)} batches of 32 "
          f"({shapes} token shapes); "
          f"median of {args.rounds} passes; the train step traced {traces} time(s) in {args.rounds + 1} epochs")
    print("| phase | s per epoch | share of a user's epoch |")
    print("|---|---|---|")
    for name, seconds in figures.items():
        print(f"| {name} | {seconds:.2f} | {seconds / epoch:.0%} |")
    print(f"| a user's epoch (fit + validation) | {epoch:.2f} | 100% |")
    encoder_share = figures["encoder forward + backward"] / figures["model forward + backward"]
    update = figures["model forward + backward + Keras's Adam update"] - figures["model forward + backward"]
    kit = figures["the same, the kit's update (compiled by XLA apart)"]
    loop = figures["fit epoch (forward, backward, the kit's update)"] - kit
    print(f"\nthe encoder's share of forward + backward: {encoder_share:.0%}; Keras's Adam update: {update:.2f} s, "
          f"the kit's: {kit - figures['model forward + backward']:.2f} s; Keras's step loop, metrics and input "
          f"pipeline: {loop:.2f} s")
    print(f"\nXLA on one batch of token shape {tuple(shape)}: first call {xla[True][0]:.1f} s (compiling) against "
          f"{xla[False][0]:.1f} s (tracing); a step {xla[True][1] * 1e3:.0f} ms against {xla[False][1] * 1e3:.0f} ms "
          f"({xla[False][1] / xla[True][1]:.2f}x); {shapes} shapes to compile in a training epoch")
    print(f"the optimizer's update alone ({sum(int(np.prod(v.shape)) for v in model.trainable_variables):,} weights): "
          f"Keras's {alone[0]:.0f} ms, the kit's {alone[1]:.0f} ms ({alone[0] / alone[1]:.2f}x)")


if __name__ == "__main__":
    main()
