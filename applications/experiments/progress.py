"""Progress lines of a run's training stages, for logs and parallel runs."""

import functools
import time

import keras


class StageProgress(keras.callbacks.Callback):
    """Plain progress lines for one training stage, at a modest rate.

    Prints when the stage starts, after an epoch when at least `every`
    seconds have passed since the last line, and when it ends: lines that
    read well in a log file and from several processes at once, where a
    progress bar would not (`fit(verbose=1)` gives Keras's bar instead).

    Args:
        run: the run's name, at the start of every line.
        stage: the stage's name (`autoencoder`, `clustering`, `classifier`).
        epochs: the stage's epoch budget, shown as `epoch E/N`.
        log: where lines go. Defaults to `print` (flushed).
        every: seconds between two epoch lines. Defaults to `30`.
    """

    def __init__(self, run, stage, epochs, log=None, every=30.0):
        super().__init__()
        self.run, self.stage, self.epochs, self.every = run, stage, int(epochs), float(every)
        self.log = log or functools.partial(print, flush=True)
        self.started = self.last = None
        self.epochs_done = 0

    def on_train_begin(self, logs=None):
        self.started = self.last = time.monotonic()
        self.epochs_done = 0
        self.log(f"{self.run}: {self.stage} started (at most {self.epochs} epochs)")

    def on_epoch_end(self, epoch, logs=None):
        self.epochs_done = epoch + 1
        now = time.monotonic()
        if now - self.last >= self.every:
            self.last = now
            self.log(f"{self.run}: {self.stage} epoch {epoch + 1}/{self.epochs}{format_losses(logs)}")

    def on_train_end(self, logs=None):
        seconds = time.monotonic() - self.started
        self.log(f"{self.run}: {self.stage} done, {self.epochs_done} epochs in {seconds:.0f} s")


def format_losses(logs):
    """`, loss 0.6931, val_loss 0.6921` from a Keras `logs` dict."""
    shown = [name for name in ("loss", "val_loss") if logs and name in logs]
    return "".join(f", {name} {float(logs[name]):.4f}" for name in shown)
