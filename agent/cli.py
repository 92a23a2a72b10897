"""The ``lifeos`` command line."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Awaitable, Iterable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from typer.core import TyperGroup

from agent.bootstrap import prepare_database
from agent.settings import Settings
from store import migrate
from store.database import (
    DatabaseError,
    check_connection,
    create_engine,
    parse_database_url,
    session_factory,
    session_scope,
)
from store.models.users import User, UserCreate
from store.repositories.users import (
    UserConflict,
    create_user,
    get_user_by_email,
    list_users,
)

if TYPE_CHECKING:
    from agent.dialogue.assistant import Assistant, Reply

T = TypeVar("T")

app = typer.Typer(help="Life OS: a voice-first assistant for tasks, calendar and money.")
db_app = typer.Typer(help="Database schema.")
user_app = typer.Typer(help="User accounts.")
eval_app = typer.Typer(help="Measure the assistant (the eval harness).")
keys_app = typer.Typer(help="The keys that seal stored credentials.")
app.add_typer(db_app, name="db")
app.add_typer(user_app, name="user")
app.add_typer(eval_app, name="eval")
app.add_typer(keys_app, name="keys")

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


def fail(message: str, code: int = 2) -> typer.Exit:
    err.print(f"[bold red]error:[/] {message}", highlight=False)
    return typer.Exit(code)


def load_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        field = "LIFEOS_" + str(first["loc"][0]).upper() if first["loc"] else "settings"
        raise fail(f"{field}: {_message(first)}") from None


def run(coro: Awaitable[T]) -> T:
    """Run a coroutine; database problems become one clear line, not a traceback."""
    try:
        return asyncio.run(coro)  # type: ignore[arg-type]
    except DatabaseError as exc:
        raise fail(str(exc)) from None


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    workers: Annotated[
        int,
        typer.Option(min=1, help="Service processes on this port (needs PostgreSQL and Redis)."),
    ] = 1,
) -> None:
    """Migrate the database and run the service."""
    from agent import workers as several

    settings = load_settings()
    if (why := several.refusal(settings, workers)) is not None:
        raise fail(why)  # before the web stack is imported: said at once
    import uvicorn

    from agent import server
    from agent.app import create_app
    from agent.observe.log_setup import log_config

    ready = run(prepare_database(settings))
    out.print(f"Database ready at revision {ready.revision} ({_where(settings)}).")
    if ready.new_owner is not None:
        email = ready.new_owner.email
        out.print(f"Created the owner user [bold]{email}[/].")
        # Printed once, here only: the link is a password's worth of secret.
        link = _password_link(settings, email, _page_address(settings, host, port))
        out.print(f"Set the owner's password (the link works once, for 24 h):  {link}")
        out.print(f"A token for scripts and devices:  [bold]lifeos token {email}[/]")
    out.print(f"Serving on http://{host}:{port}  (API docs at /docs)")
    logging_options = {
        "log_level": settings.log_level.lower(),
        "log_config": log_config(settings.log_format, settings.log_level),
    }
    if workers > 1:
        out.print(f"Starting {workers} worker processes.")
        several.run(settings, workers, host=host, port=port, **logging_options)
        return
    http = server.config(
        create_app(settings),
        header_timeout=settings.header_timeout_seconds,
        body_timeout=settings.body_timeout_seconds,
        host=host,
        port=port,
        **logging_options,
    )
    uvicorn.Server(http).run()


@eval_app.command(
    "latency", context_settings={"allow_extra_args": True, "ignore_unknown_options": True}
)
def eval_latency(ctx: typer.Context) -> None:
    """Voice-to-voice latency and accuracy against stock pipecat (see --help of the
    harness: --quick, --full, --out, --only, --compare A.json B.json)."""
    # The harness is a tool the CLI starts, not a library it imports: nothing in the
    # service depends on eval/ (an import-linter contract keeps it so).
    command = [sys.executable, "-m", "eval.latency", *ctx.args]
    raise typer.Exit(subprocess.run(command, check=False).returncode)  # noqa: S603


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply every pending migration."""
    settings = load_settings()
    ready = run(prepare_database(settings, create_owner=False))
    if ready.applied_from == ready.revision:
        out.print(f"Already at the latest revision {ready.revision} ({_where(settings)}).")
    else:
        out.print(f"Upgraded {ready.applied_from or 'an empty database'} → {ready.revision}.")


