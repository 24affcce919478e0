import keras

from applications.devices import resolve_jit_compile


def test_auto_jit_compile_means_no_xla_for_tensorflow_on_a_cpu_only():
    assert resolve_jit_compile(True) is True and resolve_jit_compile(False) is False
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        expected = "auto" if tf.config.list_physical_devices("GPU") else False
        assert resolve_jit_compile("auto") == expected
    else:
        assert resolve_jit_compile("auto") == "auto"


def test_jax_keeps_compiled_steps_in_the_users_cache_unless_a_folder_is_named(tmp_path):
    from applications.devices import JAX_CACHE, keep_compiled_steps

    environ = {"XDG_CACHE_HOME": str(tmp_path)}
    keep_compiled_steps(environ)
    assert environ[JAX_CACHE] == str(tmp_path / "mosi_keras" / "jax_compilation_cache")
    named = {JAX_CACHE: "/elsewhere", "XDG_CACHE_HOME": str(tmp_path)}
    keep_compiled_steps(named)
    assert named[JAX_CACHE] == "/elsewhere"


def test_the_command_line_names_jax_a_compilation_cache_before_a_backend_is_loaded(tmp_path):
    """In a fresh process, as `mosi-keras` starts: the folder is in the environment JAX is imported into."""
    import os
    import subprocess
    import sys

    env = {name: value for name, value in os.environ.items() if name != "JAX_COMPILATION_CACHE_DIR"}
    env.update(XDG_CACHE_HOME=str(tmp_path), KERAS_BACKEND="jax")
    script = ("import sys, applications.experiments.cli as cli; cli.main(['predict', 'missing.keras', '--data', "
              "'missing.npz', '--out', 'p.csv']); import jax; print(jax.config.jax_compilation_cache_dir)")
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, cwd=tmp_path)
    assert done.stdout.strip().splitlines()[-1] == str(tmp_path / "mosi_keras" / "jax_compilation_cache")
