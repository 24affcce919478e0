import keras

from applications.experiments.devices import resolve_jit_compile


def test_auto_jit_compile_means_no_xla_for_tensorflow_on_a_cpu_only():
    assert resolve_jit_compile(True) is True and resolve_jit_compile(False) is False
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        expected = "auto" if tf.config.list_physical_devices("GPU") else False
        assert resolve_jit_compile("auto") == expected
    else:
        assert resolve_jit_compile("auto") == "auto"
