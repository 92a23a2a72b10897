"""The composition root's container: the live objects one running service shares."""

from __future__ import annotations

import asyncio
import gc
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from agent import preload
from agent.auth import TokenService
from agent.bootstrap import secure_data_dir
from agent.cluster import VoiceCluster
from agent.dialogue.assistant import Assistant
from agent.dialogue.phone import PhoneAssistant
from agent.guards import DEFAULT_CODE_LIMIT, RequestRates, RequestThrottle, SignInThrottle
from agent.keys import credential_keys, file_store, token_secret
from agent.live.bus import Broadcaster, LocalBroadcaster, broadcaster
from agent.live.commits import publish_commits
from agent.observe import tracing_configured
from agent.observe.metrics import Metrics
from agent.observe.voice import turn_reporter
from agent.outbox import Outbox
from agent.reminders.channels import Channels, WebPageChannel
from agent.reminders.phone import CallChannel, Outbound, SmsChannel, call_opening
from agent.reminders.scheduler import Scheduler
from agent.settings import Settings
from intents.cascade import Cascade
from intents.rules import RuleParser
from skills import offload
from skills.actions import Catalogue
from skills.catalogue import build_catalogue
from skills.files import FileStore
from skills.finance.bank import plaid_client
from skills.reminders.reports import apply_report
from skills.sealing import KeyRing
from skills.webhooks import outbox
from skills.webhooks.sender import Sender, disabled_notice
from skills.webhooks.transport import checked_client
from store.database import create_engine, session_factory, session_scope
from store.limits import Counts
from store.models import WebhookSubscription
from store.types import utcnow
from telephony.limits import PerKeyLimit
from telephony.messenger import TwilioMessenger
from telephony.pins import Pins
from telephony.signature import Signatures
from telephony.sms import SmsDesk

if TYPE_CHECKING:  # the anthropic SDK takes ~2 s to import: only with a key
    from intents.claude import ClaudeParser
    from telephony.routes import Telephony


