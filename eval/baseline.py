"""The stock pipecat pipeline, answering with the same agent: the baseline the
harness measures ours against, over the same WebSocket protocol.

pipecat's own pieces with their defaults: `WhisperSTTService` (Whisper tiny.en from
its PyPI package, pipecat's compute type and decoding: the whole 30 s window; or, with
`--whisper base --compute-type int8`, the model ours runs, quantized as ours runs it,
so that only the pipeline differs), Silero VAD with pipecat's default parameters on
the user aggregator (and the default turn strategy: Smart Turn, which ships in the
wheel), `PiperTTSService` with the same Piper voice.

The same pipeline answers phone calls as pipecat's Twilio bot does: `POST
/v1/twilio/voice` gives TwiML that connects the call to `WS /v1/twilio/stream`, where
pipecat's TwilioFrameSerializer carries Media Streams on its FastAPI transport (the
phone baseline of `lifeos eval latency`).

Stock pipecat builds its services per connection, and each loads its model. Here, as
in our service, Whisper and Piper are loaded and warmed once per process before
/readyz answers, and every connection's services share them: what the harness
compares is the pipeline, not who reloads a model.

    python -m eval.baseline [--port 8766] [--whisper tiny.en|base] [--compute-type int8]
    (LIFEOS_* settings as for `lifeos serve`)
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import numpy as np
import uvicorn
from fastapi import FastAPI, Request, WebSocket, status
from fastapi.responses import Response
from pipecat.audio.vad.silero import SileroVADAnalyzer
from pipecat.frames.frames import (
    Frame,
    LLMContextFrame,
    LLMFullResponseEndFrame,
    LLMFullResponseStartFrame,
    LLMTextFrame,
    OutputTransportMessageFrame,
    OutputTransportMessageUrgentFrame,
    TTSStoppedFrame,
)
from pipecat.pipeline.pipeline import Pipeline
from pipecat.pipeline.worker import PipelineParams, PipelineWorker
from pipecat.processors.aggregators.llm_context import LLMContext
from pipecat.processors.aggregators.llm_response_universal import (
    LLMContextAggregatorPair,
    LLMUserAggregatorParams,
)
from pipecat.processors.frame_processor import FrameDirection, FrameProcessor
from pipecat.runner.utils import parse_telephony_websocket
from pipecat.serializers.twilio import TwilioFrameSerializer
from pipecat.services.piper.tts import PiperTTSService
from pipecat.services.tts_service import TTSService
from pipecat.services.whisper.stt import WhisperSTTService
from pipecat.transports.websocket.fastapi import FastAPIWebsocketParams, FastAPIWebsocketTransport
from pipecat.workers.runner import WorkerRunner
from twilio.twiml.voice_response import Connect, VoiceResponse

from agent.api import tasks, transactions
from agent.auth import TokenError
from agent.dialogue.voice import VoiceResponder
from agent.services import Services
from agent.settings import Settings
from speech.audio import SPEECH_RATE
from speech.logs import quiet_pipecat
from speech.models import WHISPER_MODELS, piper_voice, whisper_path
from speech.protocol import VoiceProtocol
from speech.turn import Responder
from telephony.media import PHONE_RATE
from telephony.routes import caller


class SharedWhisperSTT(WhisperSTTService):
    """pipecat's Whisper service on a model loaded once for the process."""

    def __init__(self, model: Any, **kwargs: Any) -> None:
        self._shared_model = model  # before the base's __init__, which calls _load
        super().__init__(**kwargs)

    def _load(self) -> None:
        self._model = self._shared_model


class SharedPiperTTS(PiperTTSService):
    """pipecat's Piper service on a voice loaded once for the process. Its own
    __init__ loads the voice from disk, so this one sets up the TTS base as it
    does, with the same arguments, and takes the loaded voice instead."""

    def __init__(self, voice: Any, name: str, **kwargs: Any) -> None:
        TTSService.__init__(
            self,
            push_start_frame=True,
            push_stop_frames=True,
            settings=self.Settings(model=None, voice=name, language=None),
            **kwargs,
        )
        self._voice = voice


