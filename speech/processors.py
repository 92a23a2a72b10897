"""The stages of our voice pipeline, as pipecat frame processors:

    transport in → TurnDetector → Transcriber → Replier → Speaker → transport out

TurnDetector finds turns in the audio (Silero VAD, speech/endpoint.py) and starts an
interruption when the user speaks; it ends a turn on a pause when the words make a whole
request, on a shorter silence when the assistant is waiting for a word or two, else
after the long silence; Transcriber runs Whisper, early on a short pause,
listening for the answers the assistant's last question expects; Replier asks the
agent (a `Responder`) and trims what the user did not hear when they talk over the
reply; Speaker turns clauses into audio with Piper, the first clause first, fixed
phrases from a cache.

While a pause that did not end the turn is judged, the reply is rehearsed: the agent
works it out with nothing kept (`Responder.rehearse`) and Speaker makes the first
clause's audio. Nothing is sent or written before the turn ends; then the agent
answers for real, and the audio made ahead is used only if its first clause is word
for word the one rehearsed. Speech after the pause throws it all away.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from typing import Any

from loguru import logger
from pipecat.audio.utils import create_stream_resampler
from pipecat.frames.frames import (
    Frame,
    InputAudioRawFrame,
    InterruptionFrame,
    OutputTransportMessageFrame,
    OutputTransportMessageUrgentFrame,
    TTSAudioRawFrame,
    TTSStartedFrame,
    TTSStoppedFrame,
)
from pipecat.processors.frame_processor import FrameDirection, FrameProcessor

from speech.ahead import AudioAhead
from speech.answers import Expected
from speech.audio import SPEECH_RATE, Audio
from speech.endpoint import Endpointer, TurnEvent
from speech.frames import (
    AudioEnd,
    AudioStart,
    BadInput,
    Clause,
    ClauseEnd,
    EndTurnNow,
    Heard,
    Rehearse,
    ReplyDone,
    ShortAnswerExpected,
    SpeakAhead,
    Timings,
    TurnEnded,
    TurnPaused,
    TurnRecord,
    TurnResumed,
    Typed,
    now,
)
from speech.stt import Transcript, WhisperSTT
from speech.tts import PiperTTS
from speech.turn import Responder

NOT_CAUGHT = "Sorry, I didn't catch that."
TOO_LONG = "That was a lot at once. Please tell me one thing at a time."
FIXED_PHRASES = (NOT_CAUGHT, TOO_LONG)


async def tell(processor: FrameProcessor, message: dict[str, Any], *, now: bool = True) -> None:
    """Send a JSON event to the client: at once, or (now=False) in order with the
    reply audio ahead of it."""
    frame_type = OutputTransportMessageUrgentFrame if now else OutputTransportMessageFrame
    await processor.push_frame(frame_type(message=message))


async def stop_task(task: asyncio.Task[Any] | None) -> None:
    """Cancel a task and wait until it has really finished."""
    if task is None or task.done():
        return
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await task


class TurnDetector(FrameProcessor):
    def __init__(self, endpointer: Endpointer) -> None:
        super().__init__()
        self.endpointer = endpointer
        self._resampler = create_stream_resampler()
        self._last_speech = now()
        self._pauses = 0  # pauses so far; the last one may end its turn early

    async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
        await super().process_frame(frame, direction)
        if isinstance(frame, InputAudioRawFrame):
            await self._hear(frame)
        elif isinstance(frame, BadInput):
            await tell(self, {"type": "error", "message": frame.message})
        elif isinstance(frame, Typed):
            await self._typed(frame.text)
        elif isinstance(frame, EndTurnNow):
            if self.endpointer.paused and frame.pause == self._pauses:
                await self._end_turn("whole request")
        elif isinstance(frame, ShortAnswerExpected):
            if self.endpointer.in_turn and frame.pause == self._pauses:
                self.endpointer.expect_short_answer()
        else:
            await self.push_frame(frame, direction)

    async def _hear(self, frame: InputAudioRawFrame) -> None:
        pcm = frame.audio
        if frame.sample_rate != SPEECH_RATE:
            pcm = await self._resampler.resample(pcm, frame.sample_rate, SPEECH_RATE)
        seen = self.endpointer.speech_seen
        events = self.endpointer.feed(pcm)
        if self.endpointer.speech_seen != seen:
            self._last_speech = now()
        for event in events:
            await self._on(event)

    async def _on(self, event: TurnEvent) -> None:
        if event.kind == "start":
            # The user talks: whatever the assistant was doing for them stops.
            await self.broadcast_interruption()
            await tell(self, {"type": "speech_started", "at": round(event.at, 3)})
        elif event.kind == "pause":
            self._pauses += 1
            audio = self.endpointer.turn_audio()
            await self.push_frame(TurnPaused(audio=audio, pause=self._pauses))
        elif event.kind == "resume":
            await self.push_frame(TurnResumed())
        else:
            await self._end_turn("silence" if event.kind == "end" else event.kind)

    async def _typed(self, text: str) -> None:
        """Keys pressed instead of words: a turn of their own, heard as typed."""
        await self.broadcast_interruption()
        record = TurnRecord(last_speech=now(), ended=now(), ended_by="keypad")
        await self.push_frame(Heard(text=text, record=record))

    async def _end_turn(self, kind: str) -> None:
        """End the turn: on a pause after a whole request, after the long silence, or
        because it ran too long."""
        record = TurnRecord(last_speech=self._last_speech, ended=now(), ended_by=kind)
        audio = self.endpointer.turn_audio()
        if kind == "too_long":
            self.endpointer.skip_until_silence()
            await tell(self, {"type": "notice", "message": "turn too long: not listening"})
        else:
            self.endpointer.next_turn()
        too_long = kind == "too_long"
        await self.push_frame(TurnEnded(audio=audio, record=record, too_long=too_long))


class Transcriber(FrameProcessor):
    def __init__(self, stt: WhisperSTT, responder: Responder) -> None:
        super().__init__()
        self.stt = stt
        self.responder = responder  # asked whether the words so far are a whole request
        self._early: asyncio.Task[Transcript] | None = None
        self._ending = False  # the turn has ended and waits for the early transcript

    async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
        await super().process_frame(frame, direction)
        if isinstance(frame, TurnPaused):
            await stop_task(self._early)
            self._early = asyncio.create_task(self._transcribe_early(frame))
        elif isinstance(frame, TurnResumed):
            await self._forget_early()
            await self.push_frame(frame, direction)  # the rehearsed reply is stale too
        elif isinstance(frame, TurnEnded):
            await self._transcribe(frame)
        else:
            if isinstance(frame, InterruptionFrame):
                await self._forget_early()
            await self.push_frame(frame, direction)

    async def _transcribe(self, frame: TurnEnded) -> None:
        record = frame.record
        if frame.too_long:
            await self._forget_early()
            await self.push_frame(Heard(text="", record=record, too_long=True))
            return
        early, self._early = self._early, None
        if early is not None:
            # No speech came after the pause (that would have dropped it): the early
            # transcript heard the whole turn.
            self._ending = True
            try:
                transcript = await early
            finally:
                self._ending = False
        else:
            transcript = await self.stt.transcribe(frame.audio, *await self._hints())
        record.stages["stt"] = transcript.seconds * 1000
        record.stages["stt_wait"] = (now() - record.ended) * 1000
        text = record.transcript = transcript.text.strip()
        await tell(self, {"type": "transcript", "text": text})
        await self.push_frame(Heard(text=text, record=record))

    async def _transcribe_early(self, frame: TurnPaused) -> Transcript:
        """Speech-to-text on a pause; if the words already make a whole request, the
        turn ends now instead of after the long silence."""
        expected, vocabulary = await self._hints()
        if expected:  # the dialogue state: an answer to the assistant's question is short
            await self.push_frame(ShortAnswerExpected(pause=frame.pause), FrameDirection.UPSTREAM)
        transcript = await self.stt.transcribe(frame.audio, expected, vocabulary)
        text = transcript.text.strip()
        if text and await self.responder.complete(text):
            await self.push_frame(EndTurnNow(pause=frame.pause), FrameDirection.UPSTREAM)
        elif text and not self._ending:
            # The long silence is still to come: time to work out the reply. (A turn
            # that ended before its words were heard gains nothing from a rehearsal.)
            await self.push_frame(Rehearse(text=text))
            await tell(self, {"type": "partial", "text": text})
        return transcript

    async def _hints(self) -> tuple[Sequence[Expected], Sequence[str]]:
        """What the assistant's last question expects and the user's own names, asked
        afresh for each decode: the question may have come from another channel of the
        same conversation, a list may have been made since. A hint that cannot be had
        is no reason to lose the turn: it is decoded without it."""
        try:
            expected = await self.responder.expected() or ()
        except Exception:
            logger.opt(exception=True).warning("no expected answers; decoding without them")
            expected = ()
        try:
            vocabulary = await self.responder.vocabulary()
        except Exception:
            logger.opt(exception=True).warning("no vocabulary; decoding without it")
            vocabulary = ()
        return expected, vocabulary

    async def _forget_early(self) -> None:
        await stop_task(self._early)
        self._early = None

    async def cleanup(self) -> None:
        await self._forget_early()
        await super().cleanup()


class Replier(FrameProcessor):
    def __init__(self, responder: Responder) -> None:
        super().__init__()
        self.responder = responder
        self._current: TurnRecord | None = None  # the turn being answered or played
        self._rehearsal: asyncio.Task[None] | None = None
        self._rehearsals = 0  # counts rehearsals and their voiding: a stale one stays quiet

    async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
        await super().process_frame(frame, direction)
        if isinstance(frame, Rehearse):
            await self._rehearse(frame.text)
            return
        if isinstance(frame, Heard):
            await self._after_rehearsal()
            await self._answer(frame)
            return
        if isinstance(frame, (TurnResumed, InterruptionFrame)):
            self._rehearsals += 1  # the words rehearsed are not the turn's
        await self.push_frame(frame, direction)
        if isinstance(frame, InterruptionFrame) and direction == FrameDirection.DOWNSTREAM:
            await self._talked_over()

    async def _rehearse(self, text: str) -> None:
        await self._after_rehearsal()  # one open transaction per conversation at a time
        self._rehearsals += 1
        self._rehearsal = asyncio.create_task(self._rehearsed(text, self._rehearsals))

    async def _rehearsed(self, text: str, number: int) -> None:
        try:
            first = await self.responder.rehearse(text)
        except Exception:
            logger.opt(exception=True).warning("rehearsal failed; the reply waits for the turn")
            return
        if first and number == self._rehearsals:
            await self.push_frame(SpeakAhead(text=first))

    async def _after_rehearsal(self) -> None:
        """Wait for a rehearsal still running (its rollback takes milliseconds), so the
        turn's own transaction never runs beside it; waiting does not cancel it."""
        if self._rehearsal is not None and not self._rehearsal.done():
            await asyncio.wait({self._rehearsal})

    async def _answer(self, frame: Heard) -> None:
        record = self._current = frame.record
        if frame.too_long:
            said = [TOO_LONG]
        elif not frame.text:
            said = [NOT_CAUGHT]
        else:
            started = now()
            said = []
            async for clause in self.responder.reply(frame.text, record.stages):
                said.append(clause)
                await self.push_frame(Clause(text=clause, record=record))
            record.stages["respond"] = (now() - started) * 1000
            record.agent_replied = True
        if not record.agent_replied:
            for clause in said:
                await self.push_frame(Clause(text=clause, record=record))
        await self.push_frame(ReplyDone(text=" ".join(said), record=record))

    async def cleanup(self) -> None:
        await stop_task(self._rehearsal)  # its transaction rolls back as it ends
        await super().cleanup()

    async def _talked_over(self) -> None:
        record, self._current = self._current, None
        if record is None or record.finished:
            return  # the reply was all heard, or none was made: nothing to take back
        heard = record.heard()
        if record.agent_replied:
            await self.responder.cut_short(heard)
        if record.audio_sent is not None:
            await tell(self, {"type": "interrupted", "heard": heard})


