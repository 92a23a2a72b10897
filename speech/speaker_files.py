"""The speaker without a sound card: recordings in (`--input`), replies out as WAV
files (`--output`), for tests, the eval harness and trying it out."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

from speech.audio import SPEECH_RATE, Audio, read_wav, write_wav
from speech.pace import SendPace
from speech.speaker import FRAME_BYTES, Speaker, SpeakerError

QUIET_AFTER_SECONDS = 1.5  # silence after each input file, as a pause after speaking


class WavFolder:
    """Writes each reply (and each reminder spoken) as reply-001.wav, reply-002.wav…"""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.written: list[Path] = []
        self._pcm = bytearray()
        self._rate = SPEECH_RATE

    async def chime(self) -> None:
        return None  # a file has no one to cue

    async def start(self, rate: int) -> None:
        self._pcm, self._rate = bytearray(), rate

    async def write(self, pcm: bytes) -> None:
        self._pcm += pcm

    async def end(self) -> None:
        if not self._pcm:
            return
        path = self.folder / f"reply-{len(self.written) + 1:03d}.wav"
        data = write_wav(Audio(bytes(self._pcm), self._rate))
        self._pcm = bytearray()
        await asyncio.to_thread(self._write, path, data)
        self.written.append(path)

    def _write(self, path: Path, data: bytes) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)

    async def stop(self) -> None:
        await self.end()  # what was heard of it is kept


def read_inputs(paths: Sequence[Path]) -> list[Audio]:
    """The recordings as 16 kHz audio; a file that cannot be used is refused by name."""
    recordings = []
    for path in paths:
        try:
            recordings.append(read_wav(path.read_bytes()).resampled(SPEECH_RATE))
        except (OSError, ValueError) as exc:
            raise SpeakerError(f"{path}: {exc}") from exc
    return recordings


async def file_frames(
    recordings: Sequence[Audio], speaker: Speaker, *, realtime: bool = False
) -> AsyncIterator[bytes]:
    """Recordings as a microphone would hear them, one after another: each waits
    until the service is reachable and the previous turn is over (a person waits for
    the answer), and is followed by a pause. Sent as fast as the socket allows, or
    at the pace of speech with `realtime`."""
    pace = SendPace()  # one allowance for the whole stream, as the socket keeps one
    quiet = bytes(int(SPEECH_RATE * QUIET_AFTER_SECONDS) * 2)
    for recording in recordings:
        await speaker.connected()
        await speaker.settled()
        if realtime:  # each recording starts when it is its turn, then plays in time
            pace = SendPace(0.0)
        pcm = recording.pcm + quiet
        for i in range(0, len(pcm), FRAME_BYTES):
            frame = pcm[i : i + FRAME_BYTES]
            await pace.before(len(frame) / 2 / SPEECH_RATE)
            yield frame
