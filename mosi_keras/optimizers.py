"""Adam with a learning rate of its own for part of a model (a pre-trained encoder being fine-tuned),
and the warm-up + cosine schedule the kit trains with."""

import functools

import keras


@keras.saving.register_keras_serializable(package="mosi_keras")
class MultiRateAdam(keras.optimizers.Adam):
    """Adam (`keras.optimizers.Adam`) whose learning rate is multiplied by
    `rate_multiplier` for `scaled_variables`.

    Fine-tuning a pre-trained text encoder under a new head wants a small
    rate for the encoder (BERT: 2e-5 – 5e-5) and a larger one for the
    layers learnt from scratch. Keras's optimizers take one rate; this one
    scales it, schedule included, in its per-variable `update_step`, so it
    runs inside the compiled training step on every backend. Weight decay
    is Adam's decoupled one at each variable's own rate (`variable -=
    variable × weight_decay × rate`: the scaled variables decay at the
    multiplied rate, as PyTorch's parameter groups do; Keras's would decay
    every variable at the unscaled rate); EMA is Adam's own. On TensorFlow
    an embedding's sparse gradient is made dense first: Keras's Adam would
    square a repeated token's rows one by one (the second moment of the sum
    of squares, not of the square of the sum), which JAX and PyTorch do not.
    On PyTorch the update is Keras's multi-tensor Adam, once for each rate
    (Keras gives it to `keras.optimizers.Adam` itself, not to a subclass).

    With `jit_compile=True`, on TensorFlow, the update of every variable
    (moments, weight decay, EMA, the step counter) is compiled by XLA as
    one fused function inside the training step, whose other ops are left
    as they are: the variables' shapes never change, so it is compiled
    once, where a model reading batches of many lengths would be compiled
    for each. A step run eagerly (`run_eagerly=True`) updates eagerly, as
    Keras's optimizers do (no XLA compilation, some seconds a model). Adam
    reads and writes every weight and both moments several times; fused,
    that takes less time (docs/PERFORMANCE.md). Ignored on
    JAX (the whole step is compiled already), PyTorch, and under a
    `tf.distribute` strategy.

    Args:
        learning_rate: the rate (or schedule) of every other variable.
        rate_multiplier: the factor on it for `scaled_variables`.
        scaled_variables: the variables that take the scaled rate, e.g.
            `encoder.trainable_variables`, matched by identity. Once the
            optimizer is built, the config keeps their places among the
            variables it was built with (`scaled_indices`), so an optimizer
            restored with a saved model (`keras.saving.load_model`) finds
            them again among the reloaded model's, which Keras builds it
            with in the same order (it restores the moments by that order).
        scaled_indices: those places, when no `scaled_variables` are given
            (what the config holds).
        jit_compile: compile the update with XLA on TensorFlow (see above).
            Defaults to `False`.
        **kwargs: `keras.optimizers.Adam` arguments.

    Example:

    >>> import numpy as np
    >>> encoder, head = keras.layers.Dense(2), keras.layers.Dense(1)
    >>> model = keras.Sequential([keras.Input((3,)), encoder, head])
    >>> optimizer = MultiRateAdam(1e-3, rate_multiplier=0.1, scaled_variables=encoder.trainable_variables)
    >>> model.compile(optimizer, "mse")
    >>> optimizer.rate_multiplier
    0.1
    """

    def __init__(self, learning_rate=0.001, rate_multiplier=1.0, scaled_variables=(), jit_compile=False,
                 scaled_indices=(), **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.rate_multiplier = float(rate_multiplier)
        self.jit_compile = bool(jit_compile)
        self._compiled_apply = None  # (the variables' ids, their update compiled by XLA)
        # Ids, not the variables: an optimizer tracks every variable it holds as its own state.
        self._scaled_ids = {id(variable) for variable in scaled_variables}
        self.scaled_indices = sorted(int(index) for index in scaled_indices)

    def build(self, variables):
        super().build(variables)
        if self._scaled_ids:
            self.scaled_indices = [i for i, variable in enumerate(variables) if id(variable) in self._scaled_ids]
        self._scaled = {self._var_key(variables[index]) for index in self.scaled_indices}

    def apply(self, grads, trainable_variables=None):
        if keras.backend.backend() != "tensorflow":
            return super().apply(grads, trainable_variables)
        import tensorflow as tf

        # An embedding's gradient is IndexedSlices, a row per token, a token's row repeated if it is repeated;
        # Keras's Adam squares each repeated row apart (its second moment takes the sum of squares, not the
        # square of the sum). Made dense, it is Adam's update, as on JAX and PyTorch, and every call has the
        # same shapes (XLA compiles the update once).
        grads = [tf.convert_to_tensor(g) if isinstance(g, tf.IndexedSlices) else g for g in grads]
        if not (self.jit_compile and self.built) or tf.distribute.has_strategy() or tf.executing_eagerly():
            return super().apply(grads, trainable_variables)  # replicas merge: Keras's; eager: no compilation
        variables = self._trainable_variables if trainable_variables is None else list(trainable_variables)
        key = tuple(id(variable) for variable in variables)
        if self._compiled_apply is None or self._compiled_apply[0] != key:
            apply = super().apply

            def update(grads):  # the variables closed over: a function's arguments are traced as values
                return apply(grads, variables)

            self._compiled_apply = key, tf.function(update, jit_compile=True)
        return self._compiled_apply[1](grads)

    def _rate_groups(self, variables, grads=None):
        """`{factor on the rate: (variables, their gradients)}`: 1.0 for the
        other variables, `rate_multiplier` for the scaled ones (one group
        when it is 1.0); gradients only when `grads` are given."""
        groups = {}
        for index, variable in enumerate(variables):
            multiplier = self.rate_multiplier if self._var_key(variable) in self._scaled else 1.0
            group = groups.setdefault(multiplier, ([], []))
            group[0].append(variable)
            if grads is not None:
                group[1].append(grads[index])
        return groups

    def _apply_weight_decay(self, variables):
        """Keras's weight decay on each of `_rate_groups` at the group's rate
        (the rate is read where Keras reads it: the factor is put on the decay)."""
        weight_decay = self.weight_decay
        if weight_decay is None:
            return
        try:
            for multiplier, (group, _) in self._rate_groups(variables).items():
                self.weight_decay = weight_decay * multiplier
                super()._apply_weight_decay(group)
        finally:
            self.weight_decay = weight_decay

    def _backend_update_step(self, grads, trainable_variables, learning_rate):
        """Keras's per-variable `update_step`, but on PyTorch Keras's own
        multi-tensor Adam (`torch._foreach_*`: what `keras.optimizers.Adam`
        is on that backend, and what a subclass does not get), once for each
        rate: a few fused kernels per step instead of some fifteen per
        variable (docs/PERFORMANCE.md)."""
        if keras.backend.backend() != "torch":
            return super()._backend_update_step(grads, trainable_variables, learning_rate)
        import torch

        grads = [keras.ops.convert_to_tensor(gradient) for gradient in grads]  # its ops take tensors only
        with torch.no_grad():
            for multiplier, (variables, group_grads) in self._rate_groups(trainable_variables, grads).items():
                multi_tensor_adam()._parallel_update_step(self, group_grads, variables, learning_rate * multiplier)

    def update_step(self, gradient, variable, learning_rate):
        if self._var_key(variable) in self._scaled:
            learning_rate = learning_rate * self.rate_multiplier
        super().update_step(gradient, variable, learning_rate)

    def get_config(self):
        return {**super().get_config(), "rate_multiplier": self.rate_multiplier, "jit_compile": self.jit_compile,
                "scaled_indices": list(self.scaled_indices)}


@keras.saving.register_keras_serializable(package="mosi_keras")
class WarmupCosineDecay(keras.optimizers.schedules.LearningRateSchedule):
    """A linear warm-up from 0 to `learning_rate` over `warmup_fraction` of
    `total_steps`, then a cosine decay to 0 at the last step (Keras's
    `CosineDecay` with its warm-up).

    `total_steps` may be left unset when the optimizer is made: a sentiment
    task's `fit` (`applications.SentimentTask`) sets it to that fit's epochs ×
    steps per epoch, so the schedule spans the first `fit`, however long; a
    later `fit` continues it (its rate is 0 past the end: compile again to
    start anew). Anything else that trains (`train_on_batch`, a loop of
    one's own) must set it first: the schedule refuses to guess.

    Args:
        learning_rate: the peak rate, reached at the end of the warm-up.
        warmup_fraction: the share of the steps spent warming up, in `[0, 1)`.
        total_steps: the steps of the whole schedule, or `None` (see above).

    Example:

    >>> schedule = WarmupCosineDecay(1e-3, warmup_fraction=0.1, total_steps=100)
    >>> round(float(schedule(5)), 6), round(float(schedule(10)), 6), round(float(schedule(100)), 6)
    (0.0005, 0.001, 0.0)
    """

    def __init__(self, learning_rate, warmup_fraction=0.1, total_steps=None):
        if not 0.0 <= warmup_fraction < 1.0:
            raise ValueError(f"`warmup_fraction` must be in [0, 1), got {warmup_fraction}.")
        self.learning_rate = float(learning_rate)
        self.warmup_fraction = float(warmup_fraction)
        self.total_steps = None if total_steps is None else int(total_steps)
        self._cosine = None  # (total_steps, the Keras schedule for them): built once, not at every call

    def __call__(self, step):
        if self.total_steps is None:
            raise ValueError(
                "WarmupCosineDecay: total_steps is not set. A sentiment task's fit sets it (its epochs × steps per "
                "epoch); to train otherwise, set schedule.total_steps, or compile with a constant learning rate."
            )
        if self._cosine is None or self._cosine[0] != self.total_steps:
            warmup = int(round(self.warmup_fraction * self.total_steps))
            self._cosine = self.total_steps, keras.optimizers.schedules.CosineDecay(
                0.0, decay_steps=max(1, self.total_steps - warmup), warmup_target=self.learning_rate,
                warmup_steps=warmup,
            )
        return self._cosine[1](step)

    def get_config(self):
        return {"learning_rate": self.learning_rate, "warmup_fraction": self.warmup_fraction,
                "total_steps": self.total_steps}


@functools.cache
def multi_tensor_adam():
    """The class `keras.optimizers.Adam()` is on PyTorch: Keras's multi-tensor
    Adam, whose `_parallel_update_step` updates a list of variables at once.
    It has no public name (`keras.optimizers.Adam` becomes it on creation),
    so it is read off an instance, once; `tests/test_optimizers.py` fails on a
    Keras without it (`keras<4` in pyproject.toml)."""
    return type(keras.optimizers.Adam())
