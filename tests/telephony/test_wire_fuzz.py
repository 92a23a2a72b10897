"""Property tests of what Twilio sends: Media Streams messages of any shape become
audio, keys, a clean BadInput or nothing; signed webhook forms of any content get a
TwiML answer, never a 5xx."""

from __future__ import annotations

import base64
import json
import xml.etree.ElementTree as ET
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pipecat.frames.frames import InputAudioRawFrame

from speech.audio import mulaw_decode
from speech.frames import BadInput, Typed
from store.models import User
from telephony.media import MAX_PAYLOAD, TwilioMediaProtocol
from tests.telephony.conftest import ANN_PHONE, PUBLIC_URL, SERVICE_NUMBER, signed
from tests.twilio_server import ACCOUNT_SID

FUZZ = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,  # the same messages each run: a failure here is reproducible
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=10,
)
EVENTS = st.sampled_from(["media", "dtmf", "mark", "stop", "start", "connected", ""])
# Messages shaped like Twilio's, with any value where Twilio puts one.
SHAPED = st.fixed_dictionaries(
    {"event": EVENTS},
    optional={
        "media": st.one_of(
            JSON,
            st.fixed_dictionaries(
                {"payload": JSON | st.binary().map(lambda b: base64.b64encode(b).decode())}
            ),
        ),
        "dtmf": st.one_of(JSON, st.fixed_dictionaries({"digit": JSON})),
        "mark": st.one_of(JSON, st.fixed_dictionaries({"name": JSON})),
        "streamSid": JSON,
    },
).map(json.dumps)
MESSAGES = st.one_of(SHAPED, JSON.map(json.dumps), st.text(max_size=60), st.binary(max_size=60))


@FUZZ
@given(messages=st.lists(MESSAGES, min_size=1, max_size=6))
async def test_any_media_stream_message_is_read_or_refused_cleanly(
    messages: list[str | bytes],
) -> None:
    protocol = TwilioMediaProtocol("MZ" + "0" * 32)
    for message in messages:
        frame = await protocol.deserialize(message)
        assert frame is None or isinstance(frame, BadInput | Typed | InputAudioRawFrame)
        if isinstance(frame, BadInput):
            assert frame.message


@pytest.mark.parametrize(
    "message",
    [  # each once raised out of the serializer and ended the call
        '{"event": "dtmf", "dtmf": null}',
        '{"event": "mark", "mark": "end-1"}',
        '["event", "media"]',
        "[" * 100_000,
    ],
)
async def test_a_message_not_of_twilios_shape_is_refused_not_raised(message: str) -> None:
    frame = await TwilioMediaProtocol("MZ1").deserialize(message)
    assert frame is None or isinstance(frame, BadInput)


@FUZZ
@given(payload=st.binary(min_size=1, max_size=MAX_PAYLOAD))
async def test_caller_audio_arrives_as_the_pcm_it_encodes(payload: bytes) -> None:
    message = {"event": "media", "media": {"payload": base64.b64encode(payload).decode()}}
    frame = await TwilioMediaProtocol("MZ1").deserialize(json.dumps(message))
    assert isinstance(frame, InputAudioRawFrame)
    assert frame.audio == mulaw_decode(payload) and frame.sample_rate == 8000


@FUZZ
@given(digits=st.text(alphabet="0123456789", min_size=1, max_size=8))
async def test_keys_then_hash_are_one_typed_answer(digits: str) -> None:
    protocol = TwilioMediaProtocol("MZ1")
    for digit in [*digits, "#"]:
        frame = await protocol.deserialize(json.dumps({"event": "dtmf", "dtmf": {"digit": digit}}))
    assert isinstance(frame, Typed)
    assert frame.text == {"1": "yes", "2": "no"}.get(digits, digits)


# Form text as Twilio can send it: any Unicode a phone can type (no lone surrogates,
# which no HTTP form can carry).
FORM_TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=120)


@settings(FUZZ, max_examples=15)
@given(
    body=FORM_TEXT,
    extra=st.dictionaries(
        st.sampled_from(["NumMedia", "SmsStatus", "FromCity", "MessageSid"]), FORM_TEXT, max_size=3
    ),
)
async def test_any_signed_text_gets_a_twiml_answer(
    body: str, extra: dict[str, str], twilio_client: httpx.AsyncClient, ann: User
) -> None:
    form = {"AccountSid": ACCOUNT_SID, "From": ANN_PHONE, "To": SERVICE_NUMBER, "Body": body}
    form |= extra
    answer = await _post_signed(twilio_client, "/v1/twilio/sms", form)
    assert answer.status_code == 200, answer.text
    assert ET.fromstring(answer.text).tag == "Response"  # noqa: S314 - our own reply


@settings(FUZZ, max_examples=15)
@given(
    path=st.sampled_from(["/v1/twilio/voice", "/v1/twilio/status"]),
    form=st.dictionaries(
        st.sampled_from(
            [
                "From",
                "To",
                "CallSid",
                "MessageSid",
                "CallStatus",
                "MessageStatus",
                "AccountSid",
                "Digits",
                "ErrorCode",
            ]
        ),
        FORM_TEXT | st.sampled_from([ANN_PHONE, SERVICE_NUMBER, ACCOUNT_SID]),
        max_size=6,
    ),
)
async def test_any_signed_call_or_status_form_is_answered(
    path: str, form: dict[str, str], twilio_client: httpx.AsyncClient, ann: User
) -> None:
    answer = await _post_signed(twilio_client, path, form)
    assert answer.status_code < 500, answer.text
    if answer.status_code == 200:
        assert ET.fromstring(answer.text).tag == "Response"  # noqa: S314 - our own reply


async def _post_signed(
    client: httpx.AsyncClient, path: str, form: dict[str, Any]
) -> httpx.Response:
    assert PUBLIC_URL  # the address signed for is the public one, not the client's
    return await client.post(path, data=form, headers=signed(path, form))
