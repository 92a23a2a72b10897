"""The encrypted envelope of a backup archive: a passphrase-keyed stream of
authenticated chunks, written and read a chunk at a time (never the whole archive in
memory). The plain stream is deflated (zlib) before it is sealed: a database
shrinks to a third or less.

Layout: a header (magic, scrypt salt and cost, nonce prefix), a 32-byte passphrase
check, then chunks of ``length (4 bytes) || ChaCha20-Poly1305 ciphertext``. Each
chunk's nonce is the prefix, its index and a last-chunk flag, and the header is its
associated data (the STREAM construction): chunks cannot be reordered, dropped, cut
short or moved between archives, and the header's parameters cannot be changed,
without the tag failing."""

from __future__ import annotations

import hashlib
import hmac
import os
import struct
import zlib
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

MAGIC = b"LIFEOSB1"
CHUNK = 1 << 20
SCRYPT_LOG_N, SCRYPT_R, SCRYPT_P = 15, 8, 1  # ~32 MB and ~0.1-0.3 s per key derivation
_HEADER = struct.Struct(">8s16sBBB7s")
_LENGTH = struct.Struct(">I")
_TAG = 16


class ArchiveError(Exception):
    """The archive cannot be opened; the message is one line meant for an operator."""


class WrongPassphrase(ArchiveError):
    pass


def _keys(passphrase: str, salt: bytes, log_n: int, r: int, p: int) -> tuple[bytes, bytes]:
    if not 10 <= log_n <= 22 or not 1 <= r <= 32 or not 1 <= p <= 16:
        raise ArchiveError("the archive's header is damaged (key derivation parameters)")
    material = Scrypt(salt=salt, length=64, n=1 << log_n, r=r, p=p).derive(passphrase.encode())
    return material[:32], material[32:]


def _nonce(prefix: bytes, index: int, last: bool) -> bytes:
    return prefix + struct.pack(">I", index) + (b"\x01" if last else b"\x00")


class EncryptingWriter:
    """A write-only binary stream that encrypts into ``sink`` (tarfile writes to it)."""

    def __init__(self, sink: BinaryIO, passphrase: str) -> None:
        salt, prefix = os.urandom(16), os.urandom(7)
        self._header = _HEADER.pack(MAGIC, salt, SCRYPT_LOG_N, SCRYPT_R, SCRYPT_P, prefix)
        key, check_key = _keys(passphrase, salt, SCRYPT_LOG_N, SCRYPT_R, SCRYPT_P)
        self._aead, self._prefix, self._sink = ChaCha20Poly1305(key), prefix, sink
        self._buffer = bytearray()
        self._index = 0
        self._deflate = zlib.compressobj(1)  # level 6: 2.6x the time for a 3 % smaller archive
        sink.write(self._header + hmac.digest(check_key, self._header, hashlib.sha256))

    def write(self, data: bytes) -> int:
        self._buffer += self._deflate.compress(data)
        while len(self._buffer) > CHUNK:  # keep a remainder: the last chunk is marked
            self._emit(bytes(self._buffer[:CHUNK]), last=False)
            del self._buffer[:CHUNK]
        return len(data)

    def close(self) -> None:
        """Write the last chunk: without it a reader knows the archive was cut."""
        self._buffer += self._deflate.flush()
        while len(self._buffer) > CHUNK:
            self._emit(bytes(self._buffer[:CHUNK]), last=False)
            del self._buffer[:CHUNK]
        self._emit(bytes(self._buffer), last=True)
        self._buffer.clear()
        self._sink.flush()

    def _emit(self, plain: bytes, *, last: bool) -> None:
        sealed = self._aead.encrypt(_nonce(self._prefix, self._index, last), plain, self._header)
        self._sink.write(_LENGTH.pack(len(sealed)) + sealed)
        self._index += 1


class DecryptingReader:
    """A read-only binary stream of an archive's plain bytes. Opening it checks the
    passphrase (WrongPassphrase); reading raises ArchiveError at the first chunk that
    was changed, and at the end if chunks are missing."""

    def __init__(self, source: BinaryIO, passphrase: str) -> None:
        header = source.read(_HEADER.size)
        if len(header) != _HEADER.size or not header.startswith(MAGIC):
            raise ArchiveError("not a Life OS backup archive")
        _magic, salt, log_n, r, p, prefix = _HEADER.unpack(header)
        key, check_key = _keys(passphrase, salt, log_n, r, p)
        check = source.read(32)
        if not hmac.compare_digest(check, hmac.digest(check_key, header, hashlib.sha256)):
            raise WrongPassphrase("wrong passphrase for this archive")
        self._aead, self._prefix, self._header, self._source = (
            ChaCha20Poly1305(key),
            prefix,
            header,
            source,
        )
        self._plain = bytearray()
        self._index = 0
        self._done = False
        self._inflate = zlib.decompressobj()

    def read(self, size: int = -1) -> bytes:
        while size < 0 or len(self._plain) < size:
            # At most a chunk's worth inflated at a time, whatever the ratio.
            if self._inflate.unconsumed_tail:
                pending = self._inflate.unconsumed_tail
            elif not self._done:
                pending = self._next_chunk()
            else:
                break
            try:
                self._plain += self._inflate.decompress(pending, CHUNK)
            except zlib.error:
                raise ArchiveError("the archive's contents are malformed") from None
        if size < 0:
            size = len(self._plain)
        out = bytes(self._plain[:size])
        del self._plain[:size]
        return out

    def drain(self) -> None:
        """Read to the authenticated end (a reader that stops early proves nothing)."""
        while not self._done:
            self._next_chunk()

    def _next_chunk(self) -> bytes:
        raw = self._source.read(_LENGTH.size)
        if len(raw) != _LENGTH.size:
            raise ArchiveError("the archive is cut short (its last part is missing)")
        (length,) = _LENGTH.unpack(raw)
        if not _TAG <= length <= CHUNK + _TAG:
            raise ArchiveError("the archive is damaged or has been changed")
        sealed = self._source.read(length)
        if len(sealed) != length:
            raise ArchiveError("the archive is cut short (its last part is missing)")
        for last in (False, True):
            try:
                nonce = _nonce(self._prefix, self._index, last)
                plain = self._aead.decrypt(nonce, sealed, self._header)
            except InvalidTag:
                continue
            self._index += 1
            if last:
                self._done = True
                if self._source.read(1):
                    raise ArchiveError("the archive has data after its end")
            return plain
        raise ArchiveError("the archive is damaged or has been changed")
