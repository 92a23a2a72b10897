"""Property tests of the date, time and money readers: whatever is said, they answer
a reading or nothing (never an exception), and an amount the service says is read
back as the same amount."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from intents.model import UserContext
from intents.money import find_money
from intents.spans import split_when, window
from intents.temporal import parse_when
from skills.context import SkillError
from skills.finance.money import amount_in, spoken

FUZZ = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,  # the same inputs each run: a failure here is reproducible
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
# Words the readers look for, so generated sentences reach deep into their grammars.
WORDS = [
    "at", "on", "in", "by", "from", "to", "until", "every", "next", "last", "this",
    "tomorrow", "today", "tonight", "noon", "midnight", "morning", "evening", "pm", "am",
    "monday", "friday", "weekend", "week", "month", "year", "days", "hours", "minutes",
    "january", "march", "december", "the", "first", "31st", "2nd", "end", "of", "half",
    "quarter", "past", "and", "a", "for", "twelve", "fifty", "thousand", "hundred",
    "dollars", "bucks", "cents", "euros", "yen", "pounds", "$", "€", "£", "¥", ",", ".",
    ":", "-", "/", "9999999999", "0", "7", "12", "30", "2026", "1e9", "½",
]  # fmt: skip
SENTENCES = st.one_of(
    st.text(max_size=80),
    st.lists(
        st.one_of(st.sampled_from(WORDS), st.integers(-(10**12), 10**12).map(str)), max_size=12
    ).map(" ".join),
)
ZONES = st.sampled_from(["UTC", "America/Chicago", "Asia/Kolkata", "Pacific/Chatham"])
NOWS = st.builds(
    lambda moment, zone: moment.astimezone(ZoneInfo(zone)),
    st.datetimes(datetime(1971, 1, 1), datetime(2099, 12, 31), timezones=st.just(UTC)),
    ZONES,
)


@FUZZ
@given(text=SENTENCES, now=NOWS, past=st.booleans())
def test_a_time_is_read_or_not_never_raises(text: str, now: datetime, past: bool) -> None:
    when = parse_when(text, now, prefer_past=past)
    if when is not None:
        assert when.start.tzinfo is not None  # shown in the user's zone, stored in UTC
        assert when.end is None or when.end >= when.start


@FUZZ
@given(text=SENTENCES, now=NOWS)
def test_a_time_split_off_a_request_leaves_words_and_a_window(text: str, now: datetime) -> None:
    ctx = UserContext(now=now)
    rest, when = split_when(text, ctx)
    assert isinstance(rest, str)
    start, end = window(when, ctx)
    assert start.tzinfo is not None and end >= start


@FUZZ
@given(text=SENTENCES, bare=st.booleans())
def test_money_is_read_or_not_never_raises(text: str, bare: bool) -> None:
    money = find_money(text, bare=bare)
    if money is not None:
        assert money.amount.is_finite() and money.amount >= 0
        assert money.start <= money.end


AMOUNTS = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("999999.99"), places=2)


@FUZZ
@given(amount=AMOUNTS)
def test_an_amount_the_service_says_is_heard_back_the_same(amount: Decimal) -> None:
    said = spoken(amount, "USD")  # "$1,234.50", as a reply says it
    heard = find_money(f"I spent {said} at the store")
    assert heard is not None and heard.amount == amount and heard.currency is None


@FUZZ
@given(amount=AMOUNTS, currency=st.sampled_from(["USD", "EUR", "GBP"]))
def test_an_amount_written_plainly_is_taken_as_written(amount: Decimal, currency: str) -> None:
    assert amount_in(str(amount), currency) == amount
    assert amount_in(f"{amount:,}", currency) == amount


@FUZZ
@given(text=st.one_of(st.text(max_size=40), st.sampled_from(["1e999999", "NaN", "-0", "1e30"])))
def test_an_amount_is_taken_or_refused_in_words(text: str) -> None:
    try:
        amount = amount_in(text, "USD")
    except SkillError:
        return  # the documented refusal, in words the route sends back
    assert amount.is_finite() and amount > 0 and amount == amount.quantize(Decimal("0.01"))


@pytest.mark.parametrize("days", [0, 1, 7])
def test_a_window_without_a_time_is_the_days_from_midnight(days: int) -> None:
    now = datetime(2026, 3, 8, 15, 30, tzinfo=ZoneInfo("America/Chicago"))
    start, end = window(None, UserContext(now=now), default_days=days)
    assert start == now.replace(hour=0, minute=0) and end - start == timedelta(days=days)
