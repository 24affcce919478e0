"""Writes docs/errors.md: each bad input tried, and the message it gets.

Run: python docs/generate_errors.py   (tests/data/test_errors.py runs every
case, checks that its message names the problem, and that the page is current)
"""

import os
import pickle
import tempfile

import numpy as np

GOOD = dict(text=np.ones((4, 5, 3), "float32"), text_lengths=np.array([5, 3, 2, 1]),
            audio=np.ones((4, 5, 2), "float32"), audio_lengths=np.array([5, 3, 2, 1]),
            sentiment=np.array([-1.0, 0.0, 0.4, 2.0]), video_id=np.array(["a", "a", "b", "b"]))
"""A valid kit-layout file of four segments, which each case spoils in one way."""


def npz(folder, name="data.npz", **changes):
    arrays = {key: value for key, value in {**GOOD, **changes}.items() if value is not None}
    path = os.path.join(folder, name)
    np.savez(path, **arrays)
    return path


def write(folder, name, data):
    path = os.path.join(folder, name)
    with open(path, "wb") as file:
        file.write(data)
    return path


class RunsCode:
    def __reduce__(self):
        return (os.system, ("echo this would run",))


def evil_pickle(folder):
    path = os.path.join(folder, "features.pkl")
    with open(path, "wb") as file:
        pickle.dump({"train": {"text": np.ones((2, 3)), "extra": RunsCode()}}, file)
    return path


def trained_model(folder):
    """A tiny classifier trained on GOOD's modalities, saved with its preprocessing."""
    import keras

    from applications import MultimodalBackbone, SentimentClassifier
    from mosi_keras.data import Preprocessor, load_dataset

    keras.utils.set_random_seed(0)
    dataset = load_dataset(npz(folder, "train.npz"))
    preprocessor = Preprocessor(5).fit(dataset)
    backbone = MultimodalBackbone(dataset.feature_dims, 5, hidden_dim=4, num_heads=1, intermediate_dim=4)
    model = SentimentClassifier(backbone, (4,), preprocessor=preprocessor)
    path = os.path.join(folder, "model.keras")
    model.save(path)
    return path


def load(path, **kwargs):
    from mosi_keras.data import load_dataset

    return load_dataset(path, **kwargs)


def predict(folder, **changes):
    from applications.experiments.inference import load_task, predict_segments

    dataset = load(npz(folder, "new.npz", sentiment=None, **changes), require_sentiment=False)
    return predict_segments([load_task(trained_model(folder))], dataset)


def video(folder, **changes):
    from mosi_keras.data import Preprocessor
    from mosi_keras.data.video import video_view

    dataset = load(npz(folder, **changes))
    return video_view(Preprocessor(5).fit(dataset).transform(dataset), dataset.video_ids, dataset.segment_index)


def kit_h5(folder, spoil):
    """A kit-written HDF5 file of GOOD, then `spoil(h5py file, path)` applied."""
    import h5py

    from mosi_keras.data.kit_format import write_arrays

    path = os.path.join(folder, "data.h5")
    write_arrays(dict(GOOD), path)
    spoil(path, h5py)
    return path


def huge_dataset(path, h5py):
    with h5py.File(path, "a") as file:
        del file["audio"]
        file.create_dataset("audio", shape=(10**12, 5, 2), dtype="float32", chunks=(1, 5, 2))


def flipped_byte(path, h5py):
    with h5py.File(path, "r") as file:
        offset = file["text"].id.get_chunk_info(0).byte_offset
    with open(path, "r+b") as file:
        file.seek(offset + 3)
        byte = file.read(1)[0]
        file.seek(offset + 3)
        file.write(bytes([byte ^ 1]))


def renamed_array(path, h5py):
    with h5py.File(path, "a") as file:
        file.move("video_id", "video_ie")


def huge_npz_header(folder):
    """GOOD as a `.npz` whose `text.npy` header claims 10¹² rows (its zip checksums right)."""
    import io
    import zipfile

    path = os.path.join(folder, "data.npz")
    with zipfile.ZipFile(path, "w") as archive:
        for key, value in GOOD.items():
            member = io.BytesIO()
            if key == "text":
                np.lib.format.write_array_header_1_0(
                    member, {"descr": "<f4", "fortran_order": False, "shape": (10**12,) + value.shape[1:]})
                member.write(value.tobytes())
            else:
                np.lib.format.write_array(member, value)
            archive.writestr(f"{key}.npy", member.getvalue())
    return path


