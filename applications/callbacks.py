"""DEC's callbacks: the dataset-wide target refresh and stopping on stable assignments."""

import keras
import numpy as np

from applications.batching import PREDICT_BATCH_SIZE
from mosi_keras.losses import target_distribution


def predict_assignments(model, x, batch_size=PREDICT_BATCH_SIZE):
    """Soft assignments `Q` of `x` under `model`, as NumPy."""
    if hasattr(model, "jax_state_sync"):  # JAX keeps the live weights aside during fit.
        model.jax_state_sync()
    return model.predict(x, batch_size, verbose=0)["q"]  # `SemiSupervisedDEC` feeds length buckets itself


class TargetRefresh(keras.callbacks.Callback):
    """Recomputes the target's cluster frequencies over the whole training set.

    Original DEC refreshes the target distribution over the full data every
    `update_interval` steps instead of per batch. Every `update_interval`
    training steps (and before the first), this callback predicts `Q` for
    `x`, stores the soft cluster frequencies `f_j = sum_i q_ij` in the
    model's `cluster_frequency` weight, which `SemiSupervisedDEC.target`
    then uses as the denominator of eq. 3 inside each step; for a model
    built with `target_rows`, also every row's `P` (eq. 3 with those
    frequencies) in its `frozen_target` weight, held fixed until the next
    refresh as in the original DEC. It records the
    fraction of samples whose hard assignment `argmax_j q_ij` changed since
    the previous refresh (`changed_fraction`, also in `history`).

    Args:
        x: the training inputs dict (all of it, labelled and unlabelled).
        update_interval: steps between refreshes. Defaults to `140`.
        batch_size: batch size for the prediction pass.
    """

    def __init__(self, x, update_interval=140, batch_size=PREDICT_BATCH_SIZE):
        super().__init__()
        if update_interval < 1:
            raise ValueError(f"update_interval must be >= 1, got {update_interval}.")
        self.x = x
        self.update_interval = int(update_interval)
        self.batch_size = batch_size
        self.step = 0
        self.assignments = None
        self.changed_fraction = None
        self.history = []

    def on_train_batch_begin(self, batch, logs=None):
        if self.step % self.update_interval == 0:
            self.refresh()
        self.step += 1

    def refresh(self):
        q = predict_assignments(self.model, self.x, self.batch_size)
        frequency = q.sum(axis=0).astype("float32")
        self.model.cluster_frequency.assign(frequency)
        if getattr(self.model, "frozen_target", None) is not None:
            if len(q) != self.model.target_rows:
                raise ValueError(
                    f"TargetRefresh: {len(q)} rows to refresh, but the model keeps frozen targets for "
                    f"target_rows={self.model.target_rows}; pass every training row, in sample_index order."
                )
            p = keras.ops.convert_to_numpy(target_distribution(q, cluster_frequency=frequency))
            self.model.frozen_target.assign(p)
        assignments = q.argmax(axis=1)
        if self.assignments is not None:
            self.changed_fraction = float(np.mean(assignments != self.assignments))
            self.history.append(self.changed_fraction)
        self.assignments = assignments


class AssignmentChangeStopping(keras.callbacks.Callback):
    """Stops training once fewer than `tol` of the hard assignments changed.

    Reads the `changed_fraction` measured by a `TargetRefresh` callback
    between two refreshes (DEC's convergence criterion). Put it after the
    refresh callback in the `callbacks` list.

    Args:
        refresh: the `TargetRefresh` callback of the same `fit`.
        tol: stop when the changed fraction is below this. Defaults to
            `0.001` (DEC).
    """

    def __init__(self, refresh, tol=0.001):
        super().__init__()
        self.refresh = refresh
        self.tol = float(tol)
        self.stopped_at_step = None
        self._seen = 0

    def on_train_batch_begin(self, batch, logs=None):
        if len(self.refresh.history) > self._seen:
            self._seen = len(self.refresh.history)
            if self.refresh.changed_fraction < self.tol:
                self.model.stop_training = True
                self.stopped_at_step = self.refresh.step