@db_app.command("revision")
def db_revision(message: Annotated[str, typer.Option("-m", "--message")], rev_id: str) -> None:
    """For developers: write a migration for model changes, diffed against a fresh database."""
    import tempfile
    from pathlib import Path

    async def generate() -> None:
        with tempfile.TemporaryDirectory() as tmp:
            engine = create_engine(f"sqlite+aiosqlite:///{Path(tmp) / 'diff.db'}")
            try:
                await migrate.upgrade(engine)
                await migrate.autogenerate(engine, message, rev_id)
            finally:
                await engine.dispose()

    run(generate())


@user_app.command("create")
def user_create(
    email: Annotated[str, typer.Option(help="Sign-in email, unique.")],
    phone: Annotated[str | None, typer.Option(help="Phone in international form.")] = None,
    tz: Annotated[str | None, typer.Option(help="IANA time zone, like America/Chicago.")] = None,
    name: Annotated[str | None, typer.Option(help="Display name.")] = None,
) -> None:
    """Create a user."""
    settings = load_settings()
    try:
        data = UserCreate(
            email=email,
            phone=phone,
            name=name,
            timezone=tz or settings.default_timezone,
        )
    except ValidationError as exc:
        raise fail(_first_error(exc)) from None

    async def create() -> User:
        engine = await _ready_engine(settings)
        try:
            async with session_scope(session_factory(engine)) as session:
                return await create_user(session, data)
        finally:
            await engine.dispose()

    try:
        user = run(create())
    except UserConflict as exc:
        raise fail(str(exc)) from None
    out.print(f"Created user [bold]{user.email}[/] ({user.id}).")
    out.print(f"A password link for the page:  [bold]lifeos user password-link {user.email}[/]")
    out.print(f"Get an API token with:  [bold]lifeos token {user.email}[/]")


@user_app.command("password-link")
def user_password_link(
    email: str,
    base: Annotated[
        str | None, typer.Option(help="The page's address (default: LIFEOS_PUBLIC_URL or local).")
    ] = None,
) -> None:
    """Print a one-time link (24 h) to set the user's password on the page; any
    earlier link of theirs stops working."""
    settings = load_settings()
    print(_password_link(settings, email, base or _page_address(settings, "127.0.0.1", 8000)))


def _page_address(settings: Settings, host: str, port: int) -> str:
    if settings.public_url:
        return settings.public_url
    shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host  # noqa: S104 - only shown
    return f"http://{shown}:{port}"


def _password_link(settings: Settings, email: str, base: str) -> str:
    from agent.codes import new_code
    from agent.services import token_service  # the whole service stack: only when needed
    from store.models.signin import CodePurpose

    tokens = token_service(settings)

    async def make() -> str:
        engine = await _ready_engine(settings)
        try:
            async with session_scope(session_factory(engine)) as session:
                user = await _user_or_fail(session, email)
                return await new_code(session, tokens, user.id, CodePurpose.SETUP)
        finally:
            await engine.dispose()

    # In the fragment: browsers never send it to the server, so it stays out of logs.
    return f"{base.rstrip('/')}/#setup={run(make())}"


@user_app.command("list")
def user_list() -> None:
    """List users."""
    settings = load_settings()

    async def fetch() -> list[User]:
        engine = await _ready_engine(settings)
        try:
            async with session_factory(engine)() as session:
                return await list_users(session)
        finally:
            await engine.dispose()

    table = Table("email", "phone", "time zone", "owner", "id")
    for user in run(fetch()):
        tz = user.settings.get("timezone", "")
        table.add_row(
            user.email,
            user.phone or "",
            tz,
            "yes" if user.is_owner else "",
            str(user.id),
        )
    out.print(table)


