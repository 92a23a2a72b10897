"""Credentials kept at rest (CalDAV passwords, bank tokens) are sealed with Fernet
(AES-128-CBC plus HMAC) under the current key of a key ring.

The ring lives in a file of its own (``credential-keys.json`` in the data directory,
mode 600), apart from the token-signing secret, so either can change without the
other. A sealed value names the key that sealed it (``lk1:<key id>:<fernet token>``),
which is what lets ``lifeos keys rotate`` re-seal everything under a new key and then
retire the old one. Values sealed before the ring existed carry no key id; they open
with the key the service used to derive from its signing secret (``legacy``) until a
rotation re-seals them."""

from __future__ import annotations

import base64
import json
import os
import secrets
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from skills.context import SkillContext, SkillError

PREFIX = "lk1"
KEY_FILE_NAME = "credential-keys.json"


class KeyRingError(Exception):
    """The key file cannot be used; the message is one line meant for an operator."""


@dataclass
class KeyRing:
    current: str
    keys: dict[str, bytes] = field(repr=False)
    legacy: bytes | None = field(default=None, repr=False)  # opens values without a key id
    path: Path | None = None  # re-read when it changes (a rotation by another process)
    _stamp: int | None = field(default=None, repr=False)

    @classmethod
    def single(cls, key: bytes, key_id: str = "k0") -> KeyRing:
        return cls(current=key_id, keys={key_id: key})

    @classmethod
    def load(cls, path: Path, legacy: bytes | None = None) -> KeyRing:
        """The ring in ``path``; created (mode 600) with one new key on first use."""
        if not path.exists():
            _write_exclusive(path, new_key_id(), secrets.token_bytes(32))
        ring = cls(current="", keys={}, legacy=legacy, path=path)
        ring.reload()
        return ring

    def reload(self) -> None:
        assert self.path is not None
        try:
            stamp = self.path.stat().st_mtime_ns
            data = json.loads(self.path.read_text())
            keys = {kid: base64.b64decode(value) for kid, value in data["keys"].items()}
            current = str(data["current"])
            # A restored backup brings the legacy key along: the new machine may have
            # another signing secret.
            if data.get("legacy"):
                self.legacy = base64.b64decode(data["legacy"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise KeyRingError(
                f"the credential key file {self.path} cannot be read: {exc}"
            ) from exc
        if current not in keys or any(len(k) != 32 for k in keys.values()):
            raise KeyRingError(f"the credential key file {self.path} is malformed")
        self.current, self.keys, self._stamp = current, keys, stamp

    def refresh(self) -> None:
        """Pick up a rotation made by `lifeos keys rotate` while this process runs (one
        stat: cheap enough for the rare seal or unseal)."""
        if self.path is None:
            return
        try:
            stamp = self.path.stat().st_mtime_ns
        except OSError:
            return
        if stamp != self._stamp:
            self.reload()

    def seal(self, plain: str) -> str:
        token = _fernet(self.keys[self.current]).encrypt(plain.encode()).decode()
        return f"{PREFIX}:{self.current}:{token}"

    def unseal(self, sealed: str) -> str:
        """The plain value; InvalidToken when no key of this ring opens it."""
        key_id, token = key_id_of(sealed), sealed.rsplit(":", 1)[-1]
        key = self.legacy if key_id is None else self.keys.get(key_id)
        if key is None:
            raise InvalidToken(f"no key {key_id or 'legacy'} in this ring")
        return _fernet(key).decrypt(token.encode()).decode()

    def save(self, path: Path | None = None) -> None:
        """Write the ring atomically (write, fsync, rename), mode 600."""
        target = path or self.path
        assert target is not None
        target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=target.parent, prefix=".keys-")
        with os.fdopen(fd, "w") as handle:
            handle.write(self.to_json(with_legacy=True))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, target)
        if target == self.path:
            self._stamp = target.stat().st_mtime_ns

    def to_json(self, *, with_legacy: bool) -> str:
        """The file's text; ``with_legacy`` adds the legacy key (for a backup, which
        must open on a machine with another signing secret)."""
        body: dict[str, object] = {
            "current": self.current,
            "keys": {kid: base64.b64encode(key).decode() for kid, key in self.keys.items()},
        }
        if with_legacy and self.legacy is not None:
            body["legacy"] = base64.b64encode(self.legacy).decode()
        return json.dumps(body, indent=1)


def new_key_id() -> str:
    return f"{datetime.now(UTC):%Y%m%d}-{secrets.token_hex(3)}"


def key_id_of(sealed: str) -> str | None:
    """The id of the key that sealed a value; None for a value from before key ids."""
    if not sealed.startswith(PREFIX + ":"):
        return None
    return sealed.split(":", 2)[1]


def _write_exclusive(path: Path, key_id: str, key: bytes) -> None:
    # O_EXCL: when two processes start together one writes and the other reads it.
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    body = json.dumps({"current": key_id, "keys": {key_id: base64.b64encode(key).decode()}})
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    with os.fdopen(fd, "w") as handle:
        handle.write(body)


def _fernet(key: bytes) -> Fernet:
    return Fernet(base64.urlsafe_b64encode(key))


def _ring(ctx: SkillContext) -> KeyRing:
    if ctx.keys is None:
        raise SkillError("this service has no key for stored credentials")
    ctx.keys.refresh()
    return ctx.keys


def seal(ctx: SkillContext, plain: str) -> str:
    return _ring(ctx).seal(plain)


def unseal(ctx: SkillContext, sealed: str) -> str:
    try:
        return _ring(ctx).unseal(sealed)
    except InvalidToken as exc:
        raise SkillError("stored credentials cannot be read; enter them again") from exc
