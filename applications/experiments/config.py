"""Every hyper-parameter of a run, and the names of the experiments."""

import dataclasses
import json

from applications.training_defaults import (
    AE_DISENTANGLE_WEIGHT, AE_LEARNING_RATE, AE_RECONSTRUCTION_WEIGHT, DEC_LEARNING_RATE, LEARNING_RATE,
    PAPER_LEARNING_RATE, PAPER_WEIGHT_DECAY, TEXT_LEARNING_RATE, WARMUP_FRACTION,
)


def backbone_hyperparameters():
    """`applications.multimodal_backbone.backbone_hyperparameters`, imported
    when first needed (`mosi-keras --help` loads no backend)."""
    from applications import multimodal_backbone

    return multimodal_backbone.backbone_hyperparameters()


def check_hyperparameters(**values):
    """`applications.multimodal_backbone.check_hyperparameters`, imported when first needed."""
    from applications import multimodal_backbone

    multimodal_backbone.check_hyperparameters(**values)


class ConfigError(ValueError):
    """A run asked for something it cannot do: an unknown name, a setting
    out of range, options that do not go together. The command line prints
    it in one line, as it does bad data (`DataError`)."""


@dataclasses.dataclass(frozen=True)
class Experiment:
    """What one experiment name trains.

    Attributes:
        name: the name in `results.json`, file names and `--experiments`.
        task: `"classifier"` (`SentimentClassifier`, a logit),
            `"regressor"` (`SentimentRegressor`, a score) or
            `"contextual_classifier"` (`ContextualSentimentClassifier`: a
            logit per utterance, each video read whole) or
            `"semi_supervised_classifier"` (`SemiSupervisedClassifier`: the
            classifier, trained on the unlabelled training rows too).
        dec_pretraining: whether the backbone is first pre-trained by
            semi-supervised DEC on labelled + unlabelled rows.
        overrides: `TrainingConfig` values this experiment sets on top of
            the run's, as `(name, value)` pairs.
        self_training: whether the trained task then labels the unlabelled
            training rows and a student is trained on them with the
            labelled ones (`run.self_train`).
        unlabelled_only: whether all it adds to the classifier (with
            `dec_pretraining`, to `dec`) is learning from unlabelled rows:
            at 100 % labels it would train that model again, so `reproduce`
            does not run it there.
    """

    name: str
    task: str
    dec_pretraining: bool
    overrides: tuple = ()
    self_training: bool = False
    unlabelled_only: bool = False

    def config(self, config):
        """`config` with this experiment's overrides; a DEC pre-training it
        cannot run refused (`check_dec_text_encoder`), as is a clustering
        term without DEC's centroids to keep."""
        config = config.replace(**dict(self.overrides)) if self.overrides else config
        if self.dec_pretraining:
            check_dec_text_encoder(config, f"experiment {self.name!r}", self.task == "contextual_classifier")
        elif config.cluster_weight and self.task == "semi_supervised_classifier":
            raise ConfigError(f"experiment {self.name!r} with cluster_weight: the clustering term keeps DEC's "
                              "centroids, so it needs an experiment with DEC pre-training.")
        return config


def check_dec_text_encoder(config, what, contextual=False):
    """Refuses, naming `what` (the experiment, the search), DEC pre-training
    with `config.text_encoder` where it cannot read the encoder's word
    states: `text_output` other than `"words"`, or a `contextual` model."""
    if config.text_encoder and (contextual or config.backbone["text_output"] != "words"):
        raise ConfigError(f"{what} with a text_encoder: DEC pre-trains the text's ModalityTransformerEncoder on the "
                          "encoder's word states, which needs text_output='words' and a model of single segments "
                          "(not 'contextual_dec').")


PERTURBATIONS = (("feature_noise", 0.2), ("word_dropout", 0.2), ("modality_dropout", 0.1))
"""The backbone's training-time perturbations of the `consistency` experiment and its `perturbed` control: Gaussian
noise of 0.2 on the scaled features, 20 % of the steps hidden, a modality's embedding dropped 10 % of the time.
Fixed beforehand (common augmentation strengths), not chosen on any fold."""