@user_app.command("pin")
def user_pin(
    email: Annotated[str, typer.Argument(help="Whose phone PIN.")],
    pin: Annotated[
        str,
        typer.Option(prompt=True, hide_input=True, confirmation_prompt=True, help="4 to 8 digits."),
    ],
) -> None:
    """Set the PIN asked on calls and texts before money is touched (caller ID can be
    spoofed). It is stored only as a salted hash."""
    from telephony.pins import PinError, Pins

    settings = load_settings()

    async def store() -> None:
        engine = await _ready_engine(settings)
        try:
            async with session_factory(engine)() as db:
                user = await get_user_by_email(db, email)
            if user is None:
                raise PinError(f"no user {email}")
            await Pins(session_factory(engine)).set(user.id, pin)
        finally:
            await engine.dispose()

    try:
        run(store())
    except PinError as exc:
        raise fail(str(exc)) from None
    out.print(f"Phone PIN set for [bold]{email}[/].")


PASSPHRASE_ENV = "LIFEOS_BACKUP_PASSPHRASE"  # noqa: S105 (a variable name)
PassphraseFile = Annotated[
    Path | None,
    typer.Option(help=f"Read the passphrase from this file (else ${PASSPHRASE_ENV}, else asked)."),
]


def _passphrase(path: Path | None, *, confirm: bool) -> str:
    """From a file, the environment or a prompt; never from the command line itself,
    where every user of the machine can read it in the process list."""
    import os

    if path is not None:
        try:
            text = path.read_text().rstrip("\n")
        except OSError as exc:
            raise fail(f"--passphrase-file {path}: {exc.strerror}") from None
    else:
        text = os.environ.get(PASSPHRASE_ENV) or typer.prompt(
            "Backup passphrase", hide_input=True, confirmation_prompt=confirm
        )
    if len(text) < 8:
        raise fail("the passphrase must be at least 8 characters")
    return text


@app.command()
def backup(
    to: Annotated[Path | None, typer.Option(help="Folder for the archive.")] = None,
    passphrase_file: PassphraseFile = None,
) -> None:
    """Write an encrypted archive of the database, files and keys; safe while the
    service runs."""
    from agent.backup.archive import backup as write_backup
    from agent.backup.envelope import ArchiveError

    settings = load_settings()
    phrase = _passphrase(passphrase_file, confirm=True)
    try:
        result = run(write_backup(settings, to or settings.data_dir / "backups", phrase))
    except ArchiveError as exc:
        raise fail(str(exc)) from None
    rows = sum(result.manifest["counts"].values())
    files = sum(1 for name in result.manifest["members"] if name.startswith("files/"))
    out.print(f"Wrote {result.path} ({result.size:,} bytes: {rows:,} rows, {files} files).")


@app.command()
def restore(
    archive: Annotated[Path, typer.Argument(help="A file written by lifeos backup.")],
    data_dir: Annotated[Path | None, typer.Option(help="Data directory to restore into.")] = None,
    database: Annotated[
        str | None, typer.Option(help="PostgreSQL database to restore into (a URL).")
    ] = None,
    force: Annotated[bool, typer.Option(help="Replace data already there.")] = False,
    passphrase_file: PassphraseFile = None,
) -> None:
    """Restore a backup onto a fresh data directory (and database), verified against
    its checksums and row counts."""
    from agent.backup.archive import restore as read_backup
    from agent.backup.envelope import ArchiveError

    settings = load_settings()
    changes: dict[str, Any] = {}
    if data_dir is not None:
        changes.update(data_dir=data_dir.expanduser(), database_url=None)
    if database is not None:
        changes["database_url"] = database
    target = settings.model_copy(update=changes)
    phrase = _passphrase(passphrase_file, confirm=False)
    try:
        result = run(read_backup(archive, phrase, target, force=force))
    except ArchiveError as exc:
        raise fail(str(exc)) from None
    manifest = result.manifest
    rows = sum(manifest["counts"].values())
    out.print(
        f"Restored the backup of {manifest['created_at']} into {target.data_dir} "
        f"({_where(target)}): {rows:,} rows checked, {result.credentials} stored "
        "credentials open."
    )
    if manifest["token_secret"] == "environment":  # noqa: S105
        out.print("Tokens were signed with LIFEOS_JWT_SECRET: set the same one here.")


@keys_app.command("rotate")
def keys_rotate() -> None:
    """Re-seal every stored credential under a new key and retire the old ones
    (tokens and the token secret are not touched)."""
    from agent.keys import RotationError, credential_keys, rotate

    settings = load_settings()

    async def go():
        engine = await _ready_engine(settings)
        try:
            return await rotate(engine, credential_keys(settings))
        finally:
            await engine.dispose()

    try:
        done = run(go())
    except RotationError as exc:
        raise fail(str(exc)) from None
    retired = ", ".join(done.retired) or "none"
    out.print(
        f"Re-sealed {done.resealed} stored credentials under key {done.new_key}; retired {retired}."
    )


