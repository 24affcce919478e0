"""The machinery that runs the paper's experiments, apart from the models.

| module | concern |
|---|---|
| `config` | `TrainingConfig` (every hyper-parameter of a run) and the experiment names |
| `devices` | accelerator detection, `jit_compile`, parallel runs per machine |
| `builders` | tasks, backbones, optimizers and their rate schedules, early stopping |
| `training` | training a task on labelled rows: the baseline and the fine-tuning |
| `dec_pretraining` | DEC pre-training: stage 1, the k-means start, stage 2 |
| `autoencoder_cache` | stage 1 kept on disk for the runs of a seed that share it |
| `diagnostics` | measurements that take no part in training (weight shift, clusters) |
| `folds` | video-grouped folds of the training videos: fold ensembles, retraining |
| `preparation` | one seed's split, fitted preprocessing and model inputs |
| `run` | one run: prepare, pre-train, train, measure, write files |
| `inference` | a task's outputs per row; saved tasks: load, evaluate (one or an ensemble), predict new segments |
| `grid` | the runs of `reproduce`: seeds × label fractions × experiments, resumable, in parallel processes |
| `tuning` | keras-tuner hyper-models |
| `reports` | tables and figures |
| `files` | every file a run writes, through a temporary file renamed into place |
| `console` | what reaches the terminal: the backend's C++ start-up lines filtered out |
| `progress` | a run's progress lines (`StageProgress`) |
| `cli` | the `mosi-keras` command line: parses arguments and prints |
"""
