"""Configuration from LIFEOS_* environment variables (pydantic-settings)."""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path
from typing import Literal

from limits import parse
from pydantic import AliasChoices, Field, SecretStr, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from agent.guards import (
    DEFAULT_ADDRESS_LIMIT,
    DEFAULT_CODE_LIMIT,
    DEFAULT_MAX_BODY_BYTES,
    DEFAULT_SENSITIVE_LIMIT,
    DEFAULT_SIGN_IN_LIMIT,
    DEFAULT_TOKEN_LIMIT,
)
from agent.server import BODY_TIMEOUT, HEADER_TIMEOUT
from skills.addresses import Network, parse_networks
from skills.sealing import KEY_FILE_NAME
from speech.models import DEFAULT_WHISPER_MODEL, DEFAULT_WINDOW
from speech.pace import BURST_SECONDS, SPEED
from store.database import sqlite_url
from store.models.users import normalize_email, normalize_phone, validate_timezone
from telephony.limits import DEFAULT_CALL_LIMIT, DEFAULT_PIN_LIMIT, DEFAULT_SMS_LIMIT

# Words a hand-made placeholder starts with ("changeme-please-…", "secret123…"),
# compared with case and punctuation removed.
_PLACEHOLDER_WORDS = (
    "changeme",
    "changethis",
    "replaceme",
    "secret",
    "password",
    "jwtsecret",
    "yoursecret",
    "mysecret",
    "placeholder",
    "example",
    "default",
    "test",
)
MIN_SECRET_LENGTH = 32
MIN_DISTINCT_CHARACTERS = 10  # "aaaa…" or "abab…" is long but guessable


def secret_weakness(raw: str) -> str | None:
    """What makes ``raw`` a weak signing secret, or None when it looks random."""
    if len(raw) < MIN_SECRET_LENGTH:
        return f"is {len(raw)} characters long"
    if any(c.isspace() for c in raw):
        return "contains spaces or other whitespace"
    plain = "".join(c for c in raw.lower() if c.isalnum())
    if plain.startswith(_PLACEHOLDER_WORDS):
        return "looks like a placeholder"
    if len(set(raw)) < MIN_DISTINCT_CHARACTERS:
        return f"uses fewer than {MIN_DISTINCT_CHARACTERS} different characters"
    return None


def default_data_dir() -> Path:
    """Where data lives unless LIFEOS_DATA_DIR says otherwise: the XDG data home."""
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "lifeos"


def _either(name: str) -> AliasChoices:
    """A setting read as NAME or LIFEOS_NAME (a service's own names, like LiveKit's)."""
    return AliasChoices(name, f"lifeos_{name}")


