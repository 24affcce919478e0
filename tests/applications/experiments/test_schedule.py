import numpy as np
from keras import ops

from applications import SemiSupervisedDEC
from applications.experiments.config import TrainingConfig
from applications.experiments.schedule import build_task, compile_task, initialize_centroids, make_dec_stage
from tests.applications.conftest import DIMS, MAX_LEN, SMALL, make_backbone_decoder


def test_models_are_compiled_with_their_optimizer_variables_built():
    config = TrainingConfig(**SMALL)
    classifier = compile_task(build_task("classifier", config, DIMS, MAX_LEN), config)
    assert classifier.optimizer.built
    backbone, decoder = make_backbone_decoder()
    dec = make_dec_stage(backbone, decoder, config, stage=2)
    assert isinstance(dec, SemiSupervisedDEC) and dec.optimizer.built
    assert dec.clustering.built  # centroids exist before the first step


def test_initialize_centroids_matches_clusters_to_classes(tiny):
    x, labels, semi = tiny
    dec = make_dec_stage(*make_backbone_decoder(), TrainingConfig(**SMALL), stage=2)
    dec(x)
    assignments = initialize_centroids(dec, x, semi, n_init=3)
    z = ops.convert_to_numpy(dec.backbone(x))
    from sklearn.cluster import KMeans

    reference = KMeans(2, n_init=3, random_state=0).fit(z)
    centroids = ops.convert_to_numpy(dec.clustering.centroids)
    assert np.allclose(np.sort(centroids, axis=0), np.sort(reference.cluster_centers_, axis=0), atol=1e-4)
    known = semi >= 0
    agree = np.mean(assignments[known] == semi[known])
    assert agree >= 0.5  # matched, so at least as good as the swapped assignment
