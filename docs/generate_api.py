"""Writes docs/api.md from the docstrings and signatures of the public API.

Run: python docs/generate_api.py   (a test checks that docs/api.md is current)
"""

import inspect
import os

SECTIONS = {
    "Layers (`mosi_keras.layers`)": ["mosi_keras.layers:PositionalEncoding",
                                     "mosi_keras.layers:MultiHeadSelfAttention",
                                     "mosi_keras.layers:ModalityTransformerEncoder",
                                     "mosi_keras.layers:ClusteringLayer",
                                     "mosi_keras.layers:UtteranceDistributed",
                                     "mosi_keras.layers:WordDropout",
                                     "mosi_keras.layers:WordPiecePooling"],
    "Losses and metrics (`mosi_keras.losses`, `mosi_keras.metrics`)": [f"mosi_keras.losses:{name}" for name in (
        "target_distribution", "clustering_kl", "ClusteringKLDivergence", "masked_reconstruction_loss",
        "MaskedReconstructionLoss", "latent_covariance", "disentanglement_loss", "DisentanglementLoss",
        "semi_supervised_crossentropy", "SemiSupervisedCrossentropy", "combined_dec_loss",
        "labelled_binary_crossentropy", "LabelledBinaryCrossentropy")] + ["mosi_keras.metrics:LabelledBinaryAccuracy"],
    "Data (`mosi_keras.data`)": [f"mosi_keras.data:{name}" for name in (
        "load_dataset", "MultimodalDataset", "from_arrays", "write_dataset", "mask_name", "Preprocessor",
        "binary_labels", "semi_supervised_split", "make_synthetic_mosi", "iter_hdf5_chunks", "HDF5Sequence")] + [
        f"mosi_keras.data.video:{name}" for name in ("video_view", "VideoView", "VideoBatches")],
    "Text from transcripts (the `text` extra)": [
        "mosi_keras.text_encoder:load_text_encoder", "mosi_keras.text_encoder:TextEncoderError",
        "mosi_keras.transcript_tokenizer:TranscriptTokenizer", "mosi_keras.transcript_tokenizer:transcript_words",
        "mosi_keras.text_featurizer:TextFeaturizer", "mosi_keras.text_featurizer:featurize_file",
        "mosi_keras.optimizers:MultiRateAdam", "mosi_keras.optimizers:WarmupCosineDecay"],
    "Evaluation (`mosi_keras.evaluation`)": [f"mosi_keras.evaluation:{name}" for name in (
        "sentiment_metrics", "match_clusters_to_classes", "cluster_accuracy", "clustering_metrics")],
    "Models (`applications`)": [f"applications:{name}" for name in (
        "MultimodalBackbone", "SentimentClassifier", "SentimentRegressor", "MultimodalDecoder",
        "SemiSupervisedDEC", "ContextualSentimentClassifier", "SentimentEnsemble")],
    "Presets (`applications.presets`)": ["applications.presets:PresetMixin", "applications.presets:load_preset"],
    "Feeding (`applications.batching`)": ["applications.batching:BatchedFeedMixin",
                                          "applications.batching:predict_videos"],
    "Callbacks (`applications`)": ["applications:TargetRefresh", "applications:AssignmentChangeStopping",
                                   "applications.experiments.progress:StageProgress"],
    "Experiments (`applications.experiments`)": [
        "applications.experiments.config:TrainingConfig", "applications.experiments.config:Experiment",
        "applications.multimodal_backbone:backbone_hyperparameters",
        "applications.devices:resolve_jit_compile",
        "applications.experiments.training:train_task",
        "applications.experiments.folds:video_folds", "applications.experiments.folds:train_in_folds",
        "applications.experiments.dec_pretraining:pretrain_dec",
        "applications.experiments.autoencoder_cache:train_autoencoder",
        "applications.experiments.run:run_experiment", "applications.experiments.run:RunRecord",
        "applications.experiments.run:RunResult", "applications.experiments.inference:evaluate_tasks",
        "applications.experiments.inference:predict_segments",
        "applications.experiments.grid:run_grid", "applications.experiments.grid:seed_ensembles",
        "applications.experiments.console:filter_backend_noise"],
    "Tuning (`applications.experiments.tuning`)": [
        f"applications.experiments.tuning:{name}" for name in (
            "SentimentClassifierHyperModel", "DECHyperModel", "make_tuner", "search", "distributed_role")],
}


def resolve(target):
    module, name = target.split(":")
    return name, getattr(__import__(module, fromlist=[name]), name)


def signature(obj):
    try:
        text = str(inspect.signature(obj))
    except (TypeError, ValueError):
        return ""
    return text.replace("self, ", "").replace("(self)", "()")


def cli_help():
    from applications.experiments.cli import build_parser

    os.environ["COLUMNS"] = "100"  # argparse wraps to the terminal; fix it for a stable file
    parser = build_parser()
    subparsers = next(a for a in parser._actions if a.dest == "command")
    parts = [parser.format_help()]
    for name, sub in subparsers.choices.items():
        parts.append(sub.format_help())
    return "\n".join(parts)


def render():
    lines = ["# API reference", "",
             "Generated from the docstrings by `python docs/generate_api.py`; do not edit by hand.", ""]
    for title, targets in SECTIONS.items():
        lines += [f"## {title}", ""]
        for target in targets:
            name, obj = resolve(target)
            lines += [f"### `{name}{signature(obj)}`", "", "```text", inspect.cleandoc(obj.__doc__ or ""), "```", ""]
    lines += ["## Command line (`mosi-keras`)", "", "```text", cli_help().rstrip(), "```", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "api.md")
    text = render()  # before the file is opened: a failure leaves the old one whole
    with open(path, "w") as file:
        file.write(text)
    print(f"wrote {path}")