EXPERIMENTS = {
    experiment.name: experiment
    for experiment in (
        Experiment("baseline", "classifier", False),
        Experiment("dec", "classifier", True),
        # The control of `dec`: the same schedule with the KL term of eq. 8
        # off in stage 2, so that only the extra supervised + reconstruction
        # training remains; `dec − dec_without_kl` is what clustering adds.
        Experiment("dec_without_kl", "classifier", True, (("dec_cluster_weight", 0.0),)),
        # The original DEC's target: P of every training row refreshed over
        # the whole set about once an epoch (10 steps of 128 rows) and held
        # fixed in between, with DEC's `tol` stop; `dec` recomputes P per batch.
        Experiment("dec_frozen_target", "classifier", True, (("update_interval", 10), ("freeze_target", True))),
        # Beyond the paper: each utterance read with the rest of its video;
        # `contextual_dec` fine-tunes the DEC-pretrained utterance encoder there.
        # Its head drops more (0.5): chosen with the context encoder's sizes
        # on the validation videos of two seeds (docs/RESULTS.md).
        Experiment("contextual", "contextual_classifier", False, (("head_dropout", 0.5),)),
        Experiment("contextual_dec", "contextual_classifier", True, (("head_dropout", 0.5),)),
        Experiment("baseline_regression", "regressor", False),
        Experiment("dec_regression", "regressor", True),
        # Beyond the paper, the semi-supervised baseline beside DEC: the
        # baseline labels the unlabelled training videos (soft targets) and
        # a student learns from them and the labelled ones (one round).
        Experiment("self_training", "classifier", False, self_training=True, unlabelled_only=True),
        # Consistency training (FixMatch / UDA, #43): labelled and unlabelled
        # rows in the same batches; the confident prediction on a clean row is
        # the label of the same row perturbed (`SemiSupervisedClassifier`).
        Experiment("consistency", "semi_supervised_classifier", False, PERTURBATIONS, unlabelled_only=True),
        # Its control: the classifier on the same perturbed rows, without an
        # unlabelled one; `consistency − perturbed` is what the unlabelled rows add.
        Experiment("perturbed", "classifier", False, PERTURBATIONS),
        # Noisy student (Xie et al., 2020; #43): self-training over three
        # rounds, every model trained on perturbed rows (the teacher labels
        # clean ones); `noisy_student − perturbed` is what the rounds add.
        Experiment("noisy_student", "classifier", False, PERTURBATIONS + (("self_training_rounds", 3),),
                   self_training=True, unlabelled_only=True),
        # A mean teacher (Tarvainen & Valpola, 2017; #43): the consistency's target
        # is the moving average of the weights (momentum 0.99) on the clean row,
        # the squared difference of probabilities over every row, weight 10 (their
        # ImageNet weight; no ramp-up); fixed beforehand, not chosen on any fold.
        # Control: `perturbed`; `mean_teacher − consistency` is what the teacher adds.
        Experiment("mean_teacher", "semi_supervised_classifier", False,
                   PERTURBATIONS + (("teacher_momentum", 0.99), ("unlabelled_weight", 10.0)), unlabelled_only=True),
        # The mean teacher fine-tuning DEC's encoders (#43), weight 1 (`consistency`'s
        # λ_u), chosen after `mean_teacher`'s 10 was seen to hurt; no perturbation
        # but dropout (DEC's stages read the backbone's section: perturbations there
        # would change what is pre-trained). `− dec` is what the teacher adds.
        Experiment("dec_mean_teacher", "semi_supervised_classifier", True,
                   (("teacher_momentum", 0.99), ("unlabelled_weight", 1.0)), unlabelled_only=True),
        # DEC's clustering term kept during fine-tuning (#43): the classifier
        # fine-tuned from DEC's encoders on every training row (labels of the
        # unlabelled ones hidden) with eq. 1's KL on DEC's centroids beside its
        # labelled rows' loss, weight 1 as in eq. 8, not tuned; `− dec` is what keeping it adds.
        Experiment("dec_kl_finetuning", "semi_supervised_classifier", True,
                   (("unlabelled_weight", 0.0), ("cluster_weight", 1.0))),
        # Pre-training, then self-training (Du et al., 2021; #43): the
        # DEC-pretrained classifier labels the unlabelled rows, and a student
        # that starts from the same DEC encoders learns from them and the
        # labelled ones; `dec_self_training − dec` is what the round adds.
        Experiment("dec_self_training", "classifier", True, self_training=True, unlabelled_only=True),
    )
}
"""The experiments a run can be, by name."""

PAPER_EXPERIMENTS = ("baseline", "dec")
"""The paper's Table 1: the classifier from scratch and DEC-pretrained."""


SEMI_SUPERVISED = "dec"
"""What `--experiments semi_supervised` runs: the best semi-supervised experiment on the k-fold yardstick (#43),
DEC-pretraining: +2.36 [+1.55, +3.18] over the classifier at 40 % labels and ahead of self-training (MiniLM features,
`small_data`, 5 seeds; docs/RESULTS.md, "DEC on the k-fold yardstick"). The name stays; what is behind it follows
the measurements."""


