"""`encoder_states`: a keras-hub text backbone's last hidden states, as a step of a functional graph."""

import keras


def encoder_states(backbone, token_ids, padding_mask):
    """The last hidden states `(batch, tokens, hidden)` of a keras-hub
    BERT-family backbone (`segment_ids`, where it takes them, all 0)."""
    feed = {"token_ids": token_ids, "padding_mask": padding_mask}
    if "segment_ids" in backbone.input:
        feed["segment_ids"] = keras.ops.zeros_like(token_ids)
    states = backbone(feed)
    return states["sequence_output"] if isinstance(states, dict) else states
