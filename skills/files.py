"""Where generated files (invoice PDFs) are kept: a local folder by default, or an S3
bucket (``LIFEOS_FILES_URL=s3://bucket/prefix``), behind one small interface."""

from __future__ import annotations

import asyncio
import os
import tempfile
from pathlib import Path
from typing import Any, Protocol


class FileStore(Protocol):
    async def put(self, key: str, data: bytes) -> None: ...

    async def get(self, key: str) -> bytes: ...

    async def names(self) -> list[str]:
        """Every key in the store (what a backup copies)."""
        ...


class FileMissing(LookupError):
    """No file under that key."""


def file_store_at(where: Path | str, endpoint_url: str | None = None) -> FileStore:
    """A local folder, or the S3 bucket and prefix of an ``s3://bucket/prefix`` URL."""
    if isinstance(where, str) and where.startswith("s3://"):
        bucket, _, prefix = where.removeprefix("s3://").partition("/")
        return S3FileStore(bucket, prefix, endpoint_url=endpoint_url)
    return LocalFileStore(Path(where))


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
        try:
            return await asyncio.to_thread(self._path(key).read_bytes)
        except FileNotFoundError:
            raise FileMissing(key) from None

    async def names(self) -> list[str]:
        return await asyncio.to_thread(self._names)

    def _names(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(
            path.relative_to(self.root).as_posix()
            for path in self.root.rglob("*")
            if path.is_file() and not path.name.startswith(".tmp-")
        )

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


class S3FileStore:
    """Files as objects under a prefix of an S3 bucket. boto3 blocks, so every call
    runs in a thread; its client is thread-safe and made once, on first use."""

    def __init__(self, bucket: str, prefix: str = "", *, endpoint_url: str | None = None) -> None:
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self.endpoint_url = endpoint_url
        self._client: Any = None

    def _s3(self) -> Any:
        if self._client is None:
            import boto3  # ~0.3 s to import: only for a service that stores files on S3

            self._client = boto3.client("s3", endpoint_url=self.endpoint_url)
        return self._client

    def _object(self, key: str) -> str:
        if key.startswith("/") or ".." in key.split("/"):
            raise ValueError(f"file key {key!r} leaves the store")
        return self.prefix + key

    async def put(self, key: str, data: bytes) -> None:
        name = self._object(key)
        await asyncio.to_thread(
            lambda: self._s3().put_object(Bucket=self.bucket, Key=name, Body=data)
        )

    async def get(self, key: str) -> bytes:
        return await asyncio.to_thread(self._read, self._object(key))

    def _read(self, name: str) -> bytes:
        s3 = self._s3()
        try:
            return s3.get_object(Bucket=self.bucket, Key=name)["Body"].read()
        except s3.exceptions.NoSuchKey:
            raise FileMissing(name) from None

    async def names(self) -> list[str]:
        return await asyncio.to_thread(self._names)

    def _names(self) -> list[str]:
        pages = self._s3().get_paginator("list_objects_v2")
        found: list[str] = []
        for page in pages.paginate(Bucket=self.bucket, Prefix=self.prefix):
            found.extend(item["Key"][len(self.prefix) :] for item in page.get("Contents", []))
        return sorted(found)
