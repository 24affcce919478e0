"""What reaches the terminal: the backend's start-up noise kept out of it.

TensorFlow's C++ runtime writes its start-up lines (oneDNN, CUDA drivers,
CPU instructions, "All log messages before absl::InitializeLog()...")
straight to file descriptor 2, before and regardless of
`TF_CPP_MIN_LOG_LEVEL`, in every process that imports it. The only place
to stop them is the descriptor itself: `filter_backend_noise` puts a pipe
there whose reader drops lines in that C++ log format and passes every
other line through (Python warnings, our own errors), so a worker process
started by `reproduce`, which inherits the descriptor, is filtered too.
"""

import atexit
import os
import re
import sys
import threading

NOISE = re.compile(
    rb"^(?:[IWEF]\d{4} \d\d:\d\d:\d+\.\d+\s+\d+ [\w.]+:\d+\] "  # absl / glog C++ log lines
    rb"|WARNING: All log messages before absl::InitializeLog\(\) is called"
    rb"|To enable the following instructions: "  # the second line of the CPU-features notice
    rb"|WARNING:tensorflow:\d+ out of the last \d+ calls to <function TensorFlowTrainer\.make_\w+_function)"
)
"""A line of the backends' C++ logging (and the lines that belong to it), and
TensorFlow's retracing notice about Keras's step functions. That notice
counts traces by the Python function's id, which the step function of each
new model reuses once an earlier model is gone: a run makes many models (DEC
stages, backbones predicted for k-means, fold models), each traced once or
twice (`tests/data/test_bucketing.py` pins that a prediction traces no more),
and TensorFlow adds them up as if one function retraced."""

_installed = []


def print_line(line):
    """`print`, flushed: progress lines (of worker processes too) reach the terminal or log at once."""
    print(line, flush=True)


def is_backend_noise(line):
    """Whether `line` (bytes) is a start-up/log line of the backend's C++ runtime."""
    return bool(NOISE.match(line))


def filter_backend_noise():
    """Keeps the backend's C++ log lines off standard error, from now until exit.

    Everything else written to standard error still reaches it, a line at a
    time. Idempotent; restored (and drained) at interpreter exit.
    """
    if _installed:
        return
    sys.stderr.flush()
    terminal = os.dup(2)
    read, write = os.pipe()
    os.dup2(write, 2)
    os.close(write)

    def pump():
        with os.fdopen(read, "rb") as source, os.fdopen(terminal, "wb", buffering=0) as sink:
            for line in source:
                if not is_backend_noise(line):
                    sink.write(line)

    thread = threading.Thread(target=pump, name="stderr-filter", daemon=True)
    saved = os.dup(terminal)

    def restore():
        sys.stderr.flush()
        os.dup2(saved, 2)  # closes the pipe's last writer here, so the reader drains and ends
        os.close(saved)
        thread.join(timeout=5)

    thread.start()
    atexit.register(restore)
    _installed.append(thread)