def experiment_names(names):
    """`names` with `semi_supervised` as `SEMI_SUPERVISED`, each name once, in order."""
    return list(dict.fromkeys(SEMI_SUPERVISED if name == "semi_supervised" else name for name in names))


def experiment(name):
    """The `Experiment` called `name`; a clear error for an unknown one."""
    if name not in EXPERIMENTS:
        raise ConfigError(f"unknown experiment {name!r}; choose from {sorted(EXPERIMENTS)}.")
    return EXPERIMENTS[name]


LABEL_FRACTION = 0.4
"""The share of labelled rows every command defaults to (§4.1; `mosi_keras.data.semi_supervised_split`'s too)."""

MONITORS = {"val_loss": "min", "val_accuracy": "max"}
"""What a task's early stopping may watch (`TrainingConfig.monitor`), and which way is better."""


@dataclasses.dataclass
class TrainingConfig:
    """Hyper-parameters of the whole schedule; defaults are the paper's (§3.2, §4).

    The classifier (baseline and fine-tuning) stops early once its
    validation loss (`monitor`) has not improved for `patience` epochs and
    keeps its best weights (§4.1 selects checkpoints on validation). The two
    pre-training stages run their epochs as §4.3 does: the autoencoder its
    `ae_epochs`, the clustering stage its `dec_epochs` or until DEC's `tol`
    criterion when `update_interval` is set. The clustering stage's
    validation loss (KL to a target made from the model's own Q) is no
    model-selection signal, and rewinding by it undid the stage;
    `ae_early_stopping` / `dec_early_stopping` stop a stage on its
    validation loss (`patience`, `pretrain_min_delta`) and rewind it.
    The epochs actually run are recorded. The loss weights of eq. 8
    (α, β, γ in the paper) are named for what they weigh.

    Beyond the paper, for training on ~1k labelled rows (each off by
    default; `RECIPES["small_data"]` combines them): a fixed budget
    instead of early stopping (`early_stopping=False`: every one of
    `epochs` runs and the last weights are kept, so no validation video
    chooses anything), warm-up and cosine decay of the rate
    (`lr_schedule`, `warmup_fraction`), the moving average of the weights
    (`use_ema`, `ema_momentum`), word and modality dropout in the backbone
    (`word_dropout`, `modality_dropout`), and choices made on k
    video-grouped folds of the labelled training videos (`folds`,
    `fold_use`: an ensemble of the fold models, or one model retrained on
    every fold; `applications.experiments.folds`).
    """

    # `MultimodalBackbone`'s own arguments, each under its name there (`backbone_hyperparameters`); a run's
    # input, a JSON file or a search may also give them at the top level (`flatten`).
    backbone: dict = dataclasses.field(default_factory=backbone_hyperparameters)
    head_units: tuple = (64, 32)
    head_dropout: float = 0.3
    decoder_hidden_dim: int = 128
    n_clusters: int = 2
    batch_size: int = 128  # the task's (baseline, fine-tuning)
    pretrain_batch_size: int = 128  # DEC stages 1-2, on every training row
    # Stage 1: autoencoder, reconstruction + disentanglement (§4.3).
    ae_epochs: int = 200
    ae_learning_rate: float = AE_LEARNING_RATE
    ae_reconstruction_weight: float = AE_RECONSTRUCTION_WEIGHT
    ae_disentangle_weight: float = AE_DISENTANGLE_WEIGHT
    ae_early_stopping: bool = False  # stop stage 1 on validation loss and rewind (§4.3 runs its 200 epochs)
    # Stage 2: clustering + reconstruction + supervision (§4.3).
    dec_epochs: int = 100
    dec_learning_rate: float = DEC_LEARNING_RATE
    dec_cluster_weight: float = 1.0  # weight of KL(P‖Q), 1 in eq. 8; 0 is the control without clustering
    dec_reconstruction_weight: float = 0.1
    dec_supervised_weight: float = 0.5
    dec_disentangle_weight: float = 0.0
    update_interval: int = 0  # 0: target per batch; N: refresh over the training set every N steps
    tol: float = 0.001  # with update_interval: stop once fewer assignments than this changed (DEC)
    freeze_target: bool = False  # with update_interval: each row's P fixed between refreshes (original DEC)
    dec_early_stopping: bool = False  # stop stage 2 on validation loss and rewind to its best epoch
    kmeans_n_init: int = 20
    # The context encoder of the contextual experiments (beyond the paper).
    context_dim: int = 32  # small: the context level learns from ~50 training videos
    context_blocks: int = 1
    context_heads: int = 4
    context_intermediate_dim: int = 256
    context_dropout: float = 0.3
    videos_per_batch: int = 4  # a contextual batch: whole videos (~23 utterances each in CMU-MOSI)
    # Baseline and fine-tuning (§4.2).
    epochs: int = 500
    learning_rate: float = PAPER_LEARNING_RATE
    finetune_learning_rate: float = None  # fine-tuning a pre-trained backbone; None: learning_rate (§4.3 gives none)
    weight_decay: float = PAPER_WEIGHT_DECAY
    patience: int = 20
    monitor: str = "val_loss"  # what the task's early stopping watches; "val_accuracy" for a classifier
    early_stopping: bool = True  # False: a fixed budget, every one of `epochs` run, the last weights kept
    lr_schedule: str = "constant"  # "cosine": linear warm-up over `warmup_fraction` of the steps, then cosine to 0
    warmup_fraction: float = WARMUP_FRACTION
    use_ema: bool = False  # keep the exponential moving average of the weights (Keras's `use_ema`)
    ema_momentum: float = 0.99
    folds: int = 0  # k >= 2: train on k video-grouped folds of the labelled training videos (`folds.py`)
    fold_use: str = "ensemble"  # with folds: "ensemble" of the k fold models, or "retrain" on every fold
    pretrain_min_delta: float = 1e-3  # smallest val-loss gain that counts in stages 1-2
    # Self-training (`run.self_train`, the `self_training` and `noisy_student` experiments).
    self_training_rounds: int = 1  # each round's student labels the unlabelled rows for the next
    # The terms of `SemiSupervisedClassifier` (`consistency`, the mean teachers, `dec_kl_finetuning`).
    unlabelled_weight: float = 1.0  # the weight of the consistency term on the unlabelled rows (λ_u)
    confidence_threshold: float = 0.8  # the clean prediction's confidence from which its label counts
    teacher_momentum: float = 0.0  # > 0: a mean teacher, the moving average of the weights, is the target
    cluster_weight: float = 0.0  # DEC's KL (eq. 1) kept in fine-tuning on DEC's centroids; stage 2's: dec_cluster_weight
    # Text read from transcripts by a pre-trained keras-hub encoder, fine-tuned inside the model (#25).
    text_encoder: str = None  # a preset folder or keras-hub handle (hf://...); None: the `text` feature array
    # (how it is read, `text_output` and `text_frozen_layers`, are the backbone's)
    # The encoder's own rate (schedule scaled alike); None: the task's. 5e-5: every measured fine-tuning run's
    # (docs/RESULTS.md), BERT's usual range; the task's rate (1e-3 in small_data) would overwrite MiniLM.
    text_learning_rate: float = 5e-5
    jit_compile: object = "auto"  # see `devices.resolve_jit_compile`
    run_eagerly: bool = False  # Keras's debugging switch; also faster for tiny smoke runs

    def __post_init__(self):
        defaults = backbone_hyperparameters()
        unknown = sorted(set(self.backbone) - set(defaults))
        if unknown:
            raise ConfigError(f"unknown backbone hyper-parameter(s) {unknown}; known: {sorted(defaults)}.")
        self.backbone = {**defaults, **self.backbone}
        try:
            check_hyperparameters(**self.backbone)
        except ValueError as error:
            raise ConfigError(str(error)) from None
        choices = {"monitor": tuple(MONITORS), "lr_schedule": ("constant", "cosine"),
                   "fold_use": ("ensemble", "retrain")}
        for name, allowed in choices.items():
            if getattr(self, name) not in allowed:
                raise ConfigError(f"{name} must be one of {list(allowed)}, got {getattr(self, name)!r}.")
        if self.folds == 1 or self.folds < 0:
            raise ConfigError(f"folds must be 0 (select on the validation videos) or at least 2, got {self.folds}.")
        if self.self_training_rounds < 1:
            raise ConfigError(f"self_training_rounds must be 1 or more, got {self.self_training_rounds}.")

    def replace(self, **values):
        """A copy with `values` changed; a backbone hyper-parameter may be
        named at the top level (`hidden_dim=64`) or in `backbone`."""
        return self.from_dict({**flatten(self.to_dict()), **flatten(values)})

    def to_dict(self):
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values):
        """A config from a dict (JSON), the backbone's hyper-parameters in its
        `backbone` section or at the top level (`flatten`); unknown names
        are errors."""
        values = flatten(values)
        backbone_names = backbone_hyperparameters()
        backbone = {name: values.pop(name) for name in backbone_names if name in values}
        names = {field.name for field in dataclasses.fields(cls)} - {"backbone"}
        unknown = sorted(set(values) - names)
        if unknown:
            raise ConfigError(f"unknown hyper-parameter(s) {unknown}; known: {sorted(names | set(backbone_names))}.")
        if "head_units" in values:
            values["head_units"] = tuple(values["head_units"])
        return cls(backbone=backbone, **values)