@app.command()
def say(
    text: Annotated[str, typer.Argument(help="What you would say, in quotes.")],
    email: Annotated[str | None, typer.Option(help="Whose assistant (default: the owner).")] = None,
    session: Annotated[str | None, typer.Option(help="Continue this conversation.")] = None,
) -> None:
    """Say one thing to the assistant and print its answer."""
    settings = load_settings()
    run(_talk(settings, email, [text], session, interactive=False))


@app.command()
def talk(
    wav: Annotated[Path, typer.Argument(help="A WAV file of one spoken command.")],
    out: Annotated[Path, typer.Option(help="Where to write the spoken reply.")] = Path("reply.wav"),
    email: Annotated[str | None, typer.Option(help="Whose assistant (default: the owner).")] = None,
    session: Annotated[str | None, typer.Option(help="Continue this conversation.")] = None,
) -> None:
    """Say one thing from a WAV file; write the spoken reply as a WAV file."""
    settings = load_settings()
    run(_talk_voice(settings, _recording(wav), out, email, session))


def _recording(wav: Path) -> Any:
    """The spoken command in ``wav``; a clear error when it cannot be read."""
    from speech.audio import AudioError, read_wav

    try:
        return read_wav(wav.read_bytes())
    except (OSError, AudioError) as exc:
        raise fail(f"{wav}: {exc}") from None


async def _talk_voice(
    settings: Settings, audio: Any, out: Path, email: str | None, session_id: str | None
) -> None:
    from agent.app import create_app
    from agent.talk import talk
    from speech.audio import write_wav
    from speech.turn import NOTHING_HEARD

    async with _signed_in(settings, email) as (services, user):
        _stt, tts, _phrases = await services.voice_models()
        token = services.tokens.issue(user.id)
        result = await talk(create_app(services=services), token, audio, session=session_id)
        reply, said = result.audio, result.said
        if reply is None:  # no speech in the recording: no turn, so say so here
            reply, said = tts.synthesize_now(NOTHING_HEARD), NOTHING_HEARD
        await asyncio.to_thread(out.write_bytes, write_wav(reply))
        print(f"heard: {result.heard or '(nothing)'}")
        print(f"said:  {said}")
        stages = ("endpoint_wait", "stt", "intent", "action", "tts_first_chunk", "audio_ready")
        timing = "  ".join(f"{k} {result.timings[k]:.0f} ms" for k in stages if k in result.timings)
        err.print(f"wrote {out}  ({timing})", style="dim", highlight=False)


@app.command()
def worker() -> None:
    """Be the LiveKit agent: join the rooms a LiveKit server dispatches us to."""
    import logging.config

    from agent.observe.log_setup import log_config
    from agent.worker import WorkerError, check_configured, reachable

    settings = load_settings()
    try:
        url = check_configured(settings)
        asyncio.run(reachable(url))  # before the models and livekit-agents load
        from agent.worker import build_server, serve

        logging.config.dictConfig(log_config(settings.log_format, settings.log_level))
        asyncio.run(serve(build_server(settings), url))
    except WorkerError as exc:
        raise fail(str(exc), 1) from None


