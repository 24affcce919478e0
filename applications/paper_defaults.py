"""The paper's training values that the models and the machinery both default to.

Kept apart from the models so that `applications.experiments.config` (and
`mosi-keras --help`) reads them without loading Keras.
"""

PAPER_LEARNING_RATE = 4e-5
"""Adam's learning rate for the classifier (§4.2)."""

PAPER_WEIGHT_DECAY = 1e-2
"""Adam's weight decay for the classifier (§4.2)."""
