"""Configuration from LIFEOS_* environment variables (pydantic-settings)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from speech.models import DEFAULT_WHISPER_MODEL, DEFAULT_WINDOW
from store.database import sqlite_url
from store.models.users import normalize_email, validate_timezone

_PLACEHOLDER_SECRETS = {
    "changeme",
    "change-me",
    "secret",
    "password",
    "jwt-secret",
    "test",
}
MIN_SECRET_LENGTH = 32


def default_data_dir() -> Path:
    """Where data lives unless LIFEOS_DATA_DIR says otherwise: the XDG data home."""
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "lifeos"


class Settings(BaseSettings):
    """Every setting has a working embedded default; only secrets for outside services
    (Claude, Twilio) are needed to turn those paths on."""

    model_config = SettingsConfigDict(env_prefix="LIFEOS_", extra="ignore")

    data_dir: Path = Field(default_factory=default_data_dir)
    database_url: str | None = None  # default: a SQLite file in data_dir
    jwt_secret: SecretStr | None = None  # default: generated once into data_dir
    token_ttl_days: int = Field(default=30, ge=1, le=3650)
    owner_email: str = "owner@example.com"
    default_timezone: str = "UTC"
    # Claude for what the local grammar does not understand. Without a key, such an
    # utterance gets a clarifying answer instead.
    anthropic_api_key: SecretStr | None = None
    anthropic_model: str = "claude-haiku-4-5"
    anthropic_base_url: str | None = None  # another address for the Messages API (a proxy)
    llm_timeout_seconds: float = Field(default=4.0, gt=0, le=30)
    # Speech-to-text, chosen by `python -m eval.stt`: base with encoder windows fitted to
    # the utterance (up to 10 s) is the most accurate, and faster than either model with
    # Whisper's own 30 s window; tiny.en is ~100 ms faster a turn and 3.4 WER points worse.
    whisper_model: Literal["tiny.en", "base"] = DEFAULT_WHISPER_MODEL
    whisper_window_seconds: int = Field(default=DEFAULT_WINDOW, ge=6, le=30)
    # Bank feeds (Plaid). Without a client id and secret, bank linking answers 503.
    plaid_client_id: str | None = None
    plaid_secret: SecretStr | None = None
    plaid_env: Literal["sandbox", "production"] = "sandbox"
    plaid_host: str | None = None  # overrides plaid_env's address (a proxy, a test server)
    # CalDAV servers on loopback, private or link-local addresses (a Radicale on the
    # same box or the home network). Off: a user's calendar address could otherwise
    # make this service probe the network it runs in.
    caldav_allow_private: bool = False

    @field_validator("data_dir")
    @classmethod
    def _expand(cls, value: Path) -> Path:
        return value.expanduser()

    @field_validator("jwt_secret")
    @classmethod
    def _real_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        raw = value.get_secret_value()
        if raw.lower() in _PLACEHOLDER_SECRETS or len(raw) < MIN_SECRET_LENGTH:
            raise ValueError(
                f"LIFEOS_JWT_SECRET must be a random string of at least {MIN_SECRET_LENGTH} "
                "characters (or unset, to generate one in the data directory)"
            )
        return value

    @field_validator("owner_email")
    @classmethod
    def _owner_email(cls, value: str) -> str:
        return normalize_email(value)

    @field_validator("default_timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        return validate_timezone(value)

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or sqlite_url(self.data_dir / "lifeos.db")

    @property
    def secret_file(self) -> Path:
        return self.data_dir / "jwt-secret"

    @property
    def files_dir(self) -> Path:
        return self.data_dir / "files"

    @property
    def plaid_address(self) -> str:
        return self.plaid_host or f"https://{self.plaid_env}.plaid.com"