def flatten(values):
    """`values` (hyper-parameters by name) with its `backbone` section, if
    any, lifted to the top level, so that files, recipes and searches may
    name a backbone hyper-parameter either way and a later one wins."""
    values = dict(values)
    section = values.pop("backbone", None) or {}
    if not isinstance(section, dict):
        raise ConfigError(f"'backbone' must be a mapping of MultimodalBackbone's hyper-parameters, got {section!r}.")
    return {**values, **section}


DEMO = dict(
    ae_epochs=10, dec_epochs=10, epochs=40, patience=8, learning_rate=5e-4,
    ae_learning_rate=1e-3, dec_learning_rate=5e-4, kmeans_n_init=5, hidden_dim=64,
    batch_size=32, pretrain_batch_size=32,
)
"""The demo's short schedule on generated data (a few hundred rows: batches of 32 give each epoch about the
updates that 0.12's length buckets, each with its own short batch, gave batches of 128)."""

QUICK = dict(ae_epochs=10, dec_epochs=5, epochs=60, patience=8, learning_rate=5e-4, kmeans_n_init=5)
"""`reproduce --quick`: a smoke run of the whole grid."""


TEXT_EPOCHS = 8
"""The `text` recipe's budget, chosen with its encoder rate (`training_defaults.TEXT_LEARNING_RATE`) on folds of the
labelled training videos; docs/RESULTS.md, "The text recipe"."""