class Models:
    """Whisper (on the CPU; pipecat's default compute type is "default": the saved
    model's) and Piper, loaded and exercised once so the first turn does not pay."""

    def __init__(self, whisper: str, compute_type: str = "default") -> None:
        from faster_whisper import WhisperModel
        from piper import PiperVoice

        self.whisper_path = str(whisper_path(whisper))
        self.compute_type = compute_type
        self.whisper = WhisperModel(self.whisper_path, device="cpu", compute_type=compute_type)
        model, config = piper_voice()
        self.voice_name = Path(model).stem
        self.voice = PiperVoice.load(model, config_path=config)
        segments, _info = self.whisper.transcribe(np.zeros(16000, np.float32), language="en")
        list(segments)
        list(self.voice.synthesize("Ready."))


class AgentAsLLM(FrameProcessor):
    """Stands where pipecat's LLM service would: the user's finished turn in, the
    agent's reply out as LLM text. Also tells the client the turn's transcript."""

    def __init__(self, responder: Responder) -> None:
        super().__init__()
        self.responder = responder

    async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
        await super().process_frame(frame, direction)
        if not isinstance(frame, LLMContextFrame):
            await self.push_frame(frame, direction)
            return
        text = _last_user_text(frame.context)
        await self.push_frame(
            OutputTransportMessageUrgentFrame(message={"type": "transcript", "text": text})
        )
        await self.push_frame(LLMFullResponseStartFrame())
        async for clause in self.responder.reply(text, {}):
            await self.push_frame(LLMTextFrame(clause + " "))
        await self.push_frame(LLMFullResponseEndFrame())


class AnnounceEnd(FrameProcessor):
    """Sends "audio_end" after the reply's audio, as our pipeline does."""

    async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
        await super().process_frame(frame, direction)
        await self.push_frame(frame, direction)
        if isinstance(frame, TTSStoppedFrame):
            await self.push_frame(OutputTransportMessageFrame(message={"type": "audio_end"}))


def _last_user_text(context: LLMContext) -> str:
    for message in reversed(context.get_messages()):
        if isinstance(message, dict) and message.get("role") == "user":
            content = message.get("content")
            if isinstance(content, str):
                return content.strip()
            return " ".join(part.get("text", "") for part in content or []).strip()
    return ""