@app.command()
def speaker(
    server: Annotated[str, typer.Option(help="The service, e.g. http://kitchen-pi:8000.")],
    token: Annotated[
        str, typer.Option(envvar="LIFEOS_TOKEN", help="A bearer token (lifeos token EMAIL).")
    ],
    input: Annotated[
        list[Path] | None,
        typer.Option("--input", help="WAV recordings heard one after another, not the microphone."),
    ] = None,
    output: Annotated[
        Path | None, typer.Option(help="Write replies as WAV files here, not to the speakers.")
    ] = None,
    wake_word: Annotated[str, typer.Option(help="okay_nabu, hey_jarvis, hey_mycroft or alexa.")] = (
        "okay_nabu"
    ),
    wake_cutoff: Annotated[
        float | None,
        typer.Option(help="Wake word threshold, 0-1 (0.5): lower hears more, wakes falsely more."),
    ] = None,
    barge_in: Annotated[
        str,
        typer.Option(
            help="speech: speaking over a reply stops it (needs an echo-cancelled microphone); "
            "wake: only the wake word does."
        ),
    ] = "speech",
    realtime: Annotated[
        bool, typer.Option(help="Play --input recordings at speaking pace.")
    ] = False,
    device: Annotated[str | None, typer.Option(help="Sound card device (name or number).")] = None,
) -> None:
    """Be a smart speaker: wake word on this machine, then the assistant out loud."""
    from speech.speaker import SpeakerError
    from speech.speaker_files import read_inputs
    from speech.wake import WAKE_WORDS, WakeWord

    if wake_word not in WAKE_WORDS:
        raise fail(f"--wake-word must be one of {', '.join(WAKE_WORDS)}")
    if wake_cutoff is not None and not 0 < wake_cutoff < 1:
        raise fail("--wake-cutoff must be between 0 and 1")
    if barge_in not in ("speech", "wake"):
        raise fail("--barge-in must be speech or wake")
    if not server.startswith(("http://", "https://")):
        raise fail("--server must be the service's http:// or https:// address")
    try:
        recordings = read_inputs(input) if input else None
        wake = WakeWord(wake_word, *([] if wake_cutoff is None else [wake_cutoff]))
        asyncio.run(_speaker(server, token, recordings, output, wake, barge_in, realtime, device))
    except SpeakerError as exc:
        raise fail(str(exc)) from None
    except KeyboardInterrupt:
        raise typer.Exit(130) from None


async def _speaker(
    server: str,
    token: str,
    recordings: list[Any] | None,
    output: Path | None,
    wake: Any,
    barge_in: str,
    realtime: bool,
    device: str | None,
) -> None:
    from urllib.parse import urlencode

    from speech.speaker import Sink, Speaker
    from speech.speaker_files import WavFolder, file_frames

    socket_url = (
        server.rstrip("/").replace("http", "ws", 1) + "/v1/voice?" + urlencode({"token": token})
    )
    sink: Sink
    if output is not None:
        sink = WavFolder(output)
    else:
        from speech.soundcard import SoundCard

        sink = SoundCard(device)
    device_speaker = Speaker(socket_url, wake, sink, barge_in=barge_in, say=print)
    if recordings is None:
        from speech.soundcard import microphone

        print(f'say "{wake.phrase}" to talk; nothing is sent before it')
        await device_speaker.run(microphone(device))
        return
    await device_speaker.run(file_frames(recordings, device_speaker, realtime=realtime))
    if device_speaker.counters.wakes == 0:
        print(f'no wake word ("{wake.phrase}") in the recordings: nothing was sent')
    if isinstance(sink, WavFolder):
        for path in sink.written:
            print(f"wrote {path}")


@app.command()
def call(
    wav: Annotated[Path, typer.Argument(help="A WAV file of one spoken command.")],
    from_: Annotated[
        str | None,
        typer.Option("--from", help="The caller's number (default: the user's phone)."),
    ] = None,
    out: Annotated[Path, typer.Option(help="Where to write the spoken reply.")] = Path("reply.wav"),
    email: Annotated[
        str | None, typer.Option(help="Whose number calls (default: the owner).")
    ] = None,
) -> None:
    """Phone the assistant with a WAV file, through the real Twilio webhook and Media
    Streams protocol on a loopback port; write the reply as heard on the phone."""
    from store.models.users import normalize_phone

    settings = load_settings()
    try:
        number = normalize_phone(from_) if from_ else None
    except ValueError as exc:
        raise fail(f"--from: {exc}") from None
    run(_call(settings, _recording(wav), out, email, number))


