"""Property tests of the voice socket's wire format: any frame a client sends is
audio of the declared format, a clean BadInput, or ignored; reply audio goes out as
the format the client asked for."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pipecat.frames.frames import InputAudioRawFrame, OutputAudioRawFrame

from speech.audio import mulaw_decode, mulaw_encode
from speech.frames import BadInput
from speech.protocol import MAX_FRAME_SECONDS, VoiceProtocol

FUZZ = settings(max_examples=80, deadline=None, derandomize=True, database=None)
RATES = st.sampled_from([8000, 16000, 24000, 48000])
FRAMES = st.one_of(st.binary(max_size=4096), st.text(max_size=200))


@FUZZ
@given(data=FRAMES, rate=RATES, encoding=st.sampled_from(["pcm16", "mulaw"]))
async def test_any_frame_is_audio_a_clean_refusal_or_ignored(
    data: bytes | str, rate: int, encoding: str
) -> None:
    protocol = VoiceProtocol(in_rate=rate, out_rate=24000, encoding=encoding)  # type: ignore[arg-type]
    frame = await protocol.deserialize(data)
    if isinstance(data, str):
        assert frame is None  # text is reserved for control messages
    elif isinstance(frame, BadInput):
        assert str(rate) in frame.message
    else:
        assert isinstance(frame, InputAudioRawFrame) and frame.sample_rate == rate
        assert frame.audio == (data if encoding == "pcm16" else mulaw_decode(data))


@pytest.mark.parametrize(("encoding", "width"), [("pcm16", 2), ("mulaw", 1)])
async def test_a_frame_past_two_seconds_or_of_half_samples_is_refused(
    encoding: str, width: int
) -> None:
    protocol = VoiceProtocol(in_rate=16000, out_rate=24000, encoding=encoding)  # type: ignore[arg-type]
    too_long = b"\0" * (int(16000 * MAX_FRAME_SECONDS) * width + width)
    assert isinstance(await protocol.deserialize(too_long), BadInput)
    if width == 2:
        assert isinstance(await protocol.deserialize(b"\0\0\0"), BadInput)


@FUZZ
@given(samples=st.binary(max_size=2048).map(lambda b: b[: len(b) // 2 * 2]))
async def test_reply_audio_goes_out_in_the_clients_format(samples: bytes) -> None:
    frame = OutputAudioRawFrame(audio=samples, sample_rate=24000, num_channels=1)
    pcm = VoiceProtocol(in_rate=16000, out_rate=24000)
    assert await pcm.serialize(frame) == samples
    phone = VoiceProtocol(in_rate=8000, out_rate=8000, encoding="mulaw")
    encoded = await phone.serialize(frame)
    assert encoded == mulaw_encode(samples)
    # μ-law is lossy once; what it says survives a second trip unchanged.
    assert mulaw_encode(mulaw_decode(encoded)) == encoded
