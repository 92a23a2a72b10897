"""`lifeos backup` and `lifeos restore`: one encrypted archive holding a consistent
copy of the database, the stored files and the key material, with a manifest
(format, schema revision, database kind, rows per table, a SHA-256 per member).

The archive is a tar stream inside the envelope (agent/backup/envelope.py). The
manifest comes first, so a restore knows what it is restoring before it writes
anything; every member is checked against it as it streams past, and nothing is put
in place until the envelope's authenticated end has been read."""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import os
import tarfile
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any

from agent.backup import databases
from agent.backup.envelope import ArchiveError, DecryptingReader, EncryptingWriter
from agent.bootstrap import secure_data_dir, sqlite_file
from agent.keys import RotationError, credential_keys, file_store, token_secret, unseal_all
from agent.settings import Settings
from skills.files import FileStore
from store.database import create_engine, parse_database_url

FORMAT = 1
MANIFEST = "manifest.json"
SQLITE_MEMBER = "database/lifeos.db"
POSTGRES_MEMBER = "database/lifeos.pgdump"
KEYS_MEMBER = "keys/credential-keys.json"
SECRET_MEMBER = "keys/jwt-secret"  # noqa: S105 (a member name, not a secret)
FILES = "files/"


@dataclass(frozen=True)
class BackupResult:
    path: Path
    size: int
    manifest: dict[str, Any]


@dataclass(frozen=True)
class RestoreResult:
    manifest: dict[str, Any]
    credentials: int  # stored credentials that open with the restored keys


def _private_file(path: Path) -> Any:
    return os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# --- backup ---------------------------------------------------------------------


async def backup(settings: Settings, to: Path, passphrase: str) -> BackupResult:
    """Write an archive of the running service's data into the folder ``to``."""
    await asyncio.to_thread(to.mkdir, mode=0o700, parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=to, prefix=".backup-") as work:
        staged, snapshot = await _stage(settings, Path(work))
        manifest = await asyncio.to_thread(_manifest, staged, snapshot, settings)
        name = f"lifeos-{datetime.now(UTC):%Y%m%d-%H%M%S}.backup"
        partial = to / f".{name}.partial"
        await asyncio.to_thread(_write_archive, partial, staged, manifest, passphrase)
        final = to / name
        os.replace(partial, final)
    return BackupResult(path=final, size=final.stat().st_size, manifest=manifest)


async def _stage(settings: Settings, work: Path) -> tuple[dict[str, Path], databases.Snapshot]:
    """The archive's members as files in ``work``: the database copy first (its
    snapshot is the moment of the backup), then keys and files."""
    url = settings.resolved_database_url
    members: dict[str, Path] = {}
    database = sqlite_file(url)
    if database is not None:
        path = work / "lifeos.db"
        snapshot = await asyncio.to_thread(databases.copy_sqlite, database, path)
        members[SQLITE_MEMBER] = path
    else:
        path = work / "lifeos.pgdump"
        snapshot = await databases.dump_postgres(url, path)
        members[POSTGRES_MEMBER] = path
    keys = credential_keys(settings)
    members[KEYS_MEMBER] = work / "credential-keys.json"
    with _private_file(members[KEYS_MEMBER]) as handle:
        handle.write(keys.to_json(with_legacy=True).encode())
    if settings.jwt_secret is None:
        members[SECRET_MEMBER] = work / "jwt-secret"
        with _private_file(members[SECRET_MEMBER]) as handle:
            handle.write((token_secret(settings) + "\n").encode())
    store = file_store(settings)
    for index, key in enumerate(await store.names()):
        path = work / "files" / str(index)
        path.parent.mkdir(mode=0o700, exist_ok=True)
        data = await store.get(key)
        await asyncio.to_thread(path.write_bytes, data)
        members[FILES + key] = path
    return members, snapshot


def _manifest(
    staged: dict[str, Path], snapshot: databases.Snapshot, settings: Settings
) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "created_at": datetime.now(UTC).isoformat(),
        "revision": snapshot.revision,
        "database": "sqlite" if SQLITE_MEMBER in staged else "postgresql",
        "counts": snapshot.counts,
        "token_secret": "environment" if settings.jwt_secret is not None else "file",
        "members": {
            name: {"sha256": _sha256(path), "size": path.stat().st_size}
            for name, path in staged.items()
        },
    }


def _write_archive(
    target: Path, staged: dict[str, Path], manifest: dict[str, Any], passphrase: str
) -> None:
    with _private_file(target) as sink:
        writer = EncryptingWriter(sink, passphrase)
        with tarfile.open(fileobj=writer, mode="w|") as tar:  # type: ignore[call-overload]
            body = json.dumps(manifest, indent=1).encode()
            info = tarfile.TarInfo(MANIFEST)
            info.size, info.mode = len(body), 0o600
            tar.addfile(info, io.BytesIO(body))
            for name, path in staged.items():
                info = tarfile.TarInfo(name)
                info.size, info.mode = path.stat().st_size, 0o600
                with path.open("rb") as handle:
                    tar.addfile(info, handle)
        writer.close()
        os.fsync(sink.fileno())


# --- restore --------------------------------------------------------------------


async def restore(
    archive: Path, passphrase: str, settings: Settings, *, force: bool = False
) -> RestoreResult:
    """Put an archive's data in place for ``settings`` (its data directory, database
    and file store). Refuses a target that holds data unless ``force``."""
    try:
        source = await asyncio.to_thread(archive.open, "rb")
    except OSError as exc:
        raise ArchiveError(f"cannot read {archive}: {exc.strerror}") from None
    try:
        reader = await asyncio.to_thread(DecryptingReader, source, passphrase)
        tar = await asyncio.to_thread(tarfile.open, fileobj=reader, mode="r|")
        manifest = await asyncio.to_thread(_read_manifest, tar)
        await _check_target(settings, manifest, force=force)
        await asyncio.to_thread(settings.data_dir.mkdir, mode=0o700, parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=settings.data_dir, prefix=".restore-") as work:
            staged = await asyncio.to_thread(_extract, tar, reader, manifest, Path(work))
            secure_data_dir(settings)  # only now: a refused archive leaves no database file
            await _install(settings, manifest, staged, force=force)
    finally:
        source.close()
    return RestoreResult(manifest, await _open_credentials(settings))


