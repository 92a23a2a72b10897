"""/v1/voice: the voice button's WebSocket.

Client → server: binary frames of 16 kHz mono PCM16 (any length, 20 ms is usual).
Server → client: binary frames of reply audio (PCM16 mono at the rate announced in
"audio_start"), and JSON text events: ready, speech_started, transcript, audio_start,
reply, audio_end, timings, interrupted, notice, error.
Sign in with ?token=<bearer token>.
"""

from __future__ import annotations

from fastapi import APIRouter, WebSocket, WebSocketDisconnect, status

from agent.assistant import Turn
from agent.auth import TokenError
from agent.services import Services
from speech.session import VoiceSession
from store.models import User

router = APIRouter(tags=["voice"])
MAX_FRAME_BYTES = 64_000  # 2 s of audio in one frame is more than any client sends


@router.websocket("/v1/voice")
async def voice(socket: WebSocket, token: str = "") -> None:
    services: Services = socket.app.state.services
    await socket.accept()  # accepted first, so a refusal can say why in its close reason
    try:
        user_id = services.tokens.verify(token)
    except TokenError as exc:
        await socket.close(code=status.WS_1008_POLICY_VIOLATION, reason=str(exc))
        return
    async with services.sessions() as db:
        user = await db.get(User, user_id)
    if user is None:
        await socket.close(code=status.WS_1008_POLICY_VIOLATION, reason="unknown user")
        return
    stt, tts = await services.voice_models()
    assistant = services.assistant
    assert assistant is not None
    conversation = f"voice-{user.id.hex[:8]}-{id(socket):x}"

    def respond(text: str):
        return assistant.respond(Turn(text, user.id, conversation, channel="voice"))

    session = VoiceSession(stt, tts, respond, socket.send_bytes, socket.send_json)
    await socket.send_json({"type": "ready", "input_rate": 16000, "output_rate": 16000})
    try:
        while True:
            message = await socket.receive()
            if message["type"] == "websocket.disconnect":
                break
            data = message.get("bytes")
            if data is None:
                continue  # text messages are reserved for control; none are needed yet
            if len(data) % 2 or len(data) > MAX_FRAME_BYTES:
                await socket.send_json(
                    {"type": "error", "message": "send 16-bit PCM in frames of at most 2 seconds"}
                )
                continue
            await session.hear(data)
    except WebSocketDisconnect:
        pass
    finally:
        await session.close()