@dataclass
class Services:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    tokens: TokenService
    keys: KeyRing  # seals credentials kept at rest (CalDAV passwords, bank tokens)
    files: FileStore
    bank: Any = None  # a PlaidApi when Plaid is configured
    assistant: Assistant | None = None
    _voice: Any = None  # (WhisperSTT, PiperTTS, fixed phrases), loaded once and shared
    voice_connections: dict[uuid.UUID, Any] = field(default_factory=dict)  # user → live one
    # The newest-connection rule across processes (Redis), built over voice_connections;
    # it also carries a reminder for the page to the process that holds the user's socket.
    cluster: VoiceCluster = field(init=False)
    # Rate limits (agent/guards.py), counted in ``counts``: Redis or this process.
    counts: Counts = field(default_factory=Counts)
    sign_ins: SignInThrottle = field(default_factory=SignInThrottle)  # failed ones, per address
    # Failed sign-ins per account, and codes sent per account (agent/api/signin.py).
    account_sign_ins: SignInThrottle = field(
        default_factory=lambda: SignInThrottle(kind="account-sign-in")
    )
    code_sends: SignInThrottle = field(
        default_factory=lambda: SignInThrottle(DEFAULT_CODE_LIMIT, kind="code-sent")
    )
    requests: RequestThrottle = field(default_factory=RequestThrottle)  # per token and address
    # How much audio each user may still send at once: kept across connections, so
    # reconnecting does not refill it.
    audio_paces: dict[uuid.UUID, Any] = field(default_factory=dict)

    ready: bool = False  # every model loaded and warmed
    # Where reminders go (agent/reminders/channels.py) and the scheduler that sends
    # them; the service starts and stops the scheduler with itself.
    channels: Channels = field(default_factory=Channels)
    scheduler: Scheduler | None = None
    # Sends the webhook outbox (skills/webhooks); started and stopped with the scheduler.
    webhooks: Sender | None = None
    telephony: Any = None  # telephony.routes.Telephony when Twilio is configured
    # Counted for /metrics; traced (agent.observe.tracing.Tracing) when an OTLP
    # endpoint is configured, else None.
    metrics: Metrics = field(default_factory=Metrics)
    tracing: Any = None
    # Committed changes, told to live watchers (GraphQL subscriptions): in this
    # process, or through Redis to every process when LIFEOS_REDIS_URL is set.
    changes: Broadcaster = field(default_factory=LocalBroadcaster)

    def __post_init__(self) -> None:
        outbox.install()  # every change's audit row enqueues its webhook deliveries
        self.cluster = VoiceCluster(None, self.voice_connections)  # Services.build: Redis's
        publish_commits(self.sessions, lambda: self.changes)
        registered = self.channels.names()
        if "web" not in registered:
            self.channels.register(WebPageChannel(lambda: self.cluster))
        # Twilio is looked up at each delivery: the settings say whether it is set up.
        if "sms" not in registered:
            self.channels.register(SmsChannel(lambda: outbound(self)))
        if "call" not in registered:
            self.channels.register(CallChannel(lambda: outbound(self)))

    def start_scheduler(self) -> Scheduler:
        """Build (once) and start the reminder scheduler on this service's settings."""
        if self.scheduler is None:
            settings = self.settings
            self.scheduler = Scheduler(
                self.sessions,
                self.channels,
                missed_after=timedelta(hours=settings.reminder_missed_hours),
                lease=timedelta(seconds=settings.reminder_lease_seconds),
                interval=settings.scheduler_interval_seconds,
                metrics=self.metrics,
                report_wait=timedelta(minutes=settings.reminder_report_minutes),
            )
        self.scheduler.start()
        return self.scheduler

    def start_webhooks(self) -> Sender:
        """Build (once) and start the webhook sender on this service's settings."""
        if self.webhooks is None:
            self.webhooks = self.webhook_sender()
        self.webhooks.start()
        return self.webhooks

    def webhook_sender(self, client: httpx.AsyncClient | None = None, **options: Any) -> Sender:
        """A sender on this service's settings, metrics and users' pages; ``client``
        (and ``options``: a clock, a retry policy) for tests that step it themselves."""
        settings = self.settings
        return Sender(
            self.sessions,
            client or checked_client(settings.webhook_networks, settings.webhook_timeout_seconds),
            self.keys,
            interval=settings.scheduler_interval_seconds,
            on_lag=self.metrics.webhook_queue_lag,
            on_disabled=self.tell_webhook_disabled,
            **options,
        )

    async def tell_webhook_disabled(self, subscription: WebhookSubscription) -> None:
        """Say it on the owner's page if it is open; GET /v1/webhooks and their history
        keep the record either way."""
        connection = self.voice_connections.get(subscription.user_id)
        if connection is None:
            return
        text = disabled_notice(subscription)
        await connection.announce(
            text, {"type": "notice", "text": text, "webhook_id": str(subscription.id)}
        )

    async def close_webhooks(self) -> None:
        """Stop the sender (if started) and close its connections."""
        sender, self.webhooks = self.webhooks, None
        if sender is not None:
            await sender.stop()
            await sender.client.aclose()

    async def reminder_reported(self, sid: str, state: str) -> None:
        """Twilio's word on a reminder text or call (its status callback, or "answered"
        when the call spoke the reminder). One that did not reach the user is handed
        to the next channel: by this process's scheduler at once, else by whichever
        process's scheduler claims it first."""
        async with session_scope(self.sessions) as db:
            fell_back = await apply_report(db, sid, state, utcnow())
        if fell_back and self.scheduler is not None:
            self.scheduler.wake()

    def outbox(self) -> Outbox:
        """Email and texts to people who are not signed in (codes, invitations)."""
        return Outbox(self.settings, lambda: messenger(self))

    async def voice_models(self) -> Any:
        """Whisper, Piper and the fixed phrases' audio, loaded once per process (on a
        thread: preload hands every caller the same load) for every connection."""
        if self._voice is None:
            settings = self.settings
            job = preload.voice_models(settings.whisper_model, settings.whisper_window_seconds)
            self._voice = await asyncio.wrap_future(job)
        return self._voice

    async def warm_up(self) -> None:
        """Load and exercise every model off the event loop, so the first user does
        not wait: Whisper and Piper (native code, started by the preload thread before
        the web stack was imported) beside the grammar, dateparser and the trained
        parser (Python): on two cores the one runs while the other holds the GIL.
        spaCy is not among them: the few sentences that need its entities load it."""
        rules = self.assistant.parser.rules if self.assistant is not None else None
        await asyncio.gather(
            self.voice_models(),
            asyncio.to_thread(rules.warm_up_all) if rules is not None else asyncio.sleep(0),
        )
        # The models are millions of objects that live as long as the process. Left to
        # the collector, each full collection walks them all, holding the GIL (and so the
        # event loop) for a quarter of a second or more whenever a large import makes
        # enough garbage to trigger one; frozen, they are never walked again.
        gc.collect()
        gc.freeze()
        self.ready = True
        await offload.start()  # the import worker, so the first import does not wait for it

    @classmethod
    def build(cls, settings: Settings, engine: AsyncEngine | None = None) -> Services:
        if engine is None:
            secure_data_dir(settings)
            # A database error's text leaves out the row's values: errors reach logs.
            engine = create_engine(settings.resolved_database_url)
        signing_secret = token_secret(settings)
        services = cls(
            settings=settings,
            engine=engine,
            sessions=session_factory(engine),
            tokens=TokenService(signing_secret, timedelta(days=settings.token_ttl_days)),
            keys=credential_keys(settings, signing_secret),
            files=file_store(settings),
            bank=bank_client(settings),
            changes=broadcaster(settings.redis_url),
        )
        services.counts = Counts(settings.redis_url)
        services.cluster = VoiceCluster(settings.redis_url, services.voice_connections)
        services.sign_ins = SignInThrottle(settings.sign_in_limit, services.counts)
        services.account_sign_ins = SignInThrottle(
            settings.sign_in_limit, services.counts, kind="account-sign-in"
        )
        services.code_sends = SignInThrottle(settings.code_limit, services.counts, kind="code-sent")
        services.requests = RequestThrottle(
            RequestRates.parse(
                settings.token_limit, settings.address_limit, settings.sensitive_limit
            ),
            services.counts,
        )
        services.assistant = build_assistant(services)
        if tracing_configured():  # the SDK is imported only then
            from agent.observe.tracing import Tracing

            services.tracing = Tracing()
        if settings.twilio_configured:
            services.telephony = build_telephony(services)
        return services

    async def close(self) -> None:
        if self.scheduler is not None:
            await self.scheduler.stop()
        await self.close_webhooks()
        await self.cluster.stop()
        await self.engine.dispose()
        await self.changes.close()
        if self.tracing is not None:
            await asyncio.to_thread(self.tracing.shutdown)  # sends the last batch


