"""The paper's loss terms, each a plain function plus a `keras.losses.Loss`.

| eq. | function | loss object |
|---|---|---|
| 1 | `clustering_kl` | `ClusteringKLDivergence` |
| 3 | `target_distribution` | (a target, no loss) |
| 4 | `masked_reconstruction_loss` | `MaskedReconstructionLoss` |
| 5-6 | `latent_covariance`, `disentanglement_loss` | `DisentanglementLoss` |
| 7 | `semi_supervised_crossentropy` | `SemiSupervisedCrossentropy` |
| 8 | `combined_dec_loss` | (assembled in `applications.SemiSupervisedDEC`) |
| — | `labelled_binary_crossentropy` | `LabelledBinaryCrossentropy` (video-level models) |
| — | `confident_pseudo_label_crossentropy` | `ConfidentPseudoLabelCrossentropy` (consistency training) |
| — | `mean_teacher_consistency` | `MeanTeacherConsistency` (the mean teacher) |

Eq. 2 (the Student's t assignment) is `mosi_keras.layers.ClusteringLayer`.
"""

from mosi_keras.inputs import UNLABELLED
from mosi_keras.losses.clustering_kl import ClusteringKLDivergence, clustering_kl
from mosi_keras.losses.combined import combined_dec_loss
from mosi_keras.losses.confident_pseudo_label import (
    ConfidentPseudoLabelCrossentropy,
    confident_pseudo_label_crossentropy,
)
from mosi_keras.losses.disentanglement import (
    DisentanglementLoss,
    disentanglement_loss,
    latent_covariance,
)
from mosi_keras.losses.labelled_binary_crossentropy import (
    LabelledBinaryCrossentropy,
    labelled_binary_crossentropy,
)
from mosi_keras.losses.mean_teacher import MeanTeacherConsistency, mean_teacher_consistency
from mosi_keras.losses.reconstruction import (
    MaskedReconstructionLoss,
    masked_reconstruction_loss,
)
from mosi_keras.losses.semi_supervised_crossentropy import (
    SemiSupervisedCrossentropy,
    semi_supervised_crossentropy,
)
from mosi_keras.losses.target_distribution import target_distribution

__all__ = [
    "UNLABELLED",
    "ClusteringKLDivergence",
    "ConfidentPseudoLabelCrossentropy",
    "DisentanglementLoss",
    "LabelledBinaryCrossentropy",
    "MaskedReconstructionLoss",
    "MeanTeacherConsistency",
    "SemiSupervisedCrossentropy",
    "clustering_kl",
    "combined_dec_loss",
    "confident_pseudo_label_crossentropy",
    "disentanglement_loss",
    "labelled_binary_crossentropy",
    "latent_covariance",
    "masked_reconstruction_loss",
    "mean_teacher_consistency",
    "semi_supervised_crossentropy",
    "target_distribution",
]
