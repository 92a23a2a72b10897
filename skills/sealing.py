"""Credentials kept at rest (CalDAV passwords, bank tokens) are sealed with Fernet
(AES-128-CBC plus HMAC) under a key the service derives from its own secret."""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken

from skills.context import SkillContext, SkillError


def _fernet(ctx: SkillContext) -> Fernet:
    if ctx.secret_key is None or len(ctx.secret_key) != 32:
        raise SkillError("this service has no key for stored credentials")
    return Fernet(base64.urlsafe_b64encode(ctx.secret_key))


def seal(ctx: SkillContext, plain: str) -> str:
    return _fernet(ctx).encrypt(plain.encode()).decode()


def unseal(ctx: SkillContext, sealed: str) -> str:
    try:
        return _fernet(ctx).decrypt(sealed.encode()).decode()
    except InvalidToken as exc:
        raise SkillError("stored credentials cannot be read; enter them again") from exc