async def _call(
    settings: Settings, audio: Any, out: Path, email: str | None, number: str | None
) -> None:
    from agent.call import call
    from agent.services import Services
    from speech.audio import write_wav
    from telephony.routes import caller

    engine = await _ready_engine(settings)
    services = Services.build(settings, engine)
    try:
        number = number or await _phone_of(services, email)
        if await caller(services.sessions, number) is not None:
            await services.voice_models()  # as `lifeos serve` does at start, before calls
        result = await call(services, number, audio)
        if result.refused is not None:
            print(f"refused: {result.refused}")
            return
        if result.audio is None:
            print("heard: (nothing): no speech in the recording, so no turn")
            return
        await asyncio.to_thread(out.write_bytes, write_wav(result.audio))
        print(f"heard: {result.heard or '(nothing)'}")
        print(f"said:  {result.said}")
        latency = f"first reply audio {result.first_audio_ms:.0f} ms after the recording ended"
        err.print(f"wrote {out} (8 kHz, as the phone played it; {latency})", style="dim")
    finally:
        await services.close()


async def _phone_of(services: Any, email: str | None) -> str:
    """The number a call comes from when --from is not given: the user's own."""
    async with services.sessions() as db:
        user = await (get_user_by_email(db, email) if email else _owner(db))
    if user is None:
        raise DatabaseError(f"no user {email or 'owner'}; pass --from +1… or create one")
    if user.phone is None:
        raise DatabaseError(f"{user.email} has no phone number: pass --from +1…")
    return user.phone


@asynccontextmanager
async def _signed_in(settings: Settings, email: str | None) -> AsyncIterator[tuple[Any, User]]:
    """The service stack and the user the command acts for (the owner by default)."""
    from agent.services import Services

    engine = await _ready_engine(settings)
    services = Services.build(settings, engine)
    try:
        async with session_factory(engine)() as db:
            user = await (get_user_by_email(db, email) if email else _owner(db))
        if user is None:
            raise DatabaseError(f"no user {email or 'owner'}; create one with lifeos user create")
        yield services, user
    finally:
        await services.close()


@app.command()
def chat(
    email: Annotated[str | None, typer.Option(help="Whose assistant (default: the owner).")] = None,
) -> None:
    """Talk to the assistant in the terminal (an empty line or Ctrl-D ends)."""
    settings = load_settings()
    run(_talk(settings, email, None, None, interactive=True))


async def _talk(
    settings: Settings,
    email: str | None,
    lines: list[str] | None,
    session_id: str | None,
    *,
    interactive: bool,
) -> None:
    async with _signed_in(settings, email) as (services, user):
        assert services.assistant is not None
        if interactive:
            out.print(f"Talking as {user.email}. An empty line ends.", style="dim")
        source = lines if lines is not None else _prompt_lines()
        async for reply in converse_lines(services.assistant, user.id, source, session_id):
            session_id = reply.session_id
            out.print(reply.text, highlight=False)
        if not interactive:
            err.print(f"session {session_id}", style="dim")


async def converse_lines(
    assistant: Assistant, user_id: uuid.UUID, lines: Iterable[str], session_id: str | None
) -> AsyncIterator[Reply]:
    """What `lifeos say` and `lifeos chat` make of each line: one turn of one
    conversation, as the user, with all the user may do (the command line is the
    service's own operator: no device limits it; the user's roles do)."""
    from agent.dialogue.assistant import Turn

    for line in lines:
        reply = await assistant.converse(
            Turn(text=line, user_id=user_id, session_id=session_id, channel="cli")
        )
        session_id = reply.session_id
        yield reply


def _prompt_lines() -> Iterator[str]:
    while True:
        try:
            line = input("you> ").strip()
        except EOFError:
            return
        if not line:
            return
        yield line


async def _owner(db: AsyncSession) -> User | None:
    result = await db.exec(select(User).where(col(User.is_owner).is_(True)).limit(1))
    return result.first()


class _IssueByDefault(TyperGroup):
    """``lifeos token EMAIL`` stays the short way to ``lifeos token issue EMAIL``."""

    def resolve_command(self, ctx: Any, args: list[str]) -> tuple[str | None, Any, list[str]]:
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            return "issue", self.commands["issue"], args
        return super().resolve_command(ctx, args)


token_app = typer.Typer(
    cls=_IssueByDefault, help="Bearer tokens: issue, list and revoke (lifeos token EMAIL issues)."
)
app.add_typer(token_app, name="token")


async def _user_or_fail(session: AsyncSession, email: str) -> User:
    user = await get_user_by_email(session, email)
    if user is None:
        raise fail(f"no user with email {email}; create one with: lifeos user create --email …")
    return user


