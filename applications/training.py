"""The paper's training schedule (§4): baseline, DEC stages 1-2, transfer, fine-tuning."""

import dataclasses
import math

import keras
import numpy as np
from scipy.optimize import linear_sum_assignment
from sklearn.cluster import KMeans

from applications.autoencoder import build_multimodal_decoder
from applications.callbacks import AssignmentChangeStopping, TargetRefresh
from applications.semi_supervised_dec import SemiSupervisedDEC
from applications.sentiment_classifier import build_multimodal_encoder, build_sentiment_classifier


@dataclasses.dataclass
class TrainingConfig:
    """Hyper-parameters of the whole schedule; defaults are the paper's (§3.2, §4).

    Epoch counts are maxima: every stage stops early once its validation
    loss has not improved for `patience` epochs and keeps its best weights,
    and the epochs actually run are recorded.
    """

    hidden_dim: int = 128
    num_blocks: int = 2
    num_heads: int = 4
    intermediate_dim: int = 256
    dropout: float = 0.1
    head_units: tuple = (64, 32)
    head_dropout: float = 0.3
    decoder_hidden_dim: int = 128
    n_clusters: int = 2
    batch_size: int = 128
    # Stage 1: autoencoder, reconstruction + disentanglement (§4.3).
    ae_epochs: int = 200
    ae_learning_rate: float = 5e-4
    ae_alpha: float = 1.0
    ae_gamma: float = 1e-3
    # Stage 2: clustering + reconstruction + supervision (§4.3).
    dec_epochs: int = 100
    dec_learning_rate: float = 1e-4
    dec_alpha: float = 0.1
    dec_beta: float = 0.5
    dec_gamma: float = 0.0
    update_interval: int = 0  # 0: target per batch; N: refresh over the training set every N steps
    tol: float = 0.001
    kmeans_n_init: int = 20
    # Baseline and fine-tuning (§4.2).
    epochs: int = 500
    learning_rate: float = 4e-5
    weight_decay: float = 1e-2
    patience: int = 20
    pretrain_min_delta: float = 1e-3  # smallest val-loss gain that counts in stages 1-2
    jit_compile: object = "auto"  # see `resolve_jit_compile`
    run_eagerly: bool = False  # Keras's debugging switch; also faster for tiny smoke runs

    def encoder_kwargs(self):
        return dict(
            hidden_dim=self.hidden_dim, num_blocks=self.num_blocks, num_heads=self.num_heads,
            intermediate_dim=self.intermediate_dim, dropout=self.dropout,
        )

    def to_dict(self):
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values):
        names = {field.name for field in dataclasses.fields(cls)}
        unknown = sorted(set(values) - names)
        if unknown:
            raise ValueError(f"unknown hyper-parameter(s) {unknown}; known: {sorted(names)}.")
        values = dict(values)
        if "head_units" in values:
            values["head_units"] = tuple(values["head_units"])
        return cls(**values)


def early_stopping(patience, min_delta=0.0):
    """Stops when `val_loss` has not improved by `min_delta` for `patience`
    epochs, and restores the best epoch's weights."""
    return keras.callbacks.EarlyStopping(
        monitor="val_loss", patience=patience, min_delta=min_delta, restore_best_weights=True, verbose=0
    )


def epochs_run(history):
    return len(next(iter(history.history.values()))) if history.history else 0


def fit_arguments(x, y, batch_size, shuffle=True):
    """Keyword arguments of `fit` that feed `(x, y)` in batches of `batch_size`.

    Other backends take the arrays as they are. On TensorFlow, Keras turns
    arrays into a new `tf.data` iterator twice per epoch, which costs as
    much as a training step on utterance-level data; a repeated pipeline
    with `steps_per_epoch` keeps one iterator for the whole `fit` (the
    same batches: reshuffled every epoch, last batch partial). See
    `docs/PERFORMANCE.md`.
    """
    if keras.backend.backend() != "tensorflow":
        return dict(x=x, y=y, batch_size=batch_size, shuffle=shuffle)
    import tensorflow as tf

    dataset = tf.data.Dataset.from_tensor_slices((x, y))
    if shuffle:
        dataset = dataset.shuffle(len(y), reshuffle_each_iteration=True)
    return dict(
        x=dataset.batch(batch_size).repeat(),
        steps_per_epoch=math.ceil(len(y) / batch_size),
        shuffle=False,  # the pipeline shuffles; fit's own flag does not apply to datasets
    )


