"""Write a file safely: into a temporary file beside it, then rename into place.

A reader never sees half a file, an existing file is never replaced without `force` (and
when it is, the new file keeps the old one's permissions: a `chmod 600` export stays
private), and the usual failures (no such folder, no permission, disk full) become one clear
InputError instead of a traceback.
"""

from __future__ import annotations

import errno
import os
import re
import stat
import uuid
from collections.abc import Callable
from pathlib import Path

from core.errors import InputError

NAME_MAX = 255  # bytes per file name on ext4, APFS, NTFS and most others, when the system cannot say
# Polars reports I/O failures from Rust as "... (os error 28)", without an errno.
_OS_ERROR_CODE = re.compile(r"\(os error (\d+)\)")
# errno values where a hard link cannot be made, so the no-clobber rename falls back.
_NO_HARDLINKS = {errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV, errno.EMLINK, errno.ENOSYS}


def safe_write(path: str | Path, write: Callable[[Path], None], *, force: bool = False) -> Path:
    """Write through `write(tmp_path)` and rename into place; returns the final path."""
    path = Path(path).expanduser()
    check_target(path, force=force)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    if len(os.fsencode(tmp.name)) > _name_max(path.parent):  # a long but valid name: shorter temporary
        tmp = path.with_name(f".loyalist-{uuid.uuid4().hex[:8]}.tmp")
    try:
        try:
            write(tmp)
        except Exception as exc:
            io_error = _io_error(exc)
            if io_error is None:  # not the file system's fault: a bug, said as one
                raise
            raise io_error from exc
        if force:
            _keep_mode(path, tmp)
        _move_into_place(tmp, path, force=force)
    except OSError as exc:
        raise _explain(exc, path) from None
    finally:
        tmp.unlink(missing_ok=True)
    return path


def check_target(path: Path, *, force: bool) -> None:
    """Fail early, before any work, when the file could not be written anyway."""
    check_name(path)
    try:
        _check_place(path, force=force)
    except OSError as exc:  # a path the system refuses to even look at (too long, a loop...)
        raise _explain(exc, path) from None


def check_name(path: Path) -> None:
    """A NUL, or a name longer than the file system allows, is refused with the limit."""
    text = str(path)
    if "\x00" in text:
        shown = text.replace("\x00", "\\0")
        raise InputError(f"the file name contains a NUL character (shown as \\0): {shown}",
                         fix="remove it from the name")
    limit = _name_max(_existing_parent(path))
    for part in path.parts:
        size = len(os.fsencode(part))
        if size > limit:
            raise InputError(f"the name {part[:40]}… is too long ({size} bytes; this file system allows {limit})",
                             file=text[:120] + "…", fix="choose a shorter name")


def _existing_parent(path: Path) -> Path:
    for folder in path.absolute().parents:
        try:
            if folder.is_dir():
                return folder
        except OSError:
            continue
    return Path("/")


def _name_max(folder: Path) -> int:
    try:
        return os.pathconf(folder, "PC_NAME_MAX")
    except (OSError, ValueError, AttributeError):  # not a POSIX system, or the folder is gone
        return NAME_MAX


def _check_place(path: Path, *, force: bool) -> None:
    if path.is_dir():
        raise InputError("is a folder, not a file name", file=str(path), fix="give a file name such as result.csv")
    if path.exists() and not force:
        raise InputError("already exists", file=str(path), fix="pass --force to overwrite it, or choose another name")
    parent = path.parent
    if not parent.exists():
        raise InputError("the folder does not exist", file=str(parent),
                         fix="create the folder first, or check the path")
    if not parent.is_dir():
        raise InputError("is a file, not a folder", file=str(parent), fix="choose an output path inside a folder")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise InputError("the folder cannot be written (permission denied)", file=str(parent),
                         fix="choose a folder you can write to")


def _keep_mode(old: Path, new: Path) -> None:
    try:
        mode = stat.S_IMODE(os.stat(old).st_mode)
    except FileNotFoundError:
        return
    os.chmod(new, mode)


def _move_into_place(tmp: Path, path: Path, *, force: bool) -> None:
    if force:
        os.replace(tmp, path)
        return
    # A hard link fails if the name exists, so a file that appeared since the check is kept.
    try:
        os.link(tmp, path)
    except FileExistsError:
        raise InputError("already exists", file=str(path),
                         fix="pass --force to overwrite it, or choose another name") from None
    except OSError as exc:
        if exc.errno not in _NO_HARDLINKS:
            raise
        if path.exists():
            raise InputError("already exists", file=str(path),
                             fix="pass --force to overwrite it, or choose another name") from None
        os.replace(tmp, path)


def _io_error(exc: BaseException) -> OSError | None:
    """The OSError behind a writer's exception, with its errno: xlsxwriter wraps it in
    FileCreateError, Polars raises OSError or ComputeError saying "(os error 28)"."""
    seen: list[BaseException] = []
    todo: list[object] = [exc]
    while todo:
        item = todo.pop()
        if not isinstance(item, BaseException) or item in seen:
            continue
        seen.append(item)
        if isinstance(item, OSError) and item.errno is not None:
            return item
        todo += [item.__cause__, item.__context__, *item.args]
    for item in seen:
        found = _OS_ERROR_CODE.search(str(item))
        if found:
            code = int(found.group(1))
            return OSError(code, os.strerror(code))
    return None


def _explain(exc: OSError, path: Path) -> InputError:
    if exc.errno in (errno.EACCES, errno.EPERM):
        return InputError("cannot be written here (permission denied)", file=str(path),
                          fix="choose a folder you can write to")
    if exc.errno == errno.EROFS:
        return InputError("is on a read-only file system", file=str(path), fix="choose a writable folder")
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return InputError("could not be written: the disk is full", file=str(path),
                          fix="free some space or write elsewhere")
    if exc.errno == errno.ENAMETOOLONG:
        return InputError("the file name is too long", file=str(path), fix="choose a shorter name")
    if exc.errno == errno.ENOENT:
        return InputError("the folder disappeared while writing", file=str(path.parent),
                          fix="check the path and try again")
    return InputError(f"could not be written ({exc.strerror or exc})", file=str(path),
                      fix="check the path and try again")