@token_app.command("issue")
def token_issue(
    email: str,
    label: Annotated[str, typer.Option(help="what it is for: a device, a script")] = "cli",
    days: Annotated[int | None, typer.Option(min=1, max=3650, help="valid this long")] = None,
    scope: Annotated[
        list[str] | None,
        typer.Option(help="only this (repeatable): voice, speaker or read; default: anything"),
    ] = None,
) -> None:
    """Print a bearer token for the user with this email (kept on record: revocable)."""
    from datetime import timedelta
    from typing import get_args

    from agent.auth import issue_recorded
    from agent.scopes import Scope
    from agent.services import token_service  # the whole service stack: only when needed

    unknown = sorted(set(scope or ()) - set(get_args(Scope)))
    if unknown:
        raise fail(f"unknown scope {unknown[0]!r}; use {', '.join(get_args(Scope))}")
    scopes = frozenset(scope) if scope else None
    settings = load_settings()
    tokens = token_service(settings)

    async def issue() -> str:
        engine = await _ready_engine(settings)
        try:
            async with session_scope(session_factory(engine)) as session:
                user = await _user_or_fail(session, email)
                ttl = timedelta(days=days) if days else None
                return issue_recorded(session, tokens, user.id, label, ttl=ttl, scopes=scopes)[0]
        finally:
            await engine.dispose()

    # Plain print: the token is meant to be piped or copied whole.
    print(run(issue()))


@token_app.command("list")
def token_list(email: str) -> None:
    """The user's tokens that still count."""
    from store.repositories import tokens as issued

    settings = load_settings()

    async def rows() -> list:
        engine = await _ready_engine(settings)
        try:
            async with session_factory(engine)() as session:
                return await issued.active(session, (await _user_or_fail(session, email)).id)
        finally:
            await engine.dispose()

    table = Table("id", "label", "issued", "expires")
    for row in run(rows()):
        table.add_row(
            row.jti, row.label, f"{row.created_at:%Y-%m-%d %H:%M}", f"{row.expires_at:%Y-%m-%d}"
        )
    out.print(table)


@token_app.command("revoke")
def token_revoke(
    token: Annotated[
        str | None, typer.Argument(help="the token, or its id from `token list`")
    ] = None,
    all_of: Annotated[
        str | None, typer.Option("--all", metavar="EMAIL", help="every token of this user")
    ] = None,
) -> None:
    """Revoke a token at once (a lost phone, a speaker given away), or all of a user's."""
    from agent.auth import TokenError
    from agent.services import token_service
    from store.repositories import tokens as issued

    if (token is None) == (all_of is None):
        raise fail("give a token or its id, or --all EMAIL")
    settings = load_settings()

    async def revoke() -> int:
        engine = await _ready_engine(settings)
        try:
            async with session_scope(session_factory(engine)) as session:
                if all_of is not None:
                    return await issued.revoke_all(
                        session, (await _user_or_fail(session, all_of)).id
                    )
                assert token is not None
                jti = token
                if token.count(".") == 2:  # a whole token: its id is inside
                    try:
                        jti = token_service(settings).claims(token).jti or ""
                    except TokenError as exc:
                        raise fail(f"that token is not one of ours or has expired: {exc}") from None
                return int(await issued.revoke(session, jti))
        finally:
            await engine.dispose()

    count = run(revoke())
    if token is not None and count == 0:
        raise fail("no token with that id still counts (already revoked, expired, or never issued)")
    out.print(f"Revoked {count} token{'s' if count != 1 else ''}.")


async def _ready_engine(settings: Settings):
    engine = create_engine(settings.resolved_database_url)
    try:
        await check_connection(engine)
        if await migrate.current_revision(engine) != migrate.head_revision():
            raise DatabaseError("the database schema is not up to date; run: lifeos db upgrade")
    except BaseException:
        await engine.dispose()
        raise
    return engine


def _where(settings: Settings) -> str:
    return parse_database_url(settings.resolved_database_url).render_as_string(hide_password=True)


def _first_error(exc: ValidationError) -> str:
    first = exc.errors()[0]
    field = ".".join(str(p) for p in first["loc"])
    return f"{field}: {_message(first)}" if field else _message(first)


def _message(error: Any) -> str:
    return str(error["msg"]).removeprefix("Value error, ")


def main() -> None:
    app()