RECIPES = {
    "paper": {},
    "small_data": dict(
        hidden_dim=32, num_blocks=1, intermediate_dim=64, batch_size=32, learning_rate=LEARNING_RATE, epochs=40,
        early_stopping=False, lr_schedule="cosine", pretrain_batch_size=128,
    ),
}
"""Named `TrainingConfig` values (`--recipe`): bundles of hyper-parameters
(keras-hub's "preset" is a saved model folder, as `from_preset` reads).
`paper`: the paper's schedule, the defaults. `small_data`: the recipe for ~1k labelled rows
(docs/RESULTS.md, "A recipe for a thousand rows"): 32-d one-block
encoders, batches of 32, a fixed budget of 40 epochs with warm-up and
cosine decay from 1e-3 instead of early stopping on the validation videos
(DEC's stages keep the paper's batches of 128). The moving average of the
weights, modality and word dropout were measured and left out: none
helped on the word file."""

RECIPES["text"] = dict(RECIPES["small_data"], epochs=TEXT_EPOCHS, text_learning_rate=TEXT_LEARNING_RATE,
                       text_output="words")
"""`text`: `small_data` with a text encoder fine-tuned inside the model, at
the epochs and text rate chosen on folds of the labelled training videos
(docs/RESULTS.md, "The text recipe"). `--text-encoder` without `--recipe`
uses it."""


COMMAND_RECIPES = {"demo": "paper", "reproduce": "paper", "train": "small_data", "tune": "small_data"}
"""Each command's recipe when `--recipe` is not given: `reproduce` (and the
demo of it) reproduce the paper; `train` and `tune`, which make a model to
use, take the best measured recipe (`small_data` is ahead of `paper` in
every table of docs/RESULTS.md)."""

KFOLD = 5
"""The k-fold yardstick's folds (`reproduce --protocol kfold`, `kfold.py`): about 12 videos a fold on the
development file."""

TUNE_FOLDS = 5
"""`tune` scores trials on this many video-grouped folds of the labelled
training videos unless the hyper-parameters set `folds`: no validation video
chooses anything, and they only report."""


def load_config(path=None, overrides=None, recipe="paper"):
    """A `TrainingConfig` from `overrides` (a command's schedule, e.g.
    `DEMO`), then the `recipe`'s values, then a JSON file (a plain dict, or
    the `hyperparameters` of a file written by `mosi-keras tune`) on top."""
    if recipe not in RECIPES:
        raise ConfigError(f"unknown recipe {recipe!r}; choose from {sorted(RECIPES)}.")
    values = {**flatten(overrides or {}), **flatten(RECIPES[recipe])}
    if path:
        with open(path) as file:
            loaded = json.load(file)
        values.update(flatten(loaded.get("hyperparameters", loaded)))
    return TrainingConfig.from_dict(values)
