"""A phone call as Twilio makes it, for `lifeos call`, the tests and the eval
harness: the signed voice webhook, then the Media Streams socket its TwiML names,
with caller audio sent as 20 ms μ-law frames in real time (silence between turns,
as a phone line does), reply audio played out at real time, marks returned when
playback reaches them and all at once on `clear`, and keys sent as `dtmf`."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import time
import uuid
import xml.etree.ElementTree as ET
from collections import deque
from dataclasses import dataclass, field

import httpx
from twilio.request_validator import RequestValidator
from websockets.asyncio.client import ClientConnection, connect

from speech.audio import mulaw_decode, mulaw_encode
from telephony.media import END_MARK

RATE = 8000
FRAME = 160  # 20 ms of 8 kHz μ-law
SILENCE = mulaw_encode(bytes(2 * FRAME))
REPLY_WAIT = 60.0  # seconds: no reply by then is a failure, not a slow answer (a busy box)


@dataclass
class Played:
    """Reply audio as the caller heard it, and when."""

    audio: bytearray = field(default_factory=bytearray)  # 16-bit PCM at 8 kHz
    first_audio: float | None = None  # perf_counter() of the first reply audio received
    cleared: int = 0  # `clear` messages received
    marks: list[str] = field(default_factory=list)  # marks returned, in order


class TwilioCall:
    """``async with TwilioCall(http, public_url, token, caller) as call``: dialled and
    connected; ``say``, ``press``, ``wait_for_reply``; hung up on leaving.

    With ``answering`` (the voice URL and CallSid the service gave Twilio when it
    placed a call), it is instead ``caller`` picking up a call the service made: the
    webhook is asked as Twilio asks it for an outbound call (Direction=outbound-api,
    the called number in To)."""

    def __init__(
        self,
        base_url: str,
        public_url: str,
        auth_token: str,
        caller: str,
        *,
        answering: tuple[str, str] | None = None,
    ) -> None:
        self.base_url, self.public_url = base_url.rstrip("/"), public_url.rstrip("/")
        self.validator = RequestValidator(auth_token)
        self.caller = caller
        self.answering = answering
        self.call_sid = answering[1] if answering else "CA" + uuid.uuid4().hex
        self.stream_sid = "MZ" + uuid.uuid4().hex
        self.played = Played()
        self.refused: str | None = None  # what was said instead of connecting
        self._outgoing: asyncio.Queue[bytes] = asyncio.Queue()
        self._playing: deque[bytes | str] = deque()  # audio and mark names, in order
        self._tasks: list[asyncio.Task[None]] = []
        self.socket: ClientConnection | None = None
        self.last_sent = 0.0  # perf_counter() when the last queued frame went out
        self._ends = asyncio.Queue[str]()
        self._arrived = asyncio.Event()  # something was added to play
        self.reply_started = asyncio.Event()  # the first reply audio has come

    def _signature(self, url: str, params: dict[str, str]) -> str:
        return self.validator.compute_signature(url, params)

    async def __aenter__(self) -> TwilioCall:
        form = {"CallSid": self.call_sid, "From": self.caller, "To": "+10000000000"}
        path = "/v1/twilio/voice"
        address = self.public_url + path
        if self.answering is not None:
            address = self.answering[0]
            path = "/" + address.split("/", 3)[3]  # with its query
            form = {
                "CallSid": self.call_sid,
                "From": "+10000000000",
                "To": self.caller,
                "Direction": "outbound-api",
            }
        headers = {"X-Twilio-Signature": self._signature(address, form)}
        async with httpx.AsyncClient(base_url=self.base_url) as http:
            response = await http.post(path, data=form, headers=headers)
        response.raise_for_status()
        root = ET.fromstring(response.text)  # noqa: S314 - the service's own TwiML
        stream = root.find("Connect/Stream")
        if stream is None:
            self.refused = " ".join(say.text or "" for say in root.iter("Say"))
            return self
        url = stream.get("url", "")
        parameters = {p.get("name", ""): p.get("value", "") for p in stream.iter("Parameter")}
        local = f"{'ws' + self.base_url.removeprefix('http')}/{url.split('/', 3)[3]}"
        signature = self._signature(url, {})
        self.socket = await connect(local, additional_headers={"X-Twilio-Signature": signature})
        await self._send({"event": "connected", "protocol": "Call", "version": "1.0.0"})
        await self._send(
            {
                "event": "start",
                "sequenceNumber": "1",
                "streamSid": self.stream_sid,
                "start": {
                    "streamSid": self.stream_sid,
                    "callSid": self.call_sid,
                    "tracks": ["inbound"],
                    "customParameters": parameters,
                    "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": RATE, "channels": 1},
                },
            }
        )
        self._tasks = [
            asyncio.create_task(self._speak()),
            asyncio.create_task(self._listen()),
            asyncio.create_task(self._play()),
        ]
        return self

    async def __aexit__(self, *_exc: object) -> None:
        if self.socket is not None:
            with contextlib.suppress(Exception):
                await self._send({"event": "stop", "streamSid": self.stream_sid})
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self.socket is not None:
            await self.socket.close()

    async def _send(self, message: dict) -> None:
        assert self.socket is not None
        await self.socket.send(json.dumps(message))

    async def say(self, pcm: bytes) -> None:
        """Queue 16-bit PCM at 8 kHz; returns when its last frame has been sent."""
        mulaw = mulaw_encode(pcm)
        for i in range(0, len(mulaw), FRAME):
            self._outgoing.put_nowait(mulaw[i : i + FRAME].ljust(FRAME, SILENCE[:1]))
        await self._outgoing.join()

    async def press(self, digits: str) -> None:
        for digit in digits:
            await self._send(
                {"event": "dtmf", "streamSid": self.stream_sid, "dtmf": {"digit": digit}}
            )

    async def wait_for_reply(self) -> str:
        """Wait until a whole reply has been played (its end mark came back); at most
        REPLY_WAIT seconds."""
        return await asyncio.wait_for(self._ends.get(), REPLY_WAIT)

    async def _speak(self) -> None:
        """One frame every 20 ms, as a phone line sends: queued speech, else silence."""
        start = time.perf_counter()
        for n in range(10**9):
            await asyncio.sleep(max(0.0, start + n * 0.02 - time.perf_counter()))
            try:
                frame = self._outgoing.get_nowait()
            except asyncio.QueueEmpty:
                frame = None
            payload = base64.b64encode(frame or SILENCE).decode()
            await self._send(
                {"event": "media", "streamSid": self.stream_sid, "media": {"payload": payload}}
            )
            if frame is not None:
                self.last_sent = time.perf_counter()
                self._outgoing.task_done()

    async def _listen(self) -> None:
        assert self.socket is not None
        async for raw in self.socket:
            message = json.loads(raw)
            event = message.get("event")
            if event == "media":
                audio = base64.b64decode(message["media"]["payload"])
                if self.played.first_audio is None:
                    self.played.first_audio = time.perf_counter()
                    self.reply_started.set()
                self._playing.append(audio)
                self._arrived.set()
            elif event == "mark":
                self._playing.append(message["mark"]["name"])
                self._arrived.set()
            elif event == "clear":
                self.played.cleared += 1
                pending = [item for item in self._playing if isinstance(item, str)]
                self._playing.clear()
                for name in pending:  # as Twilio does: every mark not reached comes back now
                    await self._mark(name, reached=False)

    async def _play(self) -> None:
        """Play the held audio at real time; return each mark when playback gets to it."""
        while True:
            if not self._playing:
                self._arrived.clear()
                await self._arrived.wait()
                continue
            item = self._playing.popleft()
            if isinstance(item, str):
                await self._mark(item, reached=True)
                continue
            self.played.audio += mulaw_decode(item)
            await asyncio.sleep(len(item) / RATE)

    async def _mark(self, name: str, *, reached: bool) -> None:
        await self._send({"event": "mark", "streamSid": self.stream_sid, "mark": {"name": name}})
        self.played.marks.append(name)
        if reached and name.startswith(f"{END_MARK}-"):
            self._ends.put_nowait(name)
