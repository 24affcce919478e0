"""The machinery that runs the paper's experiments, apart from the models.

| module | concern |
|---|---|
| `config` | `TrainingConfig` (every hyper-parameter of a run) and the experiment names |
| `devices` | accelerator detection, `jit_compile`, parallel runs per machine |
| `feeding` | how arrays reach `fit` (the `tf.data` pipeline on TensorFlow) |
| `schedule` | the training schedule: baseline/fine-tuning, DEC stages 1-2, k-means start |
| `run` | one run: split, preprocess, train, evaluate, write files |
| `grid` | the runs of `reproduce`: seeds × label fractions × experiments, resumable, in parallel processes |
| `tuning` | keras-tuner hyper-models |
| `reports` | tables and figures |
| `files` | every file a run writes, through a temporary file renamed into place |
| `console` | what reaches the terminal: the backend's C++ start-up lines filtered out |
| `cli` | the `mosi-keras` command line: parses arguments and prints |
"""
