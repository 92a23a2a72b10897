"""Bad input that used to answer 500 now answers 4xx naming the problem, on every
route it reaches: NUL characters and lone surrogates in text, times past the
calendar's end, reversed periods, impossible month comparisons, unusable formats."""

from __future__ import annotations

import httpx
import pytest

JSON = {"content-type": "application/json"}
NUL = "a\x00b"
# A lone surrogate can only arrive as a JSON escape: it is not valid UTF-8.
SURROGATE = '"a\\ud800b"'


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("post", "/v1/tasks", '{"title": %s}'),
        ("post", "/v1/events", '{"title": %s, "start_at": "2026-03-02T09:00:00Z"}'),
        ("post", "/v1/transactions", '{"amount": "3.50", "merchant": %s}'),
        ("post", "/v1/converse", '{"text": %s}'),
        ("post", "/v1/lists", '{"name": %s}'),
        (
            "post",
            "/v1/events",
            '{"title": "x", "start_at": "2026-03-02T09:00:00Z", "attendees": [%s]}',
        ),
    ],
)
async def test_lone_surrogates_and_nul_in_bodies_are_refused(
    client: httpx.AsyncClient, auth: dict, method: str, path: str, body: str
) -> None:
    for bad in (SURROGATE, '"a\\u0000b"'):
        response = await client.request(method, path, headers={**auth, **JSON}, content=body % bad)
        assert response.status_code == 422, (path, bad, response.text)
        assert "contains a" in response.json()["detail"]
    assert (await client.get("/v1/tasks", headers=auth)).json() == []


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/v1/tasks", {"text": NUL}),
        ("/v1/transactions", {"text": NUL}),
        ("/v1/lists/match", {"name": NUL}),
    ],
)
async def test_nul_in_search_queries_is_refused(
    client: httpx.AsyncClient, auth: dict, path: str, params: dict
) -> None:
    response = await client.get(path, headers=auth, params=params)
    assert response.status_code == 422
    assert response.json()["detail"].endswith("contains a NUL character")


async def test_nul_in_a_form_field_is_refused(client: httpx.AsyncClient, auth: dict) -> None:
    csv = b"Date,Description,Amount\n2026-01-02,Coffee,-3.00\n"
    response = await client.post(
        "/v1/imports", headers=auth, files={"file": ("a.csv", csv)}, data={"account": NUL}
    )
    assert response.status_code == 422
    assert response.json()["detail"] == "account contains a NUL character"


async def test_times_past_the_calendars_end(client: httpx.AsyncClient, auth: dict) -> None:
    late = {"title": "Late", "start_at": "9999-12-31T23:00:00Z", "duration_minutes": 120}
    cases = [
        ("post", "/v1/events", {"json": late}),
        (
            "post",
            "/v1/events",
            {"json": {**late, "start_at": "2026-03-02T09:00:00Z", "duration_minutes": 10**15}},
        ),
        (
            "get",
            "/v1/events/free",
            {
                "params": {
                    "duration_minutes": 30,
                    "start": "9999-12-30T00:00:00Z",
                    "end": "9999-12-31T23:00:00Z",
                }
            },
        ),
        ("get", "/v1/events", {"params": {"start": "0001-01-01T00:00:00Z", "end": WEEK_END}}),
    ]
    for method, path, kwargs in cases:
        response = await client.request(method, path, headers=auth, **kwargs)
        assert response.status_code == 422, (path, kwargs, response.text)
        assert "between the years 1000 and 8999" in response.text


WEEK_END = "0001-01-07T00:00:00Z"


async def test_moving_an_event_past_the_end_is_refused(
    client: httpx.AsyncClient, auth: dict
) -> None:
    event = await client.post(
        "/v1/events",
        headers=auth,
        json={"title": "Long", "start_at": "2026-03-02T09:00:00Z", "end_at": "8000-01-01T00:00Z"},
    )
    assert event.status_code == 201
    moved = await client.patch(
        f"/v1/events/{event.json()['id']}",
        headers=auth,
        json={"start_at": "8990-01-01T00:00:00Z"},
    )
    assert moved.status_code == 422
    assert "would end too late" in moved.json()["detail"]


async def test_money_reports_name_the_problem(client: httpx.AsyncClient, auth: dict) -> None:
    reversed_period = await client.get(
        "/v1/transactions/summary",
        headers=auth,
        params={"start": "2026-03-01", "end": "2026-01-01"},
    )
    assert reversed_period.status_code == 422
    assert reversed_period.json()["detail"] == "the period must end after it starts"
    biggest = await client.get(
        "/v1/transactions/biggest",
        headers=auth,
        params={"start": "2026-03-01", "end": "2026-03-01"},
    )
    assert biggest.status_code == 422
    for month in ("0001-01-15", "9999-12-15"):
        compared = await client.get(
            "/v1/transactions/month-over-month", headers=auth, params={"month": month}
        )
        assert compared.status_code == 422, month
        assert "month-over-month works for months from February of year 1" in compared.text
    fine = await client.get(
        "/v1/transactions/month-over-month", headers=auth, params={"month": "9999-11-15"}
    )
    assert fine.status_code == 200


async def test_an_unusable_date_format_is_refused(client: httpx.AsyncClient, auth: dict) -> None:
    csv = b"Date,Description,Amount\n2026-01-02,Coffee,-3.00\n"
    for fmt in ("%Y%Y", "%Q"):
        response = await client.post(
            "/v1/imports", headers=auth, files={"file": ("a.csv", csv)}, data={"date_format": fmt}
        )
        assert response.status_code == 422, fmt
        assert f"date_format '{fmt}' is not a date format" in response.json()["detail"]
    good = await client.post(
        "/v1/imports",
        headers=auth,
        files={"file": ("a.csv", csv)},
        data={"date_format": "%Y-%m-%d"},
    )
    assert good.status_code == 200 and good.json()["imported"] == 1


@pytest.mark.parametrize(
    "text",
    [
        "when am I free for 99999999999 hours next week",
        "remind me to call mom in 99999 years",
        "schedule lunch on december 31 9999 at noon",
    ],
)
async def test_the_conversation_answers_numbers_past_the_calendar(
    client: httpx.AsyncClient, auth: dict, text: str
) -> None:
    response = await client.post("/v1/converse", headers=auth, json={"text": text})
    assert response.status_code == 200
    assert response.json()["reply"]


async def test_task_times_past_the_calendars_end(client: httpx.AsyncClient, auth: dict) -> None:
    for body in (
        {"title": "Old", "due_at": "0001-01-01T00:00:00+05:00"},
        {"title": "Late", "due_at": "2026-12-31T10:00:00Z", "remind_at": "9999-12-31T23:59-12:00"},
    ):
        response = await client.post("/v1/tasks", headers=auth, json=body)
        assert response.status_code == 422, body
        assert "between the years 1000 and 8999" in response.text
    search = await client.get(
        "/v1/tasks", headers=auth, params={"due_from": "0001-01-01T00:00+05:00"}
    )
    assert search.status_code == 422
