"""What the machine offers: an accelerator, XLA or not, runs at once."""

import os

import keras


def accelerator_visible():
    """Whether the Keras backend sees a GPU (or another accelerator)."""
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        return bool(tf.config.list_physical_devices("GPU"))
    if backend == "jax":
        import jax

        return jax.default_backend() != "cpu"
    if backend == "torch":
        import torch

        return torch.cuda.is_available()
    return False


def resolve_jit_compile(value):
    """The `jit_compile` given to `compile`: `"auto"` is Keras's choice (XLA
    where the model supports it), except with TensorFlow on a CPU, where XLA
    trained these models no faster at T = 30 and more slowly at T = 1 (0.82x
    the classifier steps per second) on the project's CPU (docs/PERFORMANCE.md).
    """
    if value == "auto" and keras.backend.backend() == "tensorflow" and not accelerator_visible():
        return False
    return value


def default_jobs(runs):
    """Runs at once: one per CPU core on a CPU-only machine, one otherwise.

    These models are too small to keep two cores busy in one process: on
    the project's 2-core CPU, two single-threaded processes trained 1.5x as
    many steps per second as one process with both cores (PERFORMANCE.md).
    With an accelerator, runs would compete for its memory.
    """
    if runs <= 1 or accelerator_visible():
        return 1
    return min(os.cpu_count() or 1, runs)
