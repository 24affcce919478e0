"""The kit's MiniLM text features against the shared reference file.

Recomputes the `text` of `cmu_mosi_words_minilm.npz` (made with PyTorch
`transformers`) from its transcripts with `mosi_keras.text_featurizer` on
keras-hub, and prints the per-word cosine (median, minimum, 1st
percentile), the word counts that differ, and the time taken.

    ../shared/tools/get_minilm_preset.sh ~/.cache/mosi_keras/all-minilm-l6-v2
    python bench/text_reference.py --encoder ~/.cache/mosi_keras/all-minilm-l6-v2
"""

import argparse
import os
import time

import numpy as np

from mosi_keras.text_featurizer import TextFeaturizer

HERE = os.path.dirname(os.path.abspath(__file__))
REFERENCE = os.path.join(HERE, "..", "..", "shared", "data", "cmu_mosi", "cmu_mosi_words_minilm.npz")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--encoder", required=True, help="local all-MiniLM-L6-v2 preset folder")
    parser.add_argument("--reference", default=REFERENCE)
    parser.add_argument("--batch-size", type=int, default=32)
    args = parser.parse_args()
    reference = np.load(args.reference)
    featurizer = TextFeaturizer.from_preset(args.encoder, max_words=reference["text"].shape[1])
    transcripts = reference["transcript"]
    start = time.perf_counter()
    batches = [featurizer(transcripts[i:i + args.batch_size]) for i in range(0, len(transcripts), args.batch_size)]
    seconds = time.perf_counter() - start
    vectors = np.concatenate([b[0] for b in batches])
    lengths = np.concatenate([b[1] for b in batches])
    words = np.minimum(lengths, reference["text_lengths"])
    mask = np.arange(vectors.shape[1])[None, :] < words[:, None]
    ours, theirs = vectors[mask], reference["text"][mask].astype("float32")
    cosine = (ours * theirs).sum(1) / np.linalg.norm(ours, axis=1) / np.linalg.norm(theirs, axis=1)
    print(f"{len(transcripts)} segments, {mask.sum()} words, {seconds:.1f} s "
          f"({1000 * seconds / len(transcripts):.1f} ms a segment, batches of {args.batch_size}, CPU)")
    print(f"word counts that differ from the reference: {int((lengths != reference['text_lengths']).sum())}")
    print(f"per-word cosine: median {np.median(cosine):.7f}, 1st percentile {np.percentile(cosine, 1):.7f}, "
          f"minimum {cosine.min():.7f}")


if __name__ == "__main__":
    main()
