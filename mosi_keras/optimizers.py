"""Adam with a learning rate of its own for part of a model (a pre-trained encoder being fine-tuned)."""

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
    and EMA are Adam's own.

    Args:
        learning_rate: the rate (or schedule) of every other variable.
        rate_multiplier: the factor on it for `scaled_variables`.
        scaled_variables: the variables that take the scaled rate, e.g.
            `encoder.trainable_variables`. They are matched by identity and
            are not part of the config: an optimizer restored from a saved
            model applies one rate until it is given them again.
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

    def __init__(self, learning_rate=0.001, rate_multiplier=1.0, scaled_variables=(), **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.rate_multiplier = float(rate_multiplier)
        # Ids, not the variables: an optimizer tracks every variable it holds as its own state.
        self._scaled_ids = {id(variable) for variable in scaled_variables}

    def build(self, variables):
        super().build(variables)
        self._scaled = {self._var_key(variable) for variable in variables if id(variable) in self._scaled_ids}

    def update_step(self, gradient, variable, learning_rate):
        if self._var_key(variable) in self._scaled:
            learning_rate = learning_rate * self.rate_multiplier
        super().update_step(gradient, variable, learning_rate)

    def get_config(self):
        return {**super().get_config(), "rate_multiplier": self.rate_multiplier}
