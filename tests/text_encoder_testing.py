"""A tiny randomly initialised BERT saved as a keras-hub preset folder, so the
text tests need no downloaded weights."""

VOCABULARY = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "i", "loved", "this", "movie", "not", "for", "me",
              "it", "'", "s", "great", ".", "un", "##believ", "##able", "so", "good", "bad"]


def save_tiny_bert_preset(folder, seed=0):
    """Writes a 1-block, 8-wide `BertBackbone` and its word-piece tokenizer
    (the words above) to `folder`; returns the folder."""
    import keras
    import keras_hub

    keras.utils.set_random_seed(seed)
    keras_hub.models.BertBackbone(
        vocabulary_size=len(VOCABULARY), num_layers=1, num_heads=2, hidden_dim=8, intermediate_dim=16,
        max_sequence_length=64,
    ).save_to_preset(str(folder))
    keras_hub.tokenizers.BertTokenizer(vocabulary=VOCABULARY, lowercase=True).save_to_preset(str(folder))
    return folder


def with_transcripts(dataset, seed=0):
    """`dataset` with a generated transcript per segment (1 to 8 of the words above)."""
    import dataclasses

    import numpy as np

    rng = np.random.default_rng(seed)
    words = VOCABULARY[5:]
    return dataclasses.replace(dataset, transcripts=np.array(
        [" ".join(rng.choice(words, rng.integers(1, 9))) for _ in range(len(dataset))]))


def tiny_bert(folder):
    """The backbone of `save_tiny_bert_preset(folder)`, freshly loaded."""
    from mosi_keras.text_encoder import load_text_backbone

    return load_text_backbone(folder)
