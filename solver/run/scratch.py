"""One scratch folder per run for the solvers' files, removed on every way out.

CBC reads the model from an MPS file PuLP writes and writes its solution and log beside it;
CP-SAT reads the MPS file OR-tools imports. All of a run's such files go into one folder,
``<tempdir>/dingdian-run-<pid>-<random>/`` (``tempdir`` as :func:`tempfile.gettempdir` finds
it: ``$TMPDIR``, else ``/tmp``), made by :func:`run_folder`:

* holders nest: the outermost ``with run_folder()`` (the whole solve pipeline,
  :func:`dingdian.pipeline.solving.solve`) makes the folder, the solvers' own ``with
  run_folder()`` inside it share it, and the outermost removes it when it leaves — on success,
  on an error and on Ctrl-C alike. A solver called on its own gets a folder for that call;
* a run killed outright (SIGKILL) cannot remove its folder: the next run that makes one
  removes every ``dingdian-run-*`` folder of this user whose pid (in its name) no longer runs
  and whose ``.lock`` no process holds. The run locks ``.lock`` (``flock``) while it lives and
  the kernel drops the lock when the process dies, so a folder shared with a process of
  another PID namespace (a container) is not taken for a leftover.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

try:
    import fcntl
except ImportError:  # pragma: no cover - not on POSIX
    fcntl = None

PREFIX = "dingdian-run-"
LOCK = ".lock"

_guard = threading.Lock()
_held: dict = {"folder": None, "depth": 0, "lock": None}


@contextmanager
def run_folder() -> Iterator[Path]:
    """The run's scratch folder (module docstring): made by the outermost holder, after the
    leftovers of killed runs are removed, and removed with everything in it when that holder
    leaves."""
    with _guard:
        if _held["depth"] == 0:
            sweep()
            _held["folder"], _held["lock"] = _make()
        _held["depth"] += 1
        folder = _held["folder"]
    try:
        yield folder
    finally:
        with _guard:
            _held["depth"] -= 1
            if _held["depth"] == 0:
                shutil.rmtree(folder, ignore_errors=True)
                if _held["lock"] is not None:
                    os.close(_held["lock"])
                _held["folder"] = _held["lock"] = None


def _make() -> tuple[Path, int | None]:
    folder = Path(tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-"))
    if fcntl is None:  # pragma: no cover - not on POSIX
        return folder, None
    fd = os.open(folder / LOCK, os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)
    return folder, fd


def sweep(tempdir: str | Path | None = None) -> list[Path]:
    """Remove the run folders of killed runs in ``tempdir`` (default: the system's); return
    them. A folder of a live run, or of another user, is left alone."""
    removed = []
    for folder in Path(tempdir or tempfile.gettempdir()).glob(PREFIX + "*"):
        try:
            mine = folder.is_dir() and folder.stat().st_uid == os.getuid()
        except (OSError, AttributeError):
            continue
        if mine and folder != _held["folder"] and _left_over(folder):
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed


def _left_over(folder: Path) -> bool:
    """True when no live process holds the folder: the pid in its name no longer runs and
    nobody holds its lock (a process of another PID namespace sharing the folder would)."""
    pid = folder.name[len(PREFIX):].split("-")[0]
    if not pid.isdigit() or _alive(int(pid)):
        return False
    lock = folder / LOCK
    if fcntl is None or not lock.exists():
        return True
    try:
        fd = os.open(lock, os.O_RDWR)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except OSError:
        return False
    finally:
        os.close(fd)  # also drops the lock just taken


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # e.g. no permission: the process exists
        return True
    return True
