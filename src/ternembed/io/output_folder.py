"""The one way ternembed writes a model, run or index folder: checked first, built aside, swapped in.

:func:`check_output_folder` runs before any long work: the output must not be (or lie inside, or
contain) an input, an existing non-empty folder is replaced only with ``overwrite`` and only when it
holds one of our markers (:data:`OWN_FOLDER_MARKERS`), and the place must be writable.
:func:`write_output_folder` then builds the folder in a hidden staging folder beside the target and
swaps it in: with ``renameat2(RENAME_EXCHANGE)`` on Linux (one atomic step), elsewhere by renaming
the old folder aside first. Whatever moment a process is killed at, :func:`recover_output_folder`
(run at the next start) puts a moved-aside old folder back if the target is missing and removes
staging folders of dead processes. Folders are created with the process umask, like ``mkdir``.
"""

from __future__ import annotations

import ctypes
import errno
import os
import platform
import re
import secrets
import shutil
from collections.abc import Callable, Iterable
from pathlib import Path

from ternembed.config import CONFIG_FILENAME
from ternembed.errors import TernembedError
from ternembed.io.errors import FolderNotEmptyError

INDEX_CONFIG_FILE = "index_config.json"
"""The marker of an index folder (written last by an index build)."""
RUN_CONFIG_FILE = "distill_config.json"
"""The full run configuration, written beside a distilled model."""
IMAGE_ENCODER_FILE = "image_encoder.json"
"""The marker of an image-encoder folder (full precision or ternary)."""
OWN_FOLDER_MARKERS = (CONFIG_FILENAME, RUN_CONFIG_FILE, INDEX_CONFIG_FILE, IMAGE_ENCODER_FILE)
"""A non-empty folder holding one of these files was written by ternembed and may be replaced."""

STAGING_SUFFIX = ".staging"
OLD_SUFFIX = ".old"
_AT_FDCWD = -100
_RENAME_EXCHANGE = 2
_RENAMEAT2_SYSCALL = {"x86_64": 316, "aarch64": 276}


class OutputFolderError(TernembedError, OSError):
    """An output folder may not or cannot be written (it is an input, not ours, unwritable, disk full)."""


class ForeignFolderError(OutputFolderError, FileExistsError):
    """The output folder holds files that ternembed did not write; it is never replaced."""


def resolve_output(path: str | os.PathLike) -> Path:
    """``path`` made absolute with symlinks resolved; a symlink loop is a one-line error."""
    try:
        return Path(path).expanduser().resolve()
    except (RuntimeError, OSError) as error:  # Python 3.11 raises RuntimeError for a loop
        raise OutputFolderError(f"output {str(path)!r} cannot be resolved: {error}") from None


def is_own_folder(folder: Path) -> bool:
    """True for an empty folder or one holding a ternembed marker file."""
    return folder.is_dir() and (
        any((folder / marker).is_file() for marker in OWN_FOLDER_MARKERS) or not any(folder.iterdir())
    )


def check_output_folder(
    out: str | os.PathLike, *, overwrite: bool, inputs: Iterable[str | os.PathLike | None] = ()
) -> Path:
    """Refuse an output that would destroy data or fail late; return its resolved path.

    Args:
        out: the folder to write.
        overwrite: whether an existing non-empty folder of ours may be replaced.
        inputs: local files or folders the command reads (names that are not local paths are skipped).
    """
    target = resolve_output(out)
    check_apart(target, inputs)
    if target.exists():
        if not target.is_dir():
            raise OutputFolderError(f"output {str(target)!r} exists and is not a folder; choose another")
        if any(target.iterdir()):
            if not overwrite:
                raise FolderNotEmptyError(
                    f"{target} already exists and is not empty; choose another folder or pass overwrite=True "
                    "(--overwrite on the command line)"
                )
            if not is_own_folder(target):
                raise ForeignFolderError(
                    f"{str(target)!r} is not a ternembed model, run or index folder (none of "
                    f"{', '.join(OWN_FOLDER_MARKERS)}); it is never replaced, choose another output"
                )
    check_writable(target)
    return target


def check_writable(target: Path, *, into: bool = False) -> None:
    """Fail now, not after the work, when ``target`` could not be created or replaced (or, with
    ``into``, written into: a report folder that may already exist)."""
    ancestor = target if into else target.parent
    while not ancestor.exists() and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise OutputFolderError(f"cannot write {str(target)!r}: {str(ancestor)!r} is not a folder")
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise OutputFolderError(f"cannot write {str(target)!r}: no write permission in {str(ancestor)!r}")


def check_apart(target: Path, inputs: Iterable[str | os.PathLike | None]) -> None:
    """Refuse an output that is, lies inside or contains one of the local ``inputs``."""
    for source in inputs:
        if source is None or not Path(source).expanduser().exists():
            continue
        source_path = Path(source).expanduser().resolve()
        if target == source_path:
            relation = "is"
        elif source_path in target.parents:
            relation = "lies inside"
        elif target in source_path.parents:
            relation = "contains"
        else:
            continue
        raise OutputFolderError(
            f"output {str(target)!r} {relation} the input {str(source_path)!r}; choose an output folder elsewhere"
        )


