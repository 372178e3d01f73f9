"""Where a scenario's files may be, and what they may be.

**The scenario folder.** Every path a scenario names — ``files:``, ``beds:`` and ``nursing:``
of scenario.yaml or a variant, and the files a beds or nursing YAML names — must lead, once
``..`` and symlinks are resolved, inside the *scenario folder*: the folder of the scenario file
at the bottom of the variant chain (the one without ``base:``, where ``files:`` resolve) or,
for a path a variant writes itself, the variant's own folder. An absolute path, ``../`` out of
it or a symlink pointing out of it is refused in one line naming the file and the key, unless
the caller allows it (``--allow-outside`` on the command line, ``allow_outside=True`` in the
library). So ``beds/beds.yaml`` may name ``../census.csv`` (the scenario's census), but not
``../../other_city/census.csv``.

``base:`` is not confined: a variant (a sweep's, a what-if kept in a folder of its own) names the
scenario it changes, and that scenario's folder becomes the scenario folder. The files an
``audit.yaml`` names stay inside the audit.yaml's own folder, on the same terms.

**Regular files only.** A path that is a folder, a FIFO, a device, a socket or a file of the
system's ``/proc``, ``/sys`` or ``/dev`` is refused by its kind before it is opened
(:func:`file_kind`): reading ``/dev/zero`` or a FIFO would never end, and a ``/proc`` file is
no data.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from pathlib import Path

from dingdian.errors import ScenarioError, clip

#: how an error says the rule can be lifted
ALLOW_HINT = "to read it anyway pass --allow-outside (allow_outside=True)"
#: the system's pseudo-file folders: nothing in them is a data file
SYSTEM_FOLDERS = ("proc", "sys", "dev")


def file_kind(path: str | Path) -> str | None:
    """What ``path`` is when it is no regular file to read (``'a folder'``, ``'a FIFO (named
    pipe)'``, ``'a device'``, ``'a socket'``, ``'a system file (/proc)'``); None for a regular
    file, and for a path that does not exist (the caller says "not found")."""
    try:
        mode = os.stat(path).st_mode
    except (OSError, ValueError):
        return None
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if not stat.S_ISREG(mode):
        return "not a regular file"
    parts = Path(path).resolve().parts
    if len(parts) > 1 and parts[0] == "/" and parts[1] in SYSTEM_FOLDERS:
        return f"a system file (/{parts[1]})"
    return None


def refuse_special(path: str | Path, file: str | None = None, field: str | None = None) -> None:
    """Raise a :class:`~dingdian.errors.ScenarioError` when ``path`` is no regular file
    (:func:`file_kind`), naming ``file`` (default: the path's name) and ``field``."""
    kind = file_kind(path)
    if kind is not None:
        raise ScenarioError(file or Path(path).name, None, field,
                            f"{clip(path)} is {kind}, not a data file")


def inside(path: str | Path, folders: Iterable[str | Path]) -> bool:
    """Whether ``path``, ``..`` and symlinks resolved, lies in one of ``folders`` (resolved)."""
    target = Path(path).resolve()
    return any(target.is_relative_to(Path(f).resolve()) for f in folders)


def confine(path: str | Path, folders: Iterable[str | Path], *, file: str, field: str,
            shown: str | None = None, allow_outside: bool = False,
            what: str = "the scenario folder") -> None:
    """Check the file ``path`` named under ``field`` of ``file`` (as ``shown``): inside
    ``folders`` (the first is the one the message names) unless ``allow_outside``, and no
    folder, FIFO, device or system file in any case. Problems raise one
    :class:`~dingdian.errors.ScenarioError`."""
    folders = [Path(f) for f in folders]
    if not allow_outside and not inside(path, folders):
        name = folders[0].resolve().name
        raise ScenarioError(file, None, field,
                            f"{clip(shown if shown is not None else path)!r} leads outside "
                            f"{what} {name}/ (an absolute path, ../ or a symlink out of it); "
                            f"{ALLOW_HINT}")
    refuse_special(path, file, field)
