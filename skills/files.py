"""Where generated files (invoice PDFs) are kept: a local folder by default, behind
a two-method interface that an object store (S3) implementation can fill."""

from __future__ import annotations

import asyncio
import os
import tempfile
from pathlib import Path
from typing import Protocol


class FileStore(Protocol):
    async def put(self, key: str, data: bytes) -> None: ...

    async def get(self, key: str) -> bytes: ...


class LocalFileStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if not path.is_relative_to(self.root.resolve()):
            raise ValueError(f"file key {key!r} leaves the store")
        return path

    async def put(self, key: str, data: bytes) -> None:
        await asyncio.to_thread(self._write, self._path(key), data)

    async def get(self, key: str) -> bytes:
        return await asyncio.to_thread(self._path(key).read_bytes)

    @staticmethod
    def _write(path: Path, data: bytes) -> None:
        # Write then rename: a reader never sees half a file. mkstemp makes it 600.
        _private_folders(path.parent)
        fd, temp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(temp, path)


def _private_folders(folder: Path) -> None:
    """Create ``folder`` and its missing parents owner-only (``Path.mkdir`` gives
    only the last one the mode it is asked for)."""
    missing: list[Path] = []
    while not folder.exists():
        missing.append(folder)
        folder = folder.parent
    for each in reversed(missing):
        each.mkdir(mode=0o700, exist_ok=True)
