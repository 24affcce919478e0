"""Generated MOSI-shaped data: the demo's default and the tests' fixture."""

import numpy as np

from mosi_keras.data.dataset import from_arrays
from mosi_keras.inputs import MAX_LEN

MOSI_DIMS = {"text": 300, "audio": 74, "visual": 35}


def make_synthetic_mosi(
    n_videos=60,
    segments_per_video=(6, 16),
    max_len=MAX_LEN,
    feature_dims=None,
    n_clusters=4,
    signal=(0.07, 0.05, 0.06),
    separation=1.5,
    speaker=0.2,
    seed=0,
):
    """Generates a dataset shaped like CMU-MOSI word-aligned features.

    Each segment belongs to one of `n_clusters` latent groups, each with its
    own typical sentiment (from strongly negative to strongly positive); its
    sentiment is drawn around the group's centre, clipped to [-3, 3] and
    rounded to a multiple of 0.2 like averaged annotations (so some scores
    are exactly 0). A group's latent code is its side of zero (the binary
    class), scaled by `separation`, then a smaller random part of its own:
    the groups gather in two clusters, one per class, with structure inside
    each, so the cluster assumption that semi-supervised clustering relies
    on holds (a few segments of the groups near zero fall on the other
    side: clusters and labels agree mostly, not always). Every modality
    sees a random linear view of (code, sentiment) at each valid step,
    buried under per-step noise and a per-video (speaker) offset, with a
    different signal strength per modality. Lengths vary from 3 steps to
    `max_len`. A classifier has to pool over steps and combine modalities
    to do well, and unlabelled segments show where the clusters are:
    learnable, not trivial.

    Args:
        n_videos: number of videos (speakers).
        segments_per_video: (min, max) segments per video, inclusive.
        max_len: time steps of the arrays (T).
        feature_dims: dict modality → width; defaults to text 300, audio 74,
            visual 35.
        n_clusters: latent groups.
        signal: signal-to-noise scale per modality, in `feature_dims` order.
        separation: distance of the two classes' groups along the code's
            first axis (`0`: groups placed at random, unrelated to the class).
        speaker: scale of the per-video offset of every feature.
        seed: the same seed gives the same data.

    Returns:
        A `MultimodalDataset`.
    """
    feature_dims = dict(feature_dims or MOSI_DIMS)
    rng = np.random.default_rng(seed)
    centres = np.linspace(-2.2, 2.2, n_clusters)
    side = np.where(centres < 0, -1.0, 1.0)
    group_codes = np.concatenate([separation * side[:, None], 0.5 * rng.normal(size=(n_clusters, 3))], axis=1)
    counts = rng.integers(segments_per_video[0], segments_per_video[1] + 1, size=n_videos)
    n = int(counts.sum())
    video_index = np.repeat(np.arange(n_videos), counts)
    group = rng.integers(0, n_clusters, size=n)
    sentiment = np.clip(centres[group] + rng.normal(scale=0.7, size=n), -3, 3)
    sentiment = np.round(sentiment / 0.2) * 0.2
    latent = np.concatenate([sentiment[:, None] / 2.0, group_codes[group]], axis=1)
    lengths = rng.integers(3, max_len + 1, size=n)
    valid = np.arange(max_len)[None, :] < lengths[:, None]
    modalities = {}
    for (name, dim), strength in zip(feature_dims.items(), signal):
        projection = rng.normal(size=(latent.shape[1], dim)) / np.sqrt(latent.shape[1])
        offsets = rng.normal(scale=speaker, size=(n_videos, dim))
        clean = latent @ projection  # (n, dim)
        steps = strength * clean[:, None, :] + offsets[video_index][:, None, :]
        steps = steps + rng.normal(size=(n, max_len, dim))
        modalities[name] = np.where(valid[:, :, None], steps, 0.0).astype("float32")
    video_names = np.array([f"synthetic_video_{v:03d}" for v in range(n_videos)])
    position = np.concatenate([np.arange(c) for c in counts])
    return from_arrays(
        modalities,
        sentiment.astype("float32"),
        lengths={name: lengths for name in modalities},
        ids=[f"{video_names[v]}_{p + 1}" for v, p in zip(video_index, position)],
        video_ids=video_names[video_index],
        source=f"make_synthetic_mosi(seed={seed})",
        segment_index=position + 1,
    )
