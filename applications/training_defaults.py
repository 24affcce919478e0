"""The training values that the tasks and the machinery both default to.

Kept apart from the models so that `applications.experiments.config` (and
`mosi-keras --help`) reads them without loading Keras.
"""

PAPER_LEARNING_RATE = 4e-5
"""Adam's learning rate for the classifier (§4.2)."""

PAPER_WEIGHT_DECAY = 1e-2
"""Adam's weight decay for the classifier (§4.2)."""

AE_LEARNING_RATE = 5e-4
"""Adam's rate in DEC's autoencoder stage (stage 1 of §4.3; `SemiSupervisedDEC.autoencoder(...).compile()`'s)."""

AE_RECONSTRUCTION_WEIGHT = 1.0
"""The reconstruction term's weight (eq. 4) in DEC's autoencoder stage."""

AE_DISENTANGLE_WEIGHT = 1e-3
"""The disentanglement term's weight (eq. 6) in DEC's autoencoder stage."""

DEC_LEARNING_RATE = 1e-4
"""Adam's rate in DEC's clustering stage (stage 2 of §4.3; `SemiSupervisedDEC.compile()`'s)."""

LEARNING_RATE = 1e-3
"""The peak rate of the `small_data` recipe (docs/RESULTS.md, "A recipe for a thousand rows"): `mosi-keras train`'s,
and `SentimentTask.compile()`'s."""

WARMUP_FRACTION = 0.1
"""The share of a cosine schedule's steps spent warming up (`mosi_keras.optimizers.WarmupCosineDecay`)."""

TEXT_LEARNING_RATE = 1e-4
"""A fine-tuned text encoder's own rate in the `text` recipe: chosen by the mean held-fold acc2 (3 video-grouped
folds of the labelled training videos, seeds 0-1, 40 % and 100 % labels) among rates 2e-5 / 5e-5 / 1e-4 / 2e-4 at
4 epochs and 1e-4 at 8: 77.39 for 1e-4 × 8 epochs, next 74.49 (2e-4 × 4) and 74.04 (1e-4 × 4); docs/RESULTS.md,
"The text recipe"."""
