"""Predictions of the experiments' models, in row order: length buckets
for sequences (`applications.batching.predict_in_buckets`), whole videos for
the video-level model. How data reaches `fit` is the models' own
(`applications.batching`, `SentimentTask.fit`)."""

import numpy as np

from applications.batching import predict_in_buckets
from mosi_keras.data.video import VideoView, predict_videos, video_view
from mosi_keras.inputs import UTTERANCE_MASK


def predict(model, x, batch_size=256):
    """`model.predict(x)` as NumPy, in row order, sequences in length buckets."""
    return predict_in_buckets(model, x, batch_size, verbose=0)


def is_video_model(model):
    """Whether `model` reads whole videos (it has an `utterance_mask` input)."""
    inputs = getattr(model, "input", None)
    return isinstance(inputs, dict) and UTTERANCE_MASK in inputs


def predict_outputs(model, x, batch_size=256, video_ids=None, segment_index=None):
    """A sentiment task's output per row `(N,)`: logits or scores.

    A video-level model (`is_video_model`) reads the rows grouped by video:
    pass the rows' `video_ids` (and `segment_index`, their order); `x` may
    also be a `VideoView` of them.
    """
    if is_video_model(model) and not isinstance(x, VideoView):
        if video_ids is None:
            raise ValueError(f"{model.name} reads whole videos: pass the rows' video_ids.")
        x = video_view(x, video_ids, segment_index)
    if isinstance(x, VideoView):
        return x.to_rows(predict_videos(model, x)).reshape(-1)
    return np.asarray(predict(model, x, batch_size)).reshape(-1)
