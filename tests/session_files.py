"""Files one test session shares between its xdist workers, and work done once for all of them."""

import fcntl
import os
import tempfile
from pathlib import Path


def session_folder():
    """One folder per test session, shared by its xdist workers
    (`PYTEST_XDIST_TESTRUNUID`; a session without xdist has its own)."""
    session = os.environ.get("PYTEST_XDIST_TESTRUNUID") or f"pid{os.getpid()}"
    folder = Path(tempfile.gettempdir()) / "mosi_keras_test_sessions" / session
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def once_per_session(name, make):
    """The folder `<session_folder>/<name>`, filled by `make(folder)` once
    for the whole session, whichever worker asks first.

    The first caller holds a lock on the folder while `make` runs; any
    other worker waits for it, then finds the work done and reads it.
    This does not depend on how xdist schedules tests (its `loadgroup`
    grouping, which pytest 9 broke in xdist 3.8, only saves the waiting).
    A `make` that raises leaves the folder unfinished: the next caller
    tries again and sees the same error.
    """
    folder = session_folder() / name
    folder.mkdir(exist_ok=True)
    with open(folder.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (folder.with_suffix(".done")).exists():
            make(folder)
            folder.with_suffix(".done").touch()
    return folder
