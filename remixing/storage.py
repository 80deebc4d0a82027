"""Moving audio between the media storage and local files.

The engine works on local paths; media may live on S3. On the local
filesystem storage (demo, tests) files are used in place and published with
an atomic rename, so a reader never sees half a file and a redelivered task
overwrites its own deterministic names instead of piling up copies.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from django.core.files import File
from django.core.files.storage import FileSystemStorage, default_storage
from django.urls import reverse


def _is_local(storage) -> bool:
    return isinstance(storage, FileSystemStorage)


@contextlib.contextmanager
def local_copy(fieldfile) -> Iterator[Path]:
    """A local path holding the file's bytes, for the duration of the block."""
    storage = fieldfile.storage
    if _is_local(storage):
        yield Path(storage.path(fieldfile.name))
        return
    suffix = Path(fieldfile.name).suffix
    with tempfile.TemporaryDirectory(prefix="clearmix-") as folder:
        target = Path(folder) / f"input{suffix}"
        with storage.open(fieldfile.name, "rb") as src, open(target, "wb") as dst:
            shutil.copyfileobj(src, dst, length=1 << 20)
        yield target


def put(name: str, local_path: Path, *, storage=None) -> str:
    """Store `local_path` under exactly `name`, replacing what was there."""
    storage = storage or default_storage
    if _is_local(storage):
        dest = Path(storage.path(name))
        dest.parent.mkdir(parents=True, exist_ok=True)
        # Copy next to the destination, then rename: atomic on one filesystem.
        fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
        os.close(fd)
        try:
            shutil.copyfile(local_path, tmp)
            os.replace(tmp, dest)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
        return name
    # Object stores replace whole objects atomically; delete first so the
    # storage does not invent a new name for an existing one.
    if storage.exists(name):
        storage.delete(name)
    with open(local_path, "rb") as fh:
        saved = storage.save(name, File(fh))
    return saved


def delete_quietly(name: str, *, storage=None) -> None:
    if not name:
        return
    storage = storage or default_storage
    with contextlib.suppress(FileNotFoundError, OSError):
        storage.delete(name)


def work_dir(prefix: str) -> tempfile.TemporaryDirectory:
    """Scratch space for one job; gone when the job ends, whatever happens."""
    return tempfile.TemporaryDirectory(prefix=f"clearmix-{prefix}-")


def media_url(fieldfile) -> str:
    """The address of a stored file: always the media view (marketplace.media),
    which checks the owning row's rights before serving or signing anything.
    Never `fieldfile.url`: on S3 that is a signed link to the object itself."""
    return reverse("media", kwargs={"path": fieldfile.name})
