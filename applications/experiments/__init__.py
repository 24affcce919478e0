"""The machinery that runs the paper's experiments, apart from the models.

| module | concern |
|---|---|
| `config` | `TrainingConfig` (every hyper-parameter of a run), the recipes and the experiment names |
| `training` | a task from a config: built, compiled as its own `compile()` does, trained on labelled rows |
| `dec_pretraining` | DEC pre-training from a config: stage 1, the k-means start, stage 2, the transfer |
| `autoencoder_cache` | stage 1 kept on disk for the runs of a seed that share it |
| `text_states` | a text encoder's word states, computed once for DEC's stages 1-2 |
| `diagnostics` | measurements that take no part in training (weight shift, clusters) |
| `folds` | video-grouped folds of the training videos: fold ensembles, retraining |
| `preparation` | one seed's split, fitted preprocessing and model inputs |
| `run` | one run: prepare, pre-train, train, measure, write files |
| `kfold` | the k-fold yardstick: every row predicted once per seed, fold by fold |
| `inference` | a task's outputs per row; saved tasks: load, evaluate (one or an ensemble), predict new segments |
| `grid` | the runs of `reproduce`: seeds × label fractions × experiments, resumable, in parallel processes |
| `tuning` | keras-tuner hyper-models |
| `reports` | tables and figures |
| `files` | every file a run writes, through a temporary file renamed into place |
| `folder_lock` | one grid or search at a time per output folder |
| `console` | what reaches the terminal: the backend's C++ start-up lines filtered out |
| `progress` | a run's progress lines (`StageProgress`) |
| `cli` | the `mosi-keras` command line: parses arguments and prints |
"""
