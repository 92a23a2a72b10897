"""An `AgentSession` made of our engines, for the worker and for tests alike."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

from livekit.agents import Agent, AgentSession, ConversationItemAddedEvent, llm

from speech.endpoint import Endpointer
from speech.livekit.reply import ResponderLLM, WholeRequest
from speech.livekit.stt import WhisperLiveKitSTT
from speech.livekit.tts import PiperLiveKitTTS
from speech.livekit.vad import EndpointerVAD
from speech.stt import WhisperSTT
from speech.tts import PiperTTS
from speech.turn import Responder

# seconds after the VAD's end of speech that a turn which is no whole request yet
# ("add milk to my") waits for the rest; a whole request is answered at once
MORE_TO_SAY = 1.0


class LifeOSAgent(Agent):
    """The assistant's words come from the `Responder`, not from instructions."""

    def __init__(self) -> None:
        super().__init__(instructions="")


def voice_session(
    whisper: WhisperSTT,
    piper: PiperTTS,
    responder: Responder,
    *,
    endpointer: Callable[[], Endpointer] | None = None,
) -> AgentSession:
    session: AgentSession = AgentSession(
        stt=WhisperLiveKitSTT(whisper, responder),
        vad=EndpointerVAD(endpointer),
        llm=ResponderLLM(responder),
        tts=PiperLiveKitTTS(piper),
        turn_handling={
            "turn_detection": WholeRequest(responder),
            "endpointing": {"min_delay": 0.0, "max_delay": MORE_TO_SAY},
            # the reply runs actions that write: never worked out before the turn ends
            "preemptive_generation": {"enabled": False},
            "interruption": {
                "mode": "vad",
                "resume_false_interruption": False,
                "false_interruption_timeout": None,
            },
        },
        user_away_timeout=None,
    )
    _forget_unheard(session, responder)
    return session


def _forget_unheard(session: AgentSession, responder: Responder) -> None:
    """A reply the user talked over counts only as far as it was heard, as on the
    voice socket: the rest leaves the dialogue history."""
    pending: set[asyncio.Task[None]] = set()

    @session.on("conversation_item_added")
    def _added(event: ConversationItemAddedEvent) -> None:
        item = event.item
        if isinstance(item, llm.ChatMessage) and item.role == "assistant" and item.interrupted:
            task = asyncio.create_task(responder.cut_short(item.text_content or ""))
            pending.add(task)
            task.add_done_callback(pending.discard)

    @session.on("close")
    def _closed(_event: object) -> None:
        for task in pending:
            with contextlib.suppress(Exception):
                task.cancel()