def create_app(
    settings: Settings, whisper: str = "tiny.en", compute_type: str = "default"
) -> FastAPI:
    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        quiet_pipecat()
        app.state.services = Services.build(settings)
        app.state.models = await asyncio.to_thread(Models, whisper, compute_type)
        try:
            yield
        finally:
            await app.state.services.close()

    app = FastAPI(lifespan=lifespan)
    # The REST routes the harness checks a script's effects with, as ours has them.
    app.include_router(tasks.router)
    app.include_router(transactions.router)

    @app.get("/readyz")
    async def readyz() -> dict[str, str]:
        return {"status": "ok"}

    @app.websocket("/v1/voice")
    async def voice(
        socket: WebSocket, token: str = "", rate: int = 16000, encoding: str = "pcm16"
    ) -> None:
        services: Services = socket.app.state.services
        await socket.accept()
        try:
            user_id = services.tokens.verify(token)
        except TokenError as exc:
            await socket.close(code=status.WS_1008_POLICY_VIOLATION, reason=str(exc))
            return
        phone = encoding == "mulaw"
        out_rate = 8000 if phone else 16000
        transport = FastAPIWebsocketTransport(
            socket,
            FastAPIWebsocketParams(
                audio_in_enabled=True,
                audio_out_enabled=True,
                audio_in_sample_rate=rate,
                audio_out_sample_rate=out_rate,
                serializer=VoiceProtocol(
                    in_rate=rate, out_rate=out_rate, encoding="mulaw" if phone else "pcm16"
                ),
                allowed_origins=[],
            ),
        )
        await socket.send_json({"type": "ready", "input_rate": rate, "output_rate": out_rate})
        await _converse(socket, transport, user_id, rate, out_rate)

    @app.post("/v1/twilio/voice")
    async def twilio_voice(request: Request) -> Response:
        """As pipecat's Twilio examples answer a call: TwiML that connects it to the
        Media Streams socket, the caller's number passed along as a parameter."""
        form = await request.form()
        response = VoiceResponse()
        connect = Connect()
        stream = connect.stream(url=f"ws://{request.url.netloc}/v1/twilio/stream")
        stream.parameter(name="caller", value=str(form.get("From", "")))
        response.append(connect)
        return Response(str(response), media_type="application/xml")

    @app.websocket("/v1/twilio/stream")
    async def twilio_stream(socket: WebSocket) -> None:
        """pipecat's Twilio bot: `connected` and `start` read by its runner's parser,
        its TwilioFrameSerializer on its FastAPIWebsocketTransport. Its Twilio
        examples run the whole pipeline at 8 kHz, which hands Whisper 8 kHz audio
        that its service reads as 16 kHz (it never resamples): here the input runs at
        pipecat's default 16 kHz, the serializer upsampling the call's audio (as it
        does for any speech-to-text that wants 16 kHz), and the output at 8 kHz."""
        services: Services = socket.app.state.services
        await socket.accept()
        _kind, call = await parse_telephony_websocket(socket)
        user = await caller(services.sessions, str((call.body or {}).get("caller", "")))
        if user is None:
            await socket.close(code=status.WS_1008_POLICY_VIOLATION, reason="unknown caller")
            return
        serializer = TwilioFrameSerializer(
            stream_sid=str(call.stream_id),
            call_sid=str(call.call_id),
            # Its default hangs up through Twilio's REST API at the end; there is no
            # Twilio account here, and the client hangs up itself.
            params=TwilioFrameSerializer.InputParams(auto_hang_up=False),
        )
        transport = FastAPIWebsocketTransport(
            socket,
            FastAPIWebsocketParams(
                audio_in_enabled=True,
                audio_out_enabled=True,
                add_wav_header=False,
                serializer=serializer,
            ),
        )
        await _converse(socket, transport, user.id, SPEECH_RATE, PHONE_RATE)

    return app


async def _converse(
    socket: WebSocket,
    transport: FastAPIWebsocketTransport,
    user_id: uuid.UUID,
    rate: int,
    out_rate: int,
) -> None:
    """The stock pipeline on one connection, until the client goes."""
    services: Services = socket.app.state.services
    assert services.assistant is not None
    models: Models = socket.app.state.models
    stt = SharedWhisperSTT(
        models.whisper,
        device="cpu",
        compute_type=models.compute_type,
        settings=WhisperSTTService.Settings(model=models.whisper_path),
    )
    tts = SharedPiperTTS(models.voice, models.voice_name)
    user, assistant = LLMContextAggregatorPair(
        LLMContext(), user_params=LLMUserAggregatorParams(vad_analyzer=SileroVADAnalyzer())
    )
    pipeline = Pipeline(
        [
            transport.input(),
            stt,
            user,
            AgentAsLLM(VoiceResponder(services.assistant, user_id)),
            tts,
            AnnounceEnd(),
            transport.output(),
            assistant,
        ]
    )
    worker = PipelineWorker(
        pipeline,
        params=PipelineParams(audio_in_sample_rate=rate, audio_out_sample_rate=out_rate),
        enable_rtvi=False,
        idle_timeout_secs=None,
    )

    @transport.event_handler("on_client_disconnected")
    async def _gone(_transport: object, _socket: WebSocket) -> None:
        await worker.cancel()

    runner = WorkerRunner(handle_sigint=False)
    await runner.add_workers(worker)
    await runner.run()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=8766)
    parser.add_argument(
        "--whisper", choices=WHISPER_MODELS, default="tiny.en", help="pipecat's default: tiny.en"
    )
    parser.add_argument(
        "--compute-type", default="default", help="CTranslate2's; pipecat's default: default"
    )
    args = parser.parse_args()
    app = create_app(Settings(), args.whisper, args.compute_type)
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