class Settings(BaseSettings):
    """Every setting has a working embedded default; only secrets for outside services
    (Claude, Twilio) are needed to turn those paths on."""

    # A refused value is not repeated in the error: it may be a secret.
    model_config = SettingsConfigDict(
        env_prefix="LIFEOS_", extra="ignore", hide_input_in_errors=True
    )

    data_dir: Path = Field(default_factory=default_data_dir)
    database_url: str | None = None  # default: a SQLite file in data_dir
    jwt_secret: SecretStr | None = None  # default: generated once into data_dir
    token_ttl_days: int = Field(default=30, ge=1, le=3650)
    owner_email: str = "owner@example.com"
    default_timezone: str = "UTC"
    # Development aids on the public port: GraphiQL at GET /graphql. Off in production.
    development: bool = False
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
    # While a pause is judged (the words are no whole request yet), work out the reply
    # and synthesize its first clause, kept back until the turn ends; nothing is
    # written until then (speech/processors.py, Assistant.rehearse).
    speculative_reply: bool = True
    # Bank feeds (Plaid). Without a client id and secret, bank linking answers 503.
    plaid_client_id: str | None = None
    plaid_secret: SecretStr | None = None
    plaid_env: Literal["sandbox", "production"] = "sandbox"
    plaid_host: str | None = None  # overrides plaid_env's address (a proxy, a test server)
    # CalDAV servers on loopback, private or link-local addresses (a Radicale on the
    # same box or the home network). Off: a user's calendar address could otherwise
    # make this service probe the network it runs in.
    caldav_allow_private: bool = False
    # Abuse limits. Failed sign-ins per client address (a `limits` rate string); a
    # voice socket with no audio either way for this long is closed; a connection
    # whose request headers are not complete this long after it opens (or after the
    # request's first byte), or whose body is not complete this long after its
    # headers, gets 408 and is closed.
    sign_in_limit: str = DEFAULT_SIGN_IN_LIMIT
    # Codes sent by email or SMS per account (sign-in codes and password resets), and
    # failed sign-ins per account (whatever address they come from) at sign_in_limit.
    code_limit: str = DEFAULT_CODE_LIMIT
    # Requests (and voice sockets opened) per bearer token and per client address, and
    # per address on the paths where each request guesses a secret (agent/guards.py).
    token_limit: str = DEFAULT_TOKEN_LIMIT
    address_limit: str = DEFAULT_ADDRESS_LIMIT
    sensitive_limit: str = DEFAULT_SENSITIVE_LIMIT
    # The largest request body taken (bytes); a larger one gets 413 before it is read.
    max_body_bytes: int = Field(default=DEFAULT_MAX_BODY_BYTES, ge=64 * 1024, le=1024**3)
    # Redis (redis://host:6379/0): rate-limit counts shared by every service process.
    # Without it each process counts for itself.
    redis_url: str | None = None
    # Proxies whose X-Forwarded-For / X-Forwarded-Proto are believed (comma-separated
    # addresses or networks, or "*"). None by default: any client could otherwise
    # claim any address and escape the sign-in limit.
    forwarded_allow_ips: str = ""
    voice_idle_seconds: float = Field(default=120.0, gt=0, le=3600)
    # Audio a voice client may send at once, and how much faster than real time after
    # that (speech/pace.py); beyond it the socket is closed.
    voice_burst_seconds: float = Field(default=BURST_SECONDS, ge=5, le=3600)
    voice_max_speed: float = Field(default=SPEED, ge=1, le=1000)
    header_timeout_seconds: float = Field(default=HEADER_TIMEOUT, gt=0, le=300)
    body_timeout_seconds: float = Field(default=BODY_TIMEOUT, gt=0, le=3600)
    # Reminders. How often the scheduler looks for what is due; a reminder found more
    # than reminder_missed_hours after its time (the service was down) is reported as
    # missed instead of fired; a process's claim on a reminder it is delivering lapses
    # after reminder_lease_seconds, so another process takes over if it crashed.
    scheduler_enabled: bool = True
    scheduler_interval_seconds: float = Field(default=2.0, gt=0, le=300)
    reminder_missed_hours: float = Field(default=12.0, gt=0, le=24 * 30)
    reminder_lease_seconds: float = Field(default=120.0, ge=5, le=3600)
    # Webhooks (skills/webhooks). The sender runs with the scheduler; a receiver gets
    # webhook_timeout_seconds to answer. Receivers on private, loopback or link-local
    # addresses are refused unless inside webhook_allow_networks (comma-separated
    # addresses or networks, e.g. "10.0.0.0/8, 127.0.0.1"): a subscriber's URL could
    # otherwise make this service post into the network it runs in.
    webhook_timeout_seconds: float = Field(default=10.0, gt=0, le=60)
    webhook_allow_networks: str = ""
    # How long a reminder text or call waits for Twilio's report: past it, a text with
    # no failure reported counts as delivered, a call nobody answered falls back.
    reminder_report_minutes: float = Field(default=15.0, gt=0, le=24 * 60)
    # Twilio: phone calls and SMS. Without an account SID and auth token the Twilio
    # routes answer 503. Webhook signatures are checked against the public URL (the
    # address Twilio was given), never against the request's Host header.
    twilio_account_sid: str | None = None
    twilio_auth_token: SecretStr | None = None
    twilio_number: str | None = None  # the service's own number (E.164): From of outbound
    public_url: str | None = None  # e.g. https://lifeos.example.com, as Twilio reaches it
    twilio_api_base: str | None = None  # another address for Twilio's REST API (a test fake)
    # Email (sign-in codes, password resets, invitations) through an SMTP server.
    # Without a host, anything that would send an email is refused with 503.
    smtp_host: str | None = None
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_from: str = "Life OS <lifeos@localhost>"
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_security: Literal["starttls", "tls", "none"] = "starttls"
    # Where generated files (invoice PDFs) go: the data directory's files/ folder, or
    # an S3 bucket and prefix (s3://bucket/prefix; credentials from boto3's usual
    # chain), at another S3-compatible address when s3_endpoint_url is set.
    files_url: str | None = None
    s3_endpoint_url: str | None = None
    # Inbound texts per sending number (a `limits` rate string): a flood is not answered.
    sms_limit: str = DEFAULT_SMS_LIMIT
    # Inbound calls per calling number: beyond it a call is politely refused and hung
    # up before any audio is streamed.
    call_limit: str = DEFAULT_CALL_LIMIT
    # Wrong phone PINs per user, by call and text together: beyond it money stays
    # locked, whatever PIN is given, until the window moves on.
    pin_limit: str = DEFAULT_PIN_LIMIT
    # LiveKit (README "The LiveKit agent"): the server `lifeos worker` registers with,
    # and for which POST /v1/livekit/token mints room tokens. Read from LIVEKIT_URL,
    # LIVEKIT_API_KEY and LIVEKIT_API_SECRET, the names LiveKit's own tools use (or
    # with the LIFEOS_ prefix). Without all three, that route answers 503.
    livekit_url: str | None = Field(default=None, validation_alias=_either("livekit_url"))
    livekit_api_key: str | None = Field(default=None, validation_alias=_either("livekit_api_key"))
    livekit_api_secret: SecretStr | None = Field(
        default=None, validation_alias=_either("livekit_api_secret")
    )
    # The name the worker registers under; a room token dispatches this agent.
    livekit_agent_name: str = Field(default="lifeos", pattern=r"^[A-Za-z0-9_\-]{1,64}$")
    # Watching it (README "Metrics, logs and traces"): /metrics is served to loopback
    # clients only unless this token is set, then to any client that sends it.
    metrics_token: SecretStr | None = None
    log_format: Literal["json", "text"] = "text"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    @field_validator("data_dir")
    @classmethod
    def _expand(cls, value: Path) -> Path:
        return value.expanduser()

    @field_validator("jwt_secret", "metrics_token")
    @classmethod
    def _real_secret(cls, value: SecretStr | None, info: ValidationInfo) -> SecretStr | None:
        if value is None:
            return None
        problem = secret_weakness(value.get_secret_value())
        if problem:
            unset = (
                "(or leave it unset to have one generated in the data directory)"
                if info.field_name == "jwt_secret"
                else "(or leave it unset to serve /metrics to this machine only)"
            )
            raise ValueError(
                f"LIFEOS_{str(info.field_name).upper()} {problem}: use a random string of at "
                f"least {MIN_SECRET_LENGTH} characters, e.g. from `openssl rand -base64 48` "
                + unset
            )
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _level(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator(
        "sign_in_limit",
        "code_limit",
        "sms_limit",
        "call_limit",
        "pin_limit",
        "token_limit",
        "address_limit",
        "sensitive_limit",
    )
    @classmethod
    def _rate(cls, value: str) -> str:
        try:
            amount = parse(value).amount
        except ValueError:
            amount = 0
        if amount < 1:
            raise ValueError(f"{value!r} is not a rate like '20/minute'")
        return value

    @field_validator("redis_url")
    @classmethod
    def _redis_url(cls, value: str | None) -> str | None:
        if value and not value.startswith(("redis://", "rediss://", "redis+unix://")):
            raise ValueError(f"{value!r} is not a Redis address like redis://127.0.0.1:6379/0")
        return value or None

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not value.startswith(("https://", "http://")):
            raise ValueError(f"{value!r} is not an http(s) address like https://lifeos.example.com")
        return value.rstrip("/")

    @field_validator("twilio_number")
    @classmethod
    def _twilio_number(cls, value: str | None) -> str | None:
        return normalize_phone(value) if value else None

    @field_validator("forwarded_allow_ips")
    @classmethod
    def _proxies(cls, value: str) -> str:
        for item in filter(None, (part.strip() for part in value.split(","))):
            if item == "*":
                continue
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError:
                raise ValueError(f"{item!r} is not an address or network") from None
        return value

    @field_validator("webhook_allow_networks")
    @classmethod
    def _webhook_networks(cls, value: str) -> str:
        parse_networks(value)  # a bad item raises, naming it
        return value

    @property
    def webhook_networks(self) -> list[Network]:
        return parse_networks(self.webhook_allow_networks)

    @field_validator("files_url")
    @classmethod
    def _files_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not value.startswith("s3://") or not value.removeprefix("s3://").split("/")[0]:
            raise ValueError(f"{value!r} is not an S3 address like s3://bucket/prefix")
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
    def key_file(self) -> Path:
        return self.data_dir / KEY_FILE_NAME

    @property
    def files_dir(self) -> Path:
        return self.data_dir / "files"

    @property
    def twilio_configured(self) -> bool:
        return bool(self.twilio_account_sid and self.twilio_auth_token and self.public_url)

    @property
    def texts_configured(self) -> bool:
        """Twilio can send a text (a code, an invitation): an account and a number."""
        return bool(self.twilio_account_sid and self.twilio_auth_token and self.twilio_number)

    @property
    def livekit_configured(self) -> bool:
        return bool(self.livekit_url and self.livekit_api_key and self.livekit_api_secret)

    @property
    def plaid_address(self) -> str:
        return self.plaid_host or f"https://{self.plaid_env}.plaid.com"
