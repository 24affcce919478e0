"""One writer per output folder: a lock that a killed run does not leave behind."""

import errno
import json
import os
import socket
import sys
import time

try:
    import fcntl
except ImportError:  # Windows: no advisory locks; runs go unguarded there
    fcntl = None

LOCK_NAME = ".mosi-keras.lock"


class FolderInUse(RuntimeError):
    """Raised when another live process writes to the folder (the message
    names it), or when the folder cannot be locked at all (the message says
    why, e.g. a file system without locks)."""


class FolderLock:
    """Holds `<folder>/.mosi-keras.lock` while a command writes to `folder`.

    The lock is the operating system's advisory lock on that file
    (`fcntl.flock`), which ends with the process that holds it, however it
    ends: a run killed with SIGKILL leaves the file but not the lock, so the
    next run takes it. While it is held, the file names the holder (process
    id, host, command, start time), and a second writer is refused with a
    `FolderInUse` that says so. Where `fcntl` does not exist (Windows) the
    folder is not guarded.

    Args:
        folder: the output folder (created if absent).
        command: what holds it, for the message (e.g. `"mosi-keras reproduce"`).

    Example:

    >>> import tempfile
    >>> folder = tempfile.mkdtemp()
    >>> with FolderLock(folder, "example"):
    ...     pass
    """

    def __init__(self, folder, command=None):
        self.folder = str(folder)
        self.command = command or " ".join(sys.argv)
        self.path = os.path.join(self.folder, LOCK_NAME)
        self.file = None

    def __enter__(self):
        if fcntl is None:
            return self
        os.makedirs(self.folder, exist_ok=True)
        self.file = open(self.path, "a+")
        try:
            fcntl.flock(self.file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as error:
            if error.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):  # not "held by another"
                self.file.close()
                self.file = None
                raise FolderInUse(f"{self.folder}: cannot lock {LOCK_NAME} ({error.strerror or error}), so a second "
                                  "writer could not be kept out: the file system may not support locks (a network "
                                  "mount); choose a local --out.") from None
            self.file.seek(0)
            holder = self.file.read()
            self.file.close()
            self.file = None
            raise FolderInUse(f"{self.folder} is being written by {describe(holder)}; wait for it to end or "
                              "choose another --out.") from None
        self.file.seek(0)
        self.file.truncate()
        json.dump({"pid": os.getpid(), "host": socket.gethostname(), "command": self.command,
                   "started": time.strftime("%Y-%m-%d %H:%M:%S")}, self.file)
        self.file.flush()
        return self

    def __exit__(self, *exc):
        if self.file is not None:
            self.file.seek(0)
            self.file.truncate()
            fcntl.flock(self.file, fcntl.LOCK_UN)
            self.file.close()
            self.file = None
        return False


def describe(holder):
    """`process 123 on host (command, since time)` from a lock file's text."""
    try:
        info = json.loads(holder)
        return f"process {info['pid']} on {info['host']} ({info['command']}, since {info['started']})"
    except (ValueError, KeyError, TypeError):
        return "another process"