def featurize(folder, encoder=None):
    from mosi_keras.text_featurizer import TextFeaturizer, featurize_file

    if encoder is None:
        return featurize_file(npz(folder), None, os.path.join(folder, "out.npz"))
    os.makedirs(os.path.join(folder, encoder))
    return TextFeaturizer.from_preset(os.path.join(folder, encoder))


def tokenize_without_transcripts(folder):
    import keras_hub

    from mosi_keras.data import Preprocessor
    from mosi_keras.transcript_tokenizer import TranscriptTokenizer

    tokenizer = TranscriptTokenizer(keras_hub.tokenizers.BertTokenizer(vocabulary=["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]))
    data = load(npz(folder))
    return Preprocessor(5, text_tokenizer=tokenizer).fit(data).transform(data)


CASES = [
    # (the bad input, what is tried, words the message must hold)
    ("a path that does not exist", lambda d: load(os.path.join(d, "nothing.npz")), "nothing.npz: no such file"),
    ("random bytes named `x.npz`", lambda d: load(write(d, "x.npz", np.random.default_rng(0).bytes(64))),
     "not a .npz (zip) archive"),
    ("a `.npz` cut short (truncated download)",
     lambda d: load(write(d, "cut.npz", open(npz(d), "rb").read()[:200])), "damaged or truncated"),
    ("a `.npz` holding an object (pickled) array",
     lambda d: load(npz(d, transcript=np.array([{"a": 1}] * 4, dtype=object))), "holds pickled objects"),
    ("a text file named `data.h5`", lambda d: load(write(d, "data.h5", b"segment,score\n1,0.5\n")),
     "not a readable HDF5 file"),
    ("an MMSA pickle that would run code when unpickled", lambda d: load(evil_pickle(d)),
     "which is not plain data"),
    ("a file of an unknown kind (`data.csv`)", lambda d: load(write(d, "data.csv", b"a,b\n")), "unknown format"),
    ("no `sentiment` array (for training or evaluation)", lambda d: load(npz(d, sentiment=None)),
     "no 'sentiment' array"),
    ("a modality with more segments than `sentiment`",
     lambda d: load(npz(d, audio=np.ones((5, 5, 2)), audio_lengths=np.ones(5, int))),
     "modality 'audio' has 5 samples"),
    ("a modality of four dimensions", lambda d: load(npz(d, visual=np.ones((4, 5, 2, 2)))),
     "'visual' has shape (4, 5, 2, 2)"),
    ("`<modality>_lengths` longer than the time axis", lambda d: load(npz(d, text_lengths=np.array([5, 9, 2, 1]))),
     "'text_lengths' of sample 1 is 9"),
    ("`<modality>_lengths` of the wrong shape", lambda d: load(npz(d, text_lengths=np.array([5, 3]))),
     "'text_lengths' has shape (2,)"),
    ("`<modality>_lengths` without its modality", lambda d: load(npz(d, visual_lengths=np.ones(4, int))),
     "['visual_lengths'] given but there is no such modality"),
    ("a sentiment outside [-3, 3]", lambda d: load(npz(d, sentiment=np.array([0.0, 4.5, 0.0, 0.0]))),
     "'sentiment' of sample 1"),
    ("a NaN sentiment", lambda d: load(npz(d, sentiment=np.array([0.0, 0.0, np.nan, 0.0]))),
     "'sentiment' of sample 2"),
    ("no segment at all", lambda d: load(npz(d, text=np.ones((0, 5, 3)), text_lengths=np.ones(0, int),
                                              audio=np.ones((0, 5, 2)), audio_lengths=np.ones(0, int),
                                              sentiment=np.zeros(0), video_id=np.array([], str))),
     "empty"),
    ("a `segment_index` that is not integers", lambda d: load(npz(d, segment_index=np.array([0.5, 1, 1, 2]))),
     "'segment_index' has dtype float64"),
    ("two segments of a video at one `segment_index` (the contextual experiments)",
     lambda d: video(d, segment_index=np.array([1, 1, 1, 2])), "video 'a': two of its segments share"),
    ("a modality of complex numbers", lambda d: load(npz(d, audio=np.ones((4, 5, 2), "complex64"))),
     "'audio' is not real-valued numbers"),
    ("a `sentiment` of one value for every segment (0-d)", lambda d: load(npz(d, sentiment=np.array(0.5))),
     "'sentiment' has shape ()"),
    ("a `.npz` whose header claims 10¹² rows (allocating would need terabytes)",
     lambda d: load(huge_npz_header(d)), "'text' declares shape (1000000000000, 5, 3)"),
    ("an HDF5 dataset declaring 10¹² rows the file does not hold", lambda d: load(kit_h5(d, huge_dataset)),
     "'audio' declares shape (1000000000000, 5, 2)"),
    ("a byte changed in a kit-written HDF5 file (Fletcher-32 checksum)", lambda d: load(kit_h5(d, flipped_byte)),
     "'text' cannot be read"),
    ("an array renamed in a kit-written HDF5 file", lambda d: load(kit_h5(d, renamed_array)),
     "was written with the arrays"),
    ("`featurize` on a file without transcripts", lambda d: featurize(d), "no 'transcript' array"),
    ("`featurize` with a folder that is not a text encoder preset", lambda d: featurize(d, encoder="my_encoder"),
     "not a keras-hub or Hugging Face preset folder"),
    ("a file without transcripts for a model that reads its text from them (`--text-encoder`)",
     tokenize_without_transcripts, "no 'transcript' array; this model reads its text from transcripts"),
    ("a modality asked for that the file lacks", lambda d: load(npz(d), modalities=["text", "visual"]),
     "modality ['visual'] requested"),
    ("`predict` on a file whose text is wider than the model's",
     lambda d: predict(d, text=np.ones((4, 5, 7))), "modality 'text' has 7 features"),
    ("`predict` on a file without a modality of the model",
     lambda d: predict(d, audio=None, audio_lengths=None), "missing ['audio']"),
    ("`predict` on a file with a modality the model was not trained on",
     lambda d: predict(d, visual=np.ones((4, 5, 2))), "not in the model ['visual']"),
]


def message(case):
    """What the case's input gets: the error's message, with the temporary folder left out."""
    with tempfile.TemporaryDirectory() as folder:
        try:
            case[1](folder)
        except Exception as error:  # every reader's error is a DataError, FileNotFoundError or ValueError
            return type(error).__name__, str(error).replace(folder + os.sep, "")
    return None, None


def render():
    lines = [
        "# Bad input and the message it gets",
        "",
        "Each row was produced by running the case (`python docs/generate_errors.py`;",
        "`tests/data/test_errors.py` runs every row and keeps this page current).",
        "On the command line each message follows `mosi-keras <command>: error:` and the",
        "command exits with status 2, without a traceback.",
        "",
        "| bad input | error | message |",
        "|---|---|---|",
    ]
    for case in CASES:
        kind, text = message(case)
        lines.append(f"| {case[0]} | `{kind}` | {text.replace('|', '/')} |")
    lines += ["", "Non-finite feature values are not an error: they are replaced by the training",
              "mean, with a warning that names the file, the modality and the count.", "",
              "A `reproduce`, `demo` or `tune` on an `--out` that a live process is writing is",
              "refused (`FolderInUse`, exit status 2): `<folder> is being written by process <pid>",
              "on <host> (<command>, since <time>); wait for it to end or choose another --out.`",
              "A folder left by a killed run is not held: the next run takes it and resumes.", "",
              "A distributed `tune` (exit status 2) is refused with `--oracle must be HOST:PORT",
              "(e.g. 10.0.0.1:8000), got '<value>'.`, `a distributed search needs",
              "KERASTUNER_TUNER_ID beside KERASTUNER_ORACLE_IP (or the flags --oracle HOST:PORT and",
              "--tuner-id ID).` (or `KERASTUNER_ORACLE_PORT`), `KERASTUNER_ORACLE_PORT must be a port",
              "number, got '<value>'.`, and, on the chief, `the chief cannot listen on <host>:<port>:",
              "<reason>; choose another port with --oracle HOST:PORT.` before anything is written.", "",
              "A DEC experiment with `--text-encoder` and `text_output=\"pooled\"`, or",
              "`contextual_dec` with one, is refused (exit status 2): `experiment 'dec' with a",
              "text_encoder: DEC pre-trains the text's ModalityTransformerEncoder on the encoder's",
              "word states, which needs text_output='words' and a model of single segments (not",
              "'contextual_dec').`", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    text = render()  # before the file is opened: a failure leaves the old one whole
    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "errors.md"), "w") as file:
        file.write(text)