async def _open_credentials(settings: Settings) -> int:
    engine = create_engine(settings.resolved_database_url)
    try:
        return await unseal_all(engine, credential_keys(settings))
    except RotationError as exc:
        raise ArchiveError(str(exc)) from None
    finally:
        await engine.dispose()


def _read_manifest(tar: tarfile.TarFile) -> dict[str, Any]:
    first = tar.next()
    handle = tar.extractfile(first) if first is not None and first.name == MANIFEST else None
    if handle is None:
        raise ArchiveError("the archive has no manifest")
    manifest = json.loads(handle.read())
    if manifest.get("format") != FORMAT:
        raise ArchiveError(f"archive format {manifest.get('format')} is not one this version reads")
    return manifest


async def _check_target(settings: Settings, manifest: dict[str, Any], *, force: bool) -> None:
    url = settings.resolved_database_url
    is_sqlite = sqlite_file(url) is not None
    if is_sqlite != (manifest["database"] == "sqlite"):
        raise ArchiveError(
            f"this is a {manifest['database']} backup: restore it onto a "
            f"{'--data-dir' if manifest['database'] == 'sqlite' else '--database postgresql://…'}"
        )
    if force:
        return
    occupied = [
        path.name
        for path in (
            sqlite_file(url),
            settings.key_file,
            settings.secret_file,
            settings.files_dir,
        )
        if path is not None and path.exists() and (not path.is_file() or path.stat().st_size)
    ]
    if occupied:
        raise ArchiveError(
            f"{settings.data_dir} already holds data ({', '.join(occupied)}); "
            "restore onto a fresh one, or pass --force to replace it"
        )
    if not is_sqlite and not await databases.postgres_is_empty(url):
        target = parse_database_url(url).render_as_string(hide_password=True)
        raise ArchiveError(f"the database {target} is not empty; pass --force to replace it")
    if settings.files_url and await file_store(settings).names():
        raise ArchiveError(f"{settings.files_url} already holds files; pass --force")


def _extract(
    tar: tarfile.TarFile, reader: DecryptingReader, manifest: dict[str, Any], work: Path
) -> dict[str, Path]:
    expected: dict[str, dict[str, Any]] = manifest["members"]
    staged: dict[str, Path] = {}
    for member in tar:
        if member.name == MANIFEST and not staged:
            continue  # read first, by _read_manifest; the stream's iterator starts over
        entry = expected.get(member.name)
        if entry is None or not member.isfile() or member.name in staged:
            raise ArchiveError(f"the archive holds {member.name!r}, which its manifest does not")
        path = work / f"m{len(staged)}"
        digest = hashlib.sha256()
        source = tar.extractfile(member)
        assert source is not None
        with _private_file(path) as sink:
            while block := source.read(1 << 20):
                digest.update(block)
                sink.write(block)
        if digest.hexdigest() != entry["sha256"] or path.stat().st_size != entry["size"]:
            raise ArchiveError(f"{member.name} does not match its checksum")
        staged[member.name] = path
    reader.drain()  # the authenticated end: nothing was cut off or appended
    missing = sorted(set(expected) - set(staged))
    if missing:
        raise ArchiveError(f"the archive lacks {', '.join(missing)}")
    return staged


async def _install(
    settings: Settings, manifest: dict[str, Any], staged: dict[str, Path], *, force: bool
) -> None:
    url = settings.resolved_database_url
    database = sqlite_file(url)
    if database is not None:
        snapshot = await asyncio.to_thread(databases.read_sqlite, staged[SQLITE_MEMBER])
        _compare(manifest, snapshot)
        for stale in (database.with_name(database.name + end) for end in ("-wal", "-shm")):
            stale.unlink(missing_ok=True)
        os.replace(staged[SQLITE_MEMBER], database)
    else:
        await databases.restore_postgres(staged[POSTGRES_MEMBER], url, replace=force)
        engine = create_engine(url)
        try:
            _compare(manifest, await databases.count_rows(engine))
        finally:
            await engine.dispose()
    await _install_files(file_store(settings), staged)
    os.replace(staged[KEYS_MEMBER], settings.key_file)
    if SECRET_MEMBER in staged:
        os.replace(staged[SECRET_MEMBER], settings.secret_file)


async def _install_files(store: FileStore, staged: dict[str, Path]) -> None:
    for name, path in staged.items():
        if name.startswith(FILES):
            key = name.removeprefix(FILES)
            if PurePosixPath(key).is_absolute() or ".." in PurePosixPath(key).parts:
                raise ArchiveError(f"the archive names a file outside the store: {key!r}")
            await store.put(key, await asyncio.to_thread(path.read_bytes))


def _compare(manifest: dict[str, Any], snapshot: databases.Snapshot) -> None:
    if snapshot.revision != manifest["revision"]:
        raise ArchiveError(
            f"the restored schema is at {snapshot.revision}, the manifest says "
            f"{manifest['revision']}"
        )
    differ = [
        f"{name} {snapshot.counts.get(name)} (manifest {count})"
        for name, count in manifest["counts"].items()
        if snapshot.counts.get(name) != count
    ]
    if differ:
        raise ArchiveError(f"restored row counts differ: {'; '.join(differ)}")
