from applications.experiments.progress import StageProgress, format_losses


def test_stage_progress_prints_start_epochs_at_its_rate_and_end():
    lines = []
    progress = StageProgress("dec_labels040_seed0", "clustering", 3, log=lines.append, every=0.0)
    progress.on_train_begin()
    progress.on_epoch_end(0, {"loss": 0.5, "val_loss": 0.25})
    quiet = StageProgress("run", "autoencoder", 3, log=lines.append, every=3600.0)
    quiet.on_train_begin()
    quiet.on_epoch_end(0, {"loss": 0.5})  # within the hour: no epoch line
    progress.on_train_end()
    assert lines[0] == "dec_labels040_seed0: clustering started (at most 3 epochs)"
    assert lines[1] == "dec_labels040_seed0: clustering epoch 1/3, loss 0.5000, val_loss 0.2500"
    assert lines[2] == "run: autoencoder started (at most 3 epochs)"
    assert lines[3].startswith("dec_labels040_seed0: clustering done, 1 epochs in ")
    assert len(lines) == 4


def test_format_losses_shows_only_the_losses_present():
    assert format_losses({"loss": 1.0, "accuracy": 0.5}) == ", loss 1.0000"
    assert format_losses(None) == ""
