"""What the machine offers: an accelerator, XLA or not, compiled steps kept, runs at once."""

import os


def accelerator_visible():
    """Whether the Keras backend sees a GPU (or another accelerator)."""
    import keras  # here, not above: `keep_compiled_steps` runs before any backend is imported

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
    import keras

    if value == "auto" and keras.backend.backend() == "tensorflow" and not accelerator_visible():
        return False
    return value


JAX_CACHE = "JAX_COMPILATION_CACHE_DIR"
"""The environment variable that names JAX's persistent compilation cache."""


def keep_compiled_steps(environ=os.environ):
    """Lets JAX keep the steps it compiles on disk and read them back in
    later processes (its persistent compilation cache): in
    `<XDG_CACHE_HOME or ~/.cache>/mosi_keras/jax_compilation_cache`, unless
    `JAX_COMPILATION_CACHE_DIR` names a folder already. Child processes
    (`reproduce --jobs`, searches) inherit it; only compilations of a
    second or more are kept (JAX's default). Call it before JAX is
    imported; other backends ignore it.

    A fine-tuning fit compiles its train and test steps once per batch
    shape (`mosi_keras.data.LengthBucketedBatches`); the next fit of the
    same model and schedule on batches of the same shapes — a rerun, another
    experiment on the same rows — reads them back: a 4-epoch fine-tuning fit on the
    word file took 136 s with an empty cache and 90 s the next time on the
    project's CPU (docs/PERFORMANCE.md).
    """
    base = environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    environ.setdefault(JAX_CACHE, os.path.join(base, "mosi_keras", "jax_compilation_cache"))


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