def validation_arguments(x, y, batch_size):
    """Keyword arguments of `fit` that validate on `(x, y)` every epoch."""
    arguments = fit_arguments(x, y, batch_size, shuffle=False)
    if "steps_per_epoch" in arguments:
        return dict(validation_data=arguments["x"], validation_steps=arguments["steps_per_epoch"])
    return dict(validation_data=(x, y), validation_batch_size=batch_size)


def build_optimizer(model):
    """Creates the optimizer's variables (Adam's moments) before `fit`.

    Otherwise the TensorFlow trainer creates them while it traces the first
    training step, and TensorFlow then traces that step a second time:
    about 3 s per `fit` for these models on the project's CPU, as long as
    some 30 epochs of utterance-level data. Harmless on the other backends.
    """
    model.optimizer.build(model.trainable_variables)
    return model


def accelerator_visible():
    """Whether the Keras backend sees a GPU (or another accelerator)."""
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        return bool(tf.config.list_physical_devices("GPU"))
    if backend == "jax":
        import jax

        return jax.default_backend() != "cpu"
    if backend == "torch":
        import torch

        return torch.cuda.is_available()
    return False


def resolve_jit_compile(value):
    """The `jit_compile` given to `compile`: `"auto"` is Keras's choice (XLA
    where the model supports it), except with TensorFlow on a CPU, where XLA
    trained these models no faster at T = 30 and more slowly at T = 1 (0.82x
    the classifier steps per second) on the project's CPU (docs/PERFORMANCE.md).
    """
    if value == "auto" and keras.backend.backend() == "tensorflow" and not accelerator_visible():
        return False
    return value


def compile_classifier(model, config):
    model.compile(
        optimizer=keras.optimizers.Adam(config.learning_rate, weight_decay=config.weight_decay),
        loss=keras.losses.BinaryCrossentropy(from_logits=True),
        metrics=[keras.metrics.BinaryAccuracy(threshold=0.0, name="accuracy")],
        jit_compile=resolve_jit_compile(config.jit_compile),
        run_eagerly=config.run_eagerly,
    )
    return build_optimizer(model)


def train_classifier(
    train, validation, config, feature_dims, max_len, pretrained_encoder=None, callbacks=(), verbose=0
):
    """Trains the §3.2 classifier on labelled rows: the baseline, or the
    fine-tuning of §4.3 when `pretrained_encoder` is given.

    Args:
        train, validation: `(inputs, binary_labels)` pairs.
        pretrained_encoder: an encoder whose weights are copied into the new
            classifier (`transfer_encoder`) before training; `None` trains
            from scratch.

    Returns:
        `(model, history)`; the model holds the weights of the epoch with
        the best validation loss.
    """
    model = build_sentiment_classifier(
        feature_dims, max_len, head_units=config.head_units, head_dropout=config.head_dropout,
        **config.encoder_kwargs(),
    )
    if pretrained_encoder is not None:
        transfer_encoder(pretrained_encoder, model)
    compile_classifier(model, config)
    history = model.fit(
        **fit_arguments(train[0], train[1].astype("float32"), config.batch_size),
        **validation_arguments(validation[0], validation[1].astype("float32"), config.batch_size),
        epochs=config.epochs, verbose=verbose, callbacks=[early_stopping(config.patience), *callbacks],
    )
    return model, history


