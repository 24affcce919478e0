import subprocess
import sys

import pytest

from applications.experiments.console import is_backend_noise


def test_backend_log_lines_are_noise_and_other_lines_are_not():
    assert is_backend_noise(b"I0000 00:00:1796139172.370578    6890 port.cc:153] oneDNN custom operations are on.\n")
    assert is_backend_noise(b"E0000 00:00:1796139177.081688    6890 cuda_platform.cc:52] failed call to cuInit\n")
    assert is_backend_noise(b"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n")
    assert is_backend_noise(b"To enable the following instructions: AVX2 AVX512F FMA, in other operations\n")
    assert not is_backend_noise(b"<string>:6: UserWarning: replaced 3 non-finite value(s) in modality 'text'\n")
    assert not is_backend_noise(b"mosi-keras reproduce: error: x.npz: not a .npz (zip) archive\n")
    assert is_backend_noise(b"WARNING:tensorflow:5 out of the last 5 calls to <function TensorFlowTrainer."
                            b"make_predict_function.<locals>.one_step_on_data_distributed at 0x7f> triggered "
                            b"tf.function retracing.\n")  # counted over the models of a run (console.NOISE)
    assert not is_backend_noise(b"WARNING:tensorflow:5 out of the last 5 calls to <function my_step at 0x7f> "
                                b"triggered tf.function retracing.\n")  # a function of one's own still shows


@pytest.mark.slow  # run with -m slow; in the default suite: the line classifier test
def test_the_filter_keeps_tensorflows_start_up_lines_off_stderr_and_lets_warnings_through():
    script = (
        "from applications.experiments.console import filter_backend_noise\n"
        "filter_backend_noise()\n"
        "import sys, warnings, tensorflow as tf\n"
        "tf.config.list_physical_devices('GPU')\n"
        "warnings.warn('a real warning')\n"
        "print('an error of ours', file=sys.stderr)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0
    assert "a real warning" in done.stderr and "an error of ours" in done.stderr
    assert not [line for line in done.stderr.splitlines() if is_backend_noise(line.encode() + b"\n")]
    unfiltered = subprocess.run([sys.executable, "-c", "import tensorflow"], capture_output=True, text=True,
                                timeout=120)
    assert [line for line in unfiltered.stderr.splitlines() if is_backend_noise(line.encode() + b"\n")]
