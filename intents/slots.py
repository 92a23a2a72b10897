"""From template wildcards to action arguments: times, amounts, titles and lists.

The grammar captures spans of text; this module reads them — splitting a time off
the end of a title ("call mom at 6"), an amount off a merchant ("$4.50 at Blue
Bottle") — into the arguments of the skills' actions. Times become ISO strings in
the user's zone, amounts decimal strings, so slots are plain JSON.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Any

from intents.items import split_items
from intents.model import UserContext
from intents.money_slots import (
    finance_expense,
    finance_income,
    finance_project,
    finance_query,
    finance_recategorize,
)
from intents.numbers import digits_for_words
from intents.spans import cased, iso
from intents.spans import split_when as _split
from intents.spans import strip_article as _strip_article
from intents.spans import window as _window
from intents.temporal import parse_when

Slots = dict[str, Any]
ALL_TASK_WORDS = {"to do", "todo", "to-do", "task", "tasks", "reminder", "reminders", ""}
PRIORITIES = {"urgent": 3, "high": 3, "medium": 2, "normal": 1, "low": 1}


def tasks_create(
    e: dict[str, str], meta: dict[str, Any], ctx: UserContext
) -> tuple[Slots, list[str]]:
    said_item = " ".join(filter(None, (e.get("task_verb"), e.get("item", ""))))
    title, when = _split(said_item, ctx)
    if meta.get("style") == "reminder":  # "remind me tomorrow at 9 to email Sarah"
        title = re.sub(r"^(?:to|about)\s+", "", title)
    if e.get("when"):
        when = parse_when(e["when"], ctx.now) or when
    elif e.get("deadline"):  # "before the weekend": a day to have it done by
        when = parse_when(f"by {e['deadline']}", ctx.now) or when
    title = cased(_strip_article(title) if meta.get("style") != "list" else title, meta)
    if meta.get("style") == "task" and re.match(r"list\b", title):
        title = ""  # "make a to do list while ...": a list, not a task; ask what to add
    slots: Slots = {"title": title}
    named, by = _split(e.get("list", ""), ctx)  # "... to my shopping list by tomorrow"
    when = when or by
    named = re.sub(r"\s+(?:please|list)$", "", named.strip())
    if named and named not in ALL_TASK_WORDS | {"the", "my", "our", "a"}:
        slots["list"] = named
    items = split_items(title, things=meta.get("style") == "list")
    if len(items) > 1:  # "eggs, bread and milk": one task each
        slots = {"items": items, **({"list": slots["list"]} if "list" in slots else {})}
    missing: list[str] = []
    if when is not None:
        start = when.moment
        slots["due_at"] = iso(start)
        if meta.get("style") == "reminder" or when.has_time:
            slots["remind_at"] = iso(start)
        if when.rrule:
            slots["recurrence"] = when.rrule
    elif meta.get("style") == "reminder":
        missing.append("when")
    if not title:
        missing.append("title")
    return slots, missing


def _named_list(e: dict[str, str]) -> Slots:
    """The list a sentence names, unless it names all tasks ("my to do list")."""
    name = e.get("list", "").strip()
    return {"list": name} if name and name not in ALL_TASK_WORDS else {}


def tasks_query(
    e: dict[str, str], meta: dict[str, Any], ctx: UserContext
) -> tuple[Slots, list[str]]:
    slots: Slots = _named_list(e)
    if e.get("when"):
        when = parse_when(e["when"], ctx.now)
        if when is not None:
            start, end = _window(when, ctx)
            slots["due_from"], slots["due_to"] = iso(start), iso(end)
    return slots, []


def tasks_complete(
    e: dict[str, str], meta: dict[str, Any], ctx: UserContext
) -> tuple[Slots, list[str]]:
    item = re.sub(r"\s+(?:from|off|on)\s+(?:my|the|our)\s+.+$", "", e.get("item", ""))
    slots: Slots = {"title": _strip_article(cased(item, meta))}
    items = split_items(slots["title"], things=True)
    if len(items) > 1:  # "tick off butter, cheese and apples"; the whole title kept too
        slots["items"] = items
    return slots, [] if slots["title"] else ["title"]


def tasks_update(
    e: dict[str, str], meta: dict[str, Any], ctx: UserContext
) -> tuple[Slots, list[str]]:
    changes: Slots = {}
    if e.get("title"):
        changes["title"] = e["title"]
    if e.get("priority"):
        changes["priority"] = PRIORITIES.get(e["priority"], 2)
    if e.get("list"):
        changes["list"] = e["list"]
    if e.get("when"):
        when = parse_when(e["when"], ctx.now)
        if when is None:  # "change the task order tile to order grout": a new title
            changes["title"] = e["when"]
            return {"title": _strip_article(e.get("target", "")), "changes": changes}, []
        start = when.moment
        changes["due_at"] = iso(start)
        changes["remind_at"] = iso(start)
    return {"title": _strip_article(e.get("target", "")), "changes": changes}, []


def tasks_delete(
    e: dict[str, str], meta: dict[str, Any], ctx: UserContext
) -> tuple[Slots, list[str]]:
    slots: Slots = _named_list(e)
    target = _strip_article(e.get("target", ""))
    if meta.get("all") or re.fullmatch(
        r"(?:all|everything)(?: of)?(?: the)?(?: items| things| tasks)?", target
    ):
        slots["all"] = True
    else:
        slots["title"] = target
    return slots, []


EVENING = re.compile(r"\b(dinner|supper|drinks|party|date night|concert|movie|show|game night)\b")


def calendar_create(
    e: dict[str, str], meta: dict[str, Any], ctx: UserContext
) -> tuple[Slots, list[str]]:
    said = f"{e.get('event', '')} {e.get('when', '')}".strip()
    title, when = _split(said, ctx)
    if when is not None and EVENING.search(title) and when.part is None:
        # "dinner on Saturday at 7" is in the evening, unless "7 am" was said
        title, when = _split(f"{said} in the evening", ctx)
    title = cased(re.sub(r"\s+(?:on|at|for|from)$", "", _strip_article(title)), meta)
    named = re.search(r"\b(?:called|named|titled)\s+(.+)$", title)
    title = named.group(1) if named else title  # "a meeting at 4 called budget review"
    slots: Slots = {"title": title[:1].upper() + title[1:] if title else ""}
    missing = [] if title else ["title"]
    if when is None or (not when.has_time and not when.rrule and when.end is None):
        if when is not None:
            slots["start_at"], slots["all_day"] = iso(when.start), True
            return slots, missing
        return slots, [*missing, "when"]
    slots["start_at"] = iso(when.start)
    if when.end is not None:
        slots["end_at"] = iso(when.end)
    if when.rrule:
        slots["recurrence"] = when.rrule
    if not when.has_time:
        slots["all_day"] = True
    return slots, missing


def calendar_query(
    e: dict[str, str], meta: dict[str, Any], ctx: UserContext
) -> tuple[Slots, list[str]]:
    when = parse_when(e["when"], ctx.now) if e.get("when") else None
    if e.get("event"):  # "when is my dentist appointment": look ahead for it
        start = ctx.now.replace(hour=0, minute=0, second=0, microsecond=0)
        return {
            "start": iso(start),
            "end": iso(start + timedelta(days=90)),
            "text": _strip_article(e["event"]),
        }, []
    start, end = _window(when, ctx)
    if when is None and not e.get("when"):
        start, end = ctx.now, ctx.now + timedelta(days=7)  # "what's next"
    return {"start": iso(start), "end": iso(end)}, []


_SPAN = re.compile(r"^(a|an|one|\d+) (minute|hour|day|week)s?$")
_SPAN_MINUTES = {"minute": 1, "hour": 60, "day": 24 * 60, "week": 7 * 24 * 60}


def lead_minutes(said: str, now: datetime) -> int | None:
    """ "10 minutes", "two days", "half an hour" as whole minutes; None if it is no span."""
    plain = digits_for_words(said.lower().strip())
    found = _SPAN.match(plain)
    if found:
        count = 1 if found[1] in ("a", "an", "one") else int(found[1])
        minutes = count * _SPAN_MINUTES[found[2]]
    else:  # "half an hour", "an hour and a half", "a few minutes"
        when = parse_when(f"in {said}", now)
        if when is None or not when.has_time:
            return None
        minutes = round((when.moment - now).total_seconds() / 60)
    return minutes if 0 < minutes <= 7 * 24 * 60 else None


def _alert(target: Slots, lead: str, ctx: UserContext) -> tuple[Slots, list[str]]:
    minutes = lead_minutes(lead, ctx.now)
    if minutes is None:
        return target, ["lead"]
    return {**target, "changes": {"alert_minutes": minutes}}, []


def calendar_update(
    e: dict[str, str], meta: dict[str, Any], ctx: UserContext
) -> tuple[Slots, list[str]]:
    event = e.get("event", "")
    if e.get("lead"):  # "remind me 10 minutes before the dentist"
        return _alert({"title": _strip_article(event)}, e["lead"], ctx)
    when = parse_when(e.get("when", ""), ctx.now) if e.get("when") else None
    if when is None:  # "make the dinner saturday at 8 instead"
        event, when = _split(event, ctx)
    slots: Slots = {"title": _strip_article(event)}
    if when is None:
        return slots, ["when"]
    moment = when.moment
    if when.has_time and not when.dated:  # "move my call with Priya to 4pm": same day
        day = _event_day(slots["title"], ctx)
        if day is None:
            slots["keep_day"] = True
        else:
            moment = moment.replace(year=day.year, month=day.month, day=day.day)
    slots["changes"] = {"start_at": iso(moment)}
    return slots, []


def _event_day(title: str, ctx: UserContext) -> date | None:
    """The day of the coming event ``title`` names, when the parser was told of it."""
    wanted = set(re.findall(r"[a-z0-9]+", title.lower()))
    for event in ctx.upcoming:
        words = set(re.findall(r"[a-z0-9]+", str(event.get("title", "")).lower()))
        if wanted and words and (wanted <= words or words <= wanted):
            start = datetime.fromisoformat(str(event["start_at"])).astimezone(ctx.now.tzinfo)
            return start.date()
    return None


def calendar_delete(
    e: dict[str, str], meta: dict[str, Any], ctx: UserContext
) -> tuple[Slots, list[str]]:
    title, _when = _split(e.get("event", ""), ctx)  # "cancel the dentist on Friday"
    return {"title": _strip_article(title)}, []


def calendar_free_time(
    e: dict[str, str], meta: dict[str, Any], ctx: UserContext
) -> tuple[Slots, list[str]]:
    minutes = 30
    length = " ".join(e.get(k, "") for k in ("duration", "event", "when"))
    found = re.search(r"(\d+(?:\.\d+)?|an?|half an?)\s*(hour|hr|minute|min)", length)
    if found:
        count = {"a": 1, "an": 1, "half a": 0.5, "half an": 0.5}.get(found.group(1))
        count = count if count is not None else float(found.group(1))
        minutes = int(count * (60 if found.group(2).startswith("h") else 1))
    elif re.search(r"\bhour\b", length):
        minutes = 60
    when_text = e.get("when", "") or e.get("duration", "")
    when = parse_when(when_text, ctx.now) if when_text else None
    if when is not None and when.duration and when.end is not None:
        when = replace(when, end=None)  # "for an hour" is the slot's length, not the window
    start, end = _window(when, ctx, default_days=7)
    if when is None:
        start = ctx.now
    slots: Slots = {"duration_minutes": minutes, "start": iso(start), "end": iso(end)}
    if when is not None and when.part in ("morning", "afternoon", "evening"):
        slots["prefer"] = when.part
    return slots, []


def reference_update(
    e: dict[str, str], meta: dict[str, Any], ctx: UserContext
) -> tuple[Slots, list[str]]:
    """ "Move it to 4 pm" keeps the day; "make that Thursday" keeps the time."""
    if e.get("lead"):  # "remind me 10 minutes before it"
        return _alert({}, e["lead"], ctx)
    if e.get("title"):
        return {"changes": {"title": e["title"]}}, []
    when = parse_when(e.get("when", ""), ctx.now)
    if when is None:
        return {}, ["when"]
    said = {
        "at": iso(when.start),
        "has_time": when.has_time,
        "has_day": when.dated,
        "meridiem": bool(re.search(r"\b(?:am|pm|a\.m\.|p\.m\.|noon|midnight)\b", when.text)),
    }
    return {"when": said}, []


def reminders_snooze(
    e: dict[str, str], meta: dict[str, Any], ctx: UserContext
) -> tuple[Slots, list[str]]:
    """ "snooze ten minutes", "remind me tomorrow instead": until when (ten minutes
    from now when not said); which reminder comes from the conversation."""
    if not e.get("when"):
        return {}, []
    when = parse_when(e["when"], ctx.now) or parse_when(f"in {e['when']}", ctx.now)
    if when is None or when.moment <= ctx.now:
        return {}, ["until"]
    return {"until": iso(when.moment)}, []


def no_slots(e: dict[str, str], meta: dict[str, Any], ctx: UserContext) -> tuple[Slots, list[str]]:
    return {}, []


RESOLVERS: dict[
    str, Callable[[dict[str, str], dict[str, Any], UserContext], tuple[Slots, list[str]]]
] = {
    "tasks.create": tasks_create,
    "tasks.query": tasks_query,
    "tasks.complete": tasks_complete,
    "tasks.update": tasks_update,
    "tasks.delete": tasks_delete,
    "calendar.create": calendar_create,
    "calendar.query": calendar_query,
    "calendar.update": calendar_update,
    "calendar.delete": calendar_delete,
    "calendar.free_time": calendar_free_time,
    "finance.expense": finance_expense,
    "finance.income": finance_income,
    "finance.query": finance_query,
    "finance.recategorize": finance_recategorize,
    "finance.invoice": finance_project,
    "finance.job_costing": finance_project,
    "reference.update": reference_update,
    "reminders.snooze": reminders_snooze,
}


def resolve(
    action: str, entities: dict[str, str], meta: dict[str, Any], ctx: UserContext
) -> tuple[Slots, list[str]]:
    return RESOLVERS.get(action, no_slots)(entities, meta, ctx)