def initialize_centroids(dec, x, labels=None, n_init=20, seed=0, batch_size=256):
    """Sets the centroids from k-means (scikit-learn) on the encoder's embeddings.

    When `labels` (with `-1` for unlabelled) are given and there is one
    cluster per class, the k-means clusters are matched to the classes by
    the Hungarian assignment on the labelled rows, so that cluster `c`
    starts where class `c` is (as `semi_supervised_crossentropy` expects).

    Returns:
        The initial hard assignments `(N,)`.
    """
    z = np.asarray(dec.encoder.predict(x, batch_size=batch_size, verbose=0))
    kmeans = KMeans(dec.n_clusters, n_init=n_init, random_state=seed).fit(z)
    centres, assignments = kmeans.cluster_centers_, kmeans.labels_
    if labels is not None:
        labels = np.asarray(labels).reshape(-1)
        known = labels >= 0
        if known.any() and labels[known].max() < dec.n_clusters:
            counts = np.zeros((dec.n_clusters, dec.n_clusters))
            np.add.at(counts, (assignments[known], labels[known]), 1)
            clusters, classes = linear_sum_assignment(-counts)
            order = np.empty(dec.n_clusters, dtype=int)
            order[classes] = clusters
            centres = centres[order]
            assignments = np.argsort(order)[assignments]
    if not dec.clustering.built:
        dec.clustering.build((None, z.shape[1]))
    dec.clustering.centroids.assign(centres.astype("float32"))
    return assignments


def make_dec(encoder, decoder, config, stage):
    """The DEC model with the loss weights of stage 1 (autoencoder) or 2 (clustering)."""
    if stage == 1:
        weights = dict(cluster_weight=0.0, alpha=config.ae_alpha, beta=0.0, gamma=config.ae_gamma)
        learning_rate = config.ae_learning_rate
    else:
        weights = dict(alpha=config.dec_alpha, beta=config.dec_beta, gamma=config.dec_gamma)
        learning_rate = config.dec_learning_rate
    dec = SemiSupervisedDEC(encoder, decoder, n_clusters=config.n_clusters, name=f"dec_stage_{stage}", **weights)
    dec.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        jit_compile=resolve_jit_compile(config.jit_compile),
        run_eagerly=config.run_eagerly,
    )
    return build_optimizer(dec)


def pretrain_dec(x, y, validation, config, feature_dims, max_len, seed=0, verbose=0):
    """Stages 1 and 2 of §4.3 on labelled + unlabelled rows.

    Args:
        x: inputs of every training row; y: classes with `-1` for unlabelled.
        validation: `(inputs, classes)` of the validation videos, for early
            stopping.

    Returns:
        dict with `encoder`, `dec` (the stage-2 model), `histories` and
        `epochs` per stage.
    """
    encoder = build_multimodal_encoder(feature_dims, max_len, **config.encoder_kwargs())
    decoder = build_multimodal_decoder(
        encoder.output.shape[-1], feature_dims, max_len, config.decoder_hidden_dim
    )
    stage1 = make_dec(encoder, decoder, config, stage=1)
    feed = dict(**fit_arguments(x, y, config.batch_size), **validation_arguments(*validation, config.batch_size))
    history1 = stage1.fit(
        **feed, epochs=config.ae_epochs, verbose=verbose,
        callbacks=[early_stopping(config.patience, config.pretrain_min_delta)],
    )
    stage2 = make_dec(encoder, decoder, config, stage=2)
    stage2(keras.tree.map_structure(lambda a: a[:1], x))  # build
    initialize_centroids(stage2, x, y, n_init=config.kmeans_n_init, seed=seed)
    callbacks = [early_stopping(config.patience, config.pretrain_min_delta)]
    if config.update_interval:
        refresh = TargetRefresh(x, update_interval=config.update_interval)
        callbacks += [refresh, AssignmentChangeStopping(refresh, tol=config.tol)]
    history2 = stage2.fit(**feed, epochs=config.dec_epochs, verbose=verbose, callbacks=callbacks)
    return {
        "encoder": encoder,
        "dec": stage2,
        "histories": {"autoencoder": history1.history, "clustering": history2.history},
        "epochs": {"autoencoder": epochs_run(history1), "clustering": epochs_run(history2)},
    }


def transfer_encoder(source_encoder, classifier):
    """Copies the pre-trained encoder's weights into `classifier`'s encoder, exactly.

    Only the encoder's weights change; the head keeps its own. Raises when
    the architectures differ.
    """
    target = classifier.get_layer(source_encoder.name)
    source_weights = source_encoder.get_weights()
    target_shapes = [w.shape for w in target.get_weights()]
    if [w.shape for w in source_weights] != target_shapes:
        raise ValueError("the pre-trained encoder and the classifier's encoder differ in architecture.")
    target.set_weights(source_weights)
    return classifier
