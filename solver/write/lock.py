"""One run at a time per output folder, and the leftovers of a run that was killed.

A run that writes a folder ``OUT`` (``dingdian solve``, ``replan``, ``sweep``, ``report`` and
every atomic write of :mod:`dingdian.write.outputs`) holds :func:`output_lock` on it for the
whole run: an exclusive ``flock`` on the hidden file ``.OUT.lock`` beside ``OUT`` (in its parent
folder; ``OUT`` itself is replaced whole, so a lock inside it would be replaced too), which holds
the holder's process id. A second run on the same ``OUT`` fails at once with
:class:`OutputBusy`, naming that pid, before it solves or writes anything. The lock file is
removed when the run ends (a parent folder the lock had to create is removed too, when the run
wrote nothing into it); a run killed by ``kill -9`` leaves the file, but the kernel has released
its lock, so the next run takes it over and removes it. Within one process the lock is
re-entrant: the command line holds it around the solve and the writer takes it again.

A run writes ``OUT`` in a temporary sibling ``.OUT.tmp-<pid>-…`` and moves the old folder to
``.OUT.old-<pid>-…`` while it swaps the two (:func:`dingdian.write.outputs.atomic_directory`;
``report`` likewise inside ``OUT``). A run killed in between (SIGKILL, power loss) leaves them
behind; :func:`remove_leftovers`, called under the lock by the next run, removes those whose
process is no longer alive. A name without a pid (an older dingdian's) is removed too: under the
lock no other run is writing ``OUT``.

On a file system without ``flock`` (some network mounts) the run goes ahead unlocked.
"""

from __future__ import annotations

import errno
import os
import re
import shutil
import threading
from pathlib import Path

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None

#: errors of ``flock`` that mean "the file system cannot lock": the run goes ahead unlocked
_NO_LOCKING = {errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOSYS, errno.EINVAL}
_HELD: dict[tuple[int, int], list] = {}  # (dev, inode) → [fd, depth, path, created folders]
_GUARD = threading.Lock()


class OutputBusy(OSError):
    """Another run holds the lock on an output folder; ``str()`` is one line."""

    def __init__(self, out, pid: int | None) -> None:
        self.out, self.pid = str(out), pid
        who = f"pid {pid}" if pid else "another process"
        super().__init__(errno.EBUSY, f"{out} is busy: another dingdian run ({who}) is writing "
                                      "it; try again when it has finished")

    def __str__(self) -> str:
        return self.strerror


def lock_path(out) -> Path:
    """The lock file of the output folder ``out``: ``.<name>.lock`` in its parent folder."""
    out = Path(os.path.abspath(out))
    return out.parent / f".{out.name}.lock"


class output_lock:  # noqa: N801 - used as a function: ``with output_lock(out): …``
    """Hold the lock on the output folder ``out`` for the ``with`` block (module docstring).

    Raises :class:`OutputBusy` when another process holds it, ``OSError`` when the lock file
    cannot be made (an unwritable parent folder).
    """

    def __init__(self, out) -> None:
        self.out = out
        self.path = lock_path(out)
        self._key: tuple[int, int] | None = None

    def __enter__(self) -> output_lock:
        with _GUARD:
            self._key = _acquire(self.out, self.path)
        return self

    def __exit__(self, *exc) -> None:
        with _GUARD:
            _release(self._key)
        self._key = None


def _made_parents(folder: Path) -> list[Path]:
    """Create ``folder`` and its missing parents; return those created, deepest first."""
    missing = []
    while not folder.exists():
        missing.append(folder)
        folder = folder.parent
    for f in reversed(missing):
        f.mkdir(exist_ok=True)
    return missing


def _acquire(out, path: Path) -> tuple[int, int]:
    created = _made_parents(path.parent)
    try:
        return _lock(out, path, created)
    except BaseException:
        _remove_folders(created)
        raise


def _lock(out, path: Path, created: list[Path]) -> tuple[int, int]:
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o644)
        st = os.fstat(fd)
        key = (st.st_dev, st.st_ino)
        if key in _HELD:  # this process holds it already
            os.close(fd)
            _HELD[key][1] += 1
            return key
        try:
            locked = _try_lock(fd)
        except BaseException:
            os.close(fd)
            raise
        if not locked:
            pid = _holder(fd)
            os.close(fd)
            raise OutputBusy(out, pid)
        try:  # the run before may have removed the file after this one opened it
            now = os.stat(path)
            same = (now.st_dev, now.st_ino) == key
        except FileNotFoundError:
            same = False
        if not same:
            os.close(fd)
            continue
        try:
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()}\n".encode())
        except OSError:  # a full disk: the lock holds all the same, its pid unsaid
            pass
        _HELD[key] = [fd, 1, path, created]
        return key


def _try_lock(fd: int) -> bool:
    """Lock ``fd`` without waiting: False when another process holds it."""
    if fcntl is None:  # pragma: no cover - Windows: a byte far past the pid
        import msvcrt

        os.lseek(fd, 1 << 20, os.SEEK_SET)
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        finally:
            os.lseek(fd, 0, os.SEEK_SET)
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
            return False
        if exc.errno in _NO_LOCKING:
            return True
        raise
    return True


def _holder(fd: int) -> int | None:
    """The pid written in the lock file (None while the holder has not written it yet)."""
    try:
        text = os.pread(fd, 32, 0).decode("ascii", "replace")
    except OSError:
        return None
    return int(text.strip()) if text.strip().isdigit() else None


def _release(key: tuple[int, int] | None) -> None:
    entry = _HELD.get(key) if key is not None else None
    if entry is None:
        return
    entry[1] -= 1
    if entry[1] > 0:
        return
    fd, _, path, created = _HELD.pop(key)
    try:  # removed while still locked, so that no run locks a file about to go
        st = os.stat(path)
        if (st.st_dev, st.st_ino) == key:
            os.unlink(path)
    except OSError:
        pass
    os.close(fd)  # releases the lock
    _remove_folders(created)


def _remove_folders(created: list[Path]) -> None:
    """The parent folders the lock made (deepest first), when nothing was written into them."""
    for folder in created:
        try:
            folder.rmdir()
        except OSError:
            break


# --------------------------------------------------------------------------- leftovers
def leftover_name(name: str, what: str) -> str:
    """The prefix of a temporary (``what="tmp"``) or replaced (``"old"``) copy of ``name``,
    with this process's id: ``.OUT.tmp-1234-``."""
    return f".{name}.{what}-{os.getpid()}-"


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    if os.name != "posix":  # pragma: no cover - no signal 0 elsewhere; the lock decides
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def remove_leftovers(folder, name: str) -> list[Path]:
    """Remove ``folder/.<name>.tmp-*`` and ``.<name>.old-*`` left by runs no longer alive
    (module docstring); return what was removed. Call it holding the lock on ``name``."""
    folder = Path(folder)
    pattern = re.compile(rf"\.{re.escape(name)}\.(?:tmp|old)-(?:(\d+)-)?[a-z0-9_]+")
    removed = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        m = pattern.fullmatch(entry.name)
        if not m or (m.group(1) and _alive(int(m.group(1)))):
            continue
        path = Path(entry.path)
        if entry.is_dir(follow_symlinks=False):
            shutil.rmtree(path, ignore_errors=True)
        else:
            try:
                path.unlink()
            except OSError:
                continue
        removed.append(path)
    return removed