class Speaker(FrameProcessor):
    def __init__(self, tts: PiperTTS, cache: dict[str, Audio], *, out_rate: int) -> None:
        super().__init__()
        self.tts = tts
        self.cache = cache  # fixed phrases, made once at start-up
        self.out_rate = out_rate  # the transport resamples to it
        self.ahead = AudioAhead(tts.synthesize_now)  # a rehearsed first clause's audio

    async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
        await super().process_frame(frame, direction)
        if isinstance(frame, Clause):
            await self._speak(frame)
        elif isinstance(frame, ReplyDone):
            await self._finish(frame)
        elif isinstance(frame, SpeakAhead):
            if frame.text not in self.cache:
                await self.ahead.start(frame.text)
        else:
            if isinstance(frame, (TurnResumed, InterruptionFrame)):
                await self.ahead.drop()
            await self.push_frame(frame, direction)

    async def _speak(self, frame: Clause) -> None:
        record = frame.record
        started = now()
        audio = self.cache.get(frame.text)
        if audio is None and record.audio_made is None:
            audio = await self.ahead.take(frame.text)
            record.speculative = audio is not None
        if audio is None:
            audio = await asyncio.to_thread(self.tts.synthesize_now, frame.text)
        if record.audio_made is None:
            record.audio_made = now()
            record.stages["tts_first_chunk"] = (record.audio_made - started) * 1000
            await self.push_frame(Timings(message={"type": "timings"}, record=record))
            await self.push_frame(TTSStartedFrame())
            start = {"type": "audio_start", "rate": self.out_rate}
            await self.push_frame(AudioStart(message=start, record=record))
        record.clauses.append((frame.text, audio.seconds))
        await self.push_frame(
            TTSAudioRawFrame(audio=audio.pcm, sample_rate=audio.rate, num_channels=1)
        )
        played = sum(seconds for _text, seconds in record.clauses)
        await self.push_frame(ClauseEnd(message={}, record=record, seconds=played))

    async def cleanup(self) -> None:
        await self.ahead.drop()
        await super().cleanup()

    async def _finish(self, frame: ReplyDone) -> None:
        record = frame.record
        await self.push_frame(TTSStoppedFrame())
        await tell(self, {"type": "reply", "text": frame.text}, now=False)
        await self.push_frame(AudioEnd(message={"type": "audio_end"}, record=record))