def write_output_folder(
    out: str | os.PathLike,
    write: Callable[[Path], object],
    *,
    overwrite: bool,
    inputs: Iterable[str | os.PathLike | None] = (),
) -> Path:
    """Check ``out``, call ``write(staging_folder)`` and swap the result in; return the target.

    A failed or interrupted write leaves ``out`` as it was; an operating-system error while writing
    (a full disk, a read-only folder) becomes one :class:`OutputFolderError` naming the target.
    """
    target = check_output_folder(out, overwrite=overwrite, inputs=inputs)
    recover_output_folder(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = _sibling(target, STAGING_SUFFIX)
    try:
        os.mkdir(staging)
        write(staging)
        apply_umask(staging)
        replace_folder(staging, target)
    except OSError as error:
        shutil.rmtree(staging, ignore_errors=True)
        raise _write_error(target, error) from error
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target


def current_umask() -> int:
    """The process umask (read from ``/proc`` where possible: setting it to read it is not thread-safe)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def apply_umask(folder: Path) -> None:
    """Give ``folder`` and everything in it ordinary permissions (0644 files, 0755 folders under umask
    022); some writers (safetensors, ``tempfile``) create owner-only files."""
    mask = current_umask()
    folder.chmod(0o777 & ~mask)
    for root, folders, files in os.walk(folder):
        for name in folders:
            os.chmod(os.path.join(root, name), 0o777 & ~mask)
        for name in files:
            os.chmod(os.path.join(root, name), 0o666 & ~mask)


def _write_error(target: Path, error: OSError) -> OSError:
    if isinstance(error, OutputFolderError) or error.errno is None:
        return error
    where = f" ({error.filename})" if error.filename else ""
    return OutputFolderError(f"cannot write {str(target)!r}: {os.strerror(error.errno)}{where}")


def replace_folder(staging: Path, target: Path) -> None:
    """Move the finished ``staging`` folder to ``target``, replacing an existing one atomically."""
    if not os.path.lexists(target):
        os.rename(staging, target)
        return
    if exchange(staging, target):
        shutil.rmtree(staging, ignore_errors=True)  # it now holds the previous folder
        return
    old = _sibling(target, OLD_SUFFIX)
    os.rename(target, old)
    try:
        os.rename(staging, target)
    except BaseException:
        os.rename(old, target)
        raise
    shutil.rmtree(old, ignore_errors=True)


def exchange(first: Path, second: Path) -> bool:
    """Swap two existing paths in one atomic step (Linux ``renameat2``); False where unsupported."""
    function = _renameat2()
    if function is None:
        return False
    result = function(_AT_FDCWD, os.fsencode(first), _AT_FDCWD, os.fsencode(second), _RENAME_EXCHANGE)
    if result == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.EPERM):
        return False  # a kernel or file system without RENAME_EXCHANGE
    raise OSError(code, os.strerror(code), str(second))


def _renameat2() -> Callable[..., int] | None:
    if platform.system() != "Linux":
        return None
    libc = ctypes.CDLL(None, use_errno=True)
    function = getattr(libc, "renameat2", None)
    if function is not None:
        function.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
        function.restype = ctypes.c_int
        return function
    number = _RENAMEAT2_SYSCALL.get(platform.machine())
    if number is None:
        return None
    syscall = libc.syscall
    syscall.restype = ctypes.c_long

    def call(old_dir: int, old: bytes, new_dir: int, new: bytes, flags: int) -> int:
        return syscall(
            ctypes.c_long(number), ctypes.c_int(old_dir), ctypes.c_char_p(old), ctypes.c_int(new_dir),
            ctypes.c_char_p(new), ctypes.c_uint(flags),
        )  # fmt: skip

    return call


def recover_output_folder(target: Path) -> None:
    """Undo what a killed writer of ``target`` left: restore its moved-aside folder, drop staging folders."""
    if not target.parent.is_dir():
        return
    pattern = re.compile(rf"^\.{re.escape(target.name)}\.(\d+)\.[0-9a-f]+({STAGING_SUFFIX}|{OLD_SUFFIX})$")
    for entry in sorted(target.parent.iterdir()):
        found = pattern.match(entry.name)
        if found is None or _process_alive(int(found.group(1))):
            continue
        if found.group(2) == OLD_SUFFIX and not os.path.lexists(target):
            os.rename(entry, target)
        else:
            shutil.rmtree(entry, ignore_errors=True)


def _process_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _sibling(target: Path, suffix: str) -> Path:
    """A fresh hidden name beside ``target`` that names this process (so a later start can clean it)."""
    return target.with_name(f".{target.name}.{os.getpid()}.{secrets.token_hex(4)}{suffix}")