def build_assistant(
    services: Services, rules: RuleParser | None = None, llm: ClaudeParser | None = None
) -> Assistant:
    catalogue = build_catalogue()
    return Assistant(
        services.sessions,
        catalogue,
        Cascade(rules or RuleParser(), llm or claude_parser(services.settings, catalogue)),
        context={"files": services.files, "bank": services.bank, "keys": services.keys},
        rehearsals=services.settings.speculative_reply,
    )


def build_telephony(services: Services) -> Telephony:
    """The Twilio routes' collaborators: signature checks for the public URL, the
    SMS desk, and the assistant for calls and texts behind the phone PIN."""
    from telephony.routes import Telephony

    settings = services.settings
    assert settings.twilio_auth_token is not None and settings.public_url is not None
    assert services.assistant is not None
    phone = PhoneAssistant(
        services.assistant,
        Pins(services.sessions),
        PerKeyLimit(settings.pin_limit, "pin", services.counts),
    )
    return Telephony(
        signatures=Signatures(settings.twilio_auth_token.get_secret_value(), settings.public_url),
        sms=SmsDesk(services.sessions, phone, settings.sms_limit, services.counts),
        sessions=services.sessions,
        voice_models=services.voice_models,
        responder=phone.call,
        idle_seconds=settings.voice_idle_seconds,
        announcement=call_opening(services.sessions),
        on_turn=turn_reporter(services.metrics, services.tracing, "phone"),
        reported=services.reminder_reported,
        calls=PerKeyLimit(settings.call_limit, "call", services.counts),
    )


def messenger(services: Services) -> TwilioMessenger | None:
    """The outbound Twilio client, or None without an account, token and number; it
    texts no number that sent STOP."""
    settings = services.settings
    if not (settings.twilio_account_sid and settings.twilio_auth_token and settings.twilio_number):
        return None
    return TwilioMessenger(
        settings.twilio_account_sid,
        settings.twilio_auth_token.get_secret_value(),
        settings.twilio_number,
        api_base=settings.twilio_api_base,
        sessions=services.sessions,
    )


def outbound(services: Services) -> Outbound | str:
    """Twilio for one reminder text or call, or why it cannot be used."""
    public_url = services.settings.public_url
    sender = messenger(services) if public_url else None
    if sender is None or public_url is None:
        return "Twilio is not configured"
    return Outbound(sender, public_url)


def claude_parser(settings: Settings, catalogue: Catalogue) -> ClaudeParser | None:
    if settings.anthropic_api_key is None:
        return None
    import anthropic

    from intents.claude import ClaudeParser, tools_for

    client = anthropic.AsyncAnthropic(
        api_key=settings.anthropic_api_key.get_secret_value(),
        base_url=settings.anthropic_base_url,
        timeout=settings.llm_timeout_seconds,
        max_retries=0,  # a spoken answer cannot wait for retries; we fall back instead
    )
    return ClaudeParser(
        client, tools_for(catalogue), settings.anthropic_model, settings.llm_timeout_seconds
    )


def bank_client(settings: Settings) -> Any:
    if not (settings.plaid_client_id and settings.plaid_secret):
        return None
    return plaid_client(
        settings.plaid_address, settings.plaid_client_id, settings.plaid_secret.get_secret_value()
    )


def token_service(settings: Settings) -> TokenService:
    return TokenService(token_secret(settings), timedelta(days=settings.token_ttl_days))
