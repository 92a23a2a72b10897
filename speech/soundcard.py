"""The sound card, through PortAudio (sounddevice), for a real device. Imported only
when used: tests and servers never need a sound card or PortAudio."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from speech.audio import SPEECH_RATE
from speech.speaker import FRAME_BYTES, SpeakerError, chime_sound

_QUEUE_FRAMES = 250  # 5 s of microphone audio; older frames are dropped if the loop stalls


def _sounddevice() -> Any:
    try:
        import sounddevice
    except OSError as exc:  # the Python package is there; the PortAudio library is not
        raise SpeakerError(
            f"no sound card access: {exc}. Install PortAudio (apt-get install libportaudio2), "
            "or use --input FILE.wav --output DIR"
        ) from exc
    return sounddevice


async def microphone(device: str | int | None = None) -> AsyncIterator[bytes]:
    """20 ms frames of 16 kHz mono PCM16 from the microphone, for ever."""
    sd = _sounddevice()
    loop = asyncio.get_running_loop()
    frames: asyncio.Queue[bytes] = asyncio.Queue(maxsize=_QUEUE_FRAMES)

    def put(frame: bytes) -> None:
        if frames.full():  # a stalled loop loses the oldest audio, not the newest
            frames.get_nowait()
        frames.put_nowait(frame)

    def captured(data: Any, _count: int, _time: Any, _status: Any) -> None:
        loop.call_soon_threadsafe(put, bytes(data))  # PortAudio's thread → the loop

    try:
        stream = sd.RawInputStream(
            samplerate=SPEECH_RATE,
            blocksize=FRAME_BYTES // 2,
            channels=1,
            dtype="int16",
            device=device,
            callback=captured,
        )
    except sd.PortAudioError as exc:
        raise SpeakerError(f"the microphone cannot be opened: {exc}") from exc
    with stream:
        while True:
            yield await frames.get()


class SoundCard:
    """Plays replies on the default (or given) output device as they arrive."""

    def __init__(self, device: str | int | None = None) -> None:
        self._sd = _sounddevice()
        self.device = device
        self._stream: Any = None

    def _open(self, rate: int) -> None:
        if self._stream is not None and self._stream.samplerate == rate:
            return
        self._close()
        try:
            self._stream = self._sd.RawOutputStream(
                samplerate=rate, channels=1, dtype="int16", device=self.device
            )
        except self._sd.PortAudioError as exc:
            raise SpeakerError(f"the speaker cannot be opened: {exc}") from exc
        self._stream.start()

    def _close(self) -> None:
        if self._stream is not None:
            self._stream.close()
            self._stream = None

    async def chime(self) -> None:
        await asyncio.to_thread(self._play, SPEECH_RATE, chime_sound())

    def _play(self, rate: int, pcm: bytes) -> None:
        self._open(rate)
        self._stream.write(pcm)

    async def start(self, rate: int) -> None:
        await asyncio.to_thread(self._open, rate)

    async def write(self, pcm: bytes) -> None:
        # Blocks until PortAudio has room: the service sends at playback speed.
        await asyncio.to_thread(self._stream.write, pcm)

    async def end(self) -> None:
        return None  # the stream stays open: the next reply starts without a click

    async def stop(self) -> None:
        def cut() -> None:  # drop what is buffered, then be ready for more
            if self._stream is not None:
                self._stream.abort()
                self._stream.start()

        await asyncio.to_thread(cut)
