"""Total DEC pre-training objective (eq. 8)."""


def combined_dec_loss(
    cluster, reconstruction, supervised, disentangle, *, reconstruction_weight, supervised_weight,
    disentangle_weight, cluster_weight=1.0,
):
    """Eq. 8: `L_cluster + α L_recon + β L_supervised + γ L_disentangle`.

    The weights are named for the term they weigh, and passed by keyword:
    `reconstruction_weight` is the paper's α, `supervised_weight` its β,
    `disentangle_weight` its γ (the kit keeps `alpha` for the Student's t
    degrees of freedom of eq. 2). `cluster_weight` (1 in eq. 8) switches the
    clustering term off for the autoencoder stage, where the paper trains
    with reconstruction and disentanglement only.

    Example:

    >>> combined_dec_loss(1.0, 2.0, 3.0, 4.0, reconstruction_weight=0.1, supervised_weight=0.5,
    ...                   disentangle_weight=0.01)
    2.74

    References:
        Saadatinia et al., eq. 8.
    """
    return (
        cluster_weight * cluster
        + reconstruction_weight * reconstruction
        + supervised_weight * supervised
        + disentangle_weight * disentangle
    )
