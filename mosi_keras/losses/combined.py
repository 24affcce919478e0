"""Total DEC pre-training objective (eq. 8)."""


def combined_dec_loss(
    cluster, reconstruction, supervised, disentangle, alpha, beta, gamma, cluster_weight=1.0
):
    """Eq. 8: `L_cluster + alpha L_recon + beta L_supervised + gamma L_disentangle`.

    `cluster_weight` (1 in eq. 8) switches the clustering term off for the
    autoencoder stage, where the paper trains with reconstruction and
    disentanglement only.

    References:
        Saadatinia et al., eq. 8.
    """
    return (
        cluster_weight * cluster
        + alpha * reconstruction
        + beta * supervised
        + gamma * disentangle
    )
