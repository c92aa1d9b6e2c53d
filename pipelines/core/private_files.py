"""Owner-only files and folders for person-level data, whatever the umask.

Person-level data (the working warehouse `kaira.duckdb` and its WAL, quarantined files and
their reasons, run logs, alerts, dbt's profile and target folders, Dagster's storage) is
created readable by its owner only: files 0600, folders 0700. Published tables and the
follow-up reports are not written through this module and keep the process's umask
(0644/0755 under the usual 022). docs/security.md lists every path.

Two ways, for two kinds of writer:

- Kaira's own writes use the functions here, which pass an explicit mode to the system
  call (`os.open(..., 0o600)`, `os.mkdir(..., 0o700)`) and then `chmod` to that mode, so
  neither the umask nor an older, looser file from before this module changes the result.
- Files that third-party code creates (DuckDB's database, WAL and spill folder, dbt's
  target and logs, SQLite under Dagster's home) are created inside `private_umask()`,
  which sets the umask to 077 for the duration.

The umask is per process, not per thread: while one thread is inside `private_umask()`,
files created by every thread of the process are owner-only. That errs on the private
side only; the nesting count below makes sure the umask the process started with is
restored when the last thread leaves, whatever order the threads leave in. A child
process started inside the block (dbt) inherits the umask 077 for its whole life.
"""

from __future__ import annotations

import os
import stat
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PRIVATE_FILE_MODE = 0o600
PRIVATE_DIR_MODE = 0o700
PRIVATE_UMASK = 0o077

_umask_lock = threading.Lock()
_umask_depth = 0
_umask_saved: int | None = None


@contextmanager
def private_umask() -> Iterator[None]:
    """Within the block, new files and folders of this process (and of the children it
    starts) are created owner-only."""
    global _umask_depth, _umask_saved
    with _umask_lock:
        if _umask_depth == 0:
            _umask_saved = os.umask(PRIVATE_UMASK)
        _umask_depth += 1
    try:
        yield
    finally:
        with _umask_lock:
            _umask_depth -= 1
            if _umask_depth == 0 and _umask_saved is not None:
                os.umask(_umask_saved)
                _umask_saved = None


def make_private(path: Path) -> None:
    """Tighten an existing file to 0600 or folder to 0700 (a symbolic link is left alone:
    chmod would change its target). Missing paths are ignored."""
    path = Path(path)
    try:
        status = path.lstat()
    except FileNotFoundError:
        return
    if stat.S_ISLNK(status.st_mode):
        return
    wanted = PRIVATE_DIR_MODE if stat.S_ISDIR(status.st_mode) else PRIVATE_FILE_MODE
    if stat.S_IMODE(status.st_mode) != wanted:
        os.chmod(path, wanted)


def make_tree_private(root: Path) -> None:
    """`make_private` on `root` and everything below it (symbolic links are not followed)."""
    root = Path(root)
    if not root.exists():
        return
    make_private(root)
    for folder, folders, files in os.walk(root):
        for name in folders + files:
            make_private(Path(folder) / name)


def private_dir(path: Path, *, root: Path | None = None) -> Path:
    """Create `path` (and missing parents) and return it; `path` and every folder between
    `root` and it are owner-only. Folders above `root` (default: `path` itself) are created
    as `mkdir -p` would and are not changed: they may hold public files too (the warehouse
    folder holds the published tables)."""
    path = Path(path)
    root = Path(root) if root is not None else path
    if root != path and root not in path.parents:
        raise ValueError(f"{root} is not a parent of {path}")
    root.parent.mkdir(parents=True, exist_ok=True)
    parts = path.relative_to(root).parts
    for current in [root, *(root.joinpath(*parts[: i + 1]) for i in range(len(parts)))]:
        try:
            os.mkdir(current, PRIVATE_DIR_MODE)
        except FileExistsError:
            pass
        make_private(current)
    return path


def open_private(path: Path, mode: str = "w", *, encoding: str | None = "utf-8", **kwargs):
    """`open()` for a new or existing owner-only file: 'w', 'a', 'wb', 'ab' (plus '+')."""
    path = Path(path)
    flags = os.O_CREAT | (os.O_APPEND if "a" in mode else os.O_TRUNC)
    flags |= os.O_RDWR if "+" in mode else os.O_WRONLY
    descriptor = os.open(path, flags | getattr(os, "O_CLOEXEC", 0), PRIVATE_FILE_MODE)
    try:
        os.fchmod(descriptor, PRIVATE_FILE_MODE)  # an existing file keeps its mode in os.open
        if "b" in mode:
            return os.fdopen(descriptor, mode, **kwargs)
        return os.fdopen(descriptor, mode, encoding=encoding, **kwargs)
    except BaseException:
        os.close(descriptor)
        raise


def write_private_text(path: Path, text: str, *, encoding: str = "utf-8") -> Path:
    with open_private(path, "w", encoding=encoding) as out:
        out.write(text)
    return Path(path)


def copy_private(source: Path, target: Path, chunk_size: int = 1 << 20) -> Path:
    """Copy the bytes of `source` into a new owner-only `target` (shutil.copy2 would give
    the copy the source's mode, readable by all for a landed file). The modification
    time is kept, as copy2 keeps it."""
    with open(source, "rb") as incoming, open_private(target, "wb", encoding=None) as outgoing:
        while chunk := incoming.read(chunk_size):
            outgoing.write(chunk)
    status = os.stat(source)
    os.utime(target, ns=(status.st_atime_ns, status.st_mtime_ns))
    return Path(target)


def make_database_private(database: Path) -> None:
    """A DuckDB database, its WAL and its spill folder (`<file>.tmp`): owner-only, where they exist."""
    database = Path(database)
    for suffix in ("", ".wal", ".tmp"):
        make_private(database.with_name(database.name + suffix))
