"""Replies written to be spoken: short, no symbols or markdown, times and money as
a person says them ("Thursday at 4 PM", "$42.50"), lists read briefly."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from datetime import date, datetime, timedelta
from decimal import Decimal
from string import Formatter
from typing import Any

from skills.actions import Catalogue, Outcome
from skills.finance.money import spoken as speak_money

HELP = (
    "I can keep your lists and tasks, remind you of things, run your calendar and "
    "track your money. Try: add milk to my shopping list, remind me to call mom at 6, "
    "what do I have tomorrow, or I spent 12 dollars on lunch."
)


def speak_list(items: list[str], limit: int = 5) -> str:
    items = [str(i) for i in items if str(i).strip()]
    if len(items) > limit:
        return ", ".join(items[:limit]) + f" and {len(items) - limit} more"
    if len(items) <= 1:
        return items[0] if items else ""
    return ", ".join(items[:-1]) + " and " + items[-1]


def speak_clock(moment: datetime) -> str:
    if moment.hour == 12 and moment.minute == 0:
        return "noon"
    if moment.hour == 0 and moment.minute == 0:
        return "midnight"
    hour = moment.hour % 12 or 12
    minutes = f":{moment.minute:02d}" if moment.minute else ""
    return f"{hour}{minutes} {'AM' if moment.hour < 12 else 'PM'}"


def speak_day(day: date, today: date) -> str:
    delta = (day - today).days
    if delta == 0:
        return "today"
    if delta == 1:
        return "tomorrow"
    if delta == -1:
        return "yesterday"
    if 1 < delta < 7:
        return day.strftime("%A")
    if -7 < delta < -1:
        return "last " + day.strftime("%A")
    text = f"{day.strftime('%A, %B')} {day.day}"
    return text if day.year == today.year else f"{text}, {day.year}"


def speak_when(moment: datetime | None, now: datetime, *, with_time: bool = True) -> str:
    if moment is None:
        return ""
    local = moment.astimezone(now.tzinfo)
    day = speak_day(local.date(), now.date())
    if not with_time:
        return day
    return f"{day} at {speak_clock(local)}"


def _when(value: Any, now: datetime) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))


def _money(facts: dict[str, Any], key: str = "amount") -> str:
    return speak_money(Decimal(str(facts[key])), facts.get("currency") or "USD")


Speech = tuple[list[str], dict[str, Any]]  # reply variants, in order, and their fields


def _tasks_create(f: dict[str, Any], now: datetime) -> Speech:
    fields = {"title": speak_list(f.get("titles") or [f["title"]]), "list": f.get("list")}
    due = _when(f.get("remind_at") or f.get("due_at"), now)
    if f.get("list"):
        return ["list"], fields
    if due and f.get("recurrence"):
        return ["repeating"], {**fields, "repeat": _repeat(f["recurrence"], due, now)}
    if due:
        return ["reminder"], {**fields, "when": speak_when(due, now)}
    return ["task"], fields


def _tasks_query(f: dict[str, Any], now: datetime) -> Speech:
    fields = {
        "list": f.get("list"),
        "count": f["count"],
        "things": "thing" if f["count"] == 1 else "things",
        "titles": speak_list(f["titles"]),
    }
    variant = "list" if f.get("list") else "tasks"
    if not f["count"]:
        variant = "empty_list" if f.get("list") else "empty"
    return [variant], fields


def _tasks_complete(f: dict[str, Any], now: datetime) -> Speech:
    if f.get("next_due"):
        return ["repeating"], {
            "title": f["title"],
            "next_due": speak_when(_when(f["next_due"], now), now),
        }
    return ["done"], {"title": speak_list(f.get("titles") or [f["title"]])}


def _reminders_snooze(f: dict[str, Any], now: datetime) -> Speech:
    until = _when(f["until"], now)
    if until is not None and until - now <= timedelta(hours=2):
        # Snooze times are whole minutes: "ten minutes" said at 6:00:45 is 6:10.
        minutes = max(1, math.ceil((until - now).total_seconds() / 60))
        return ["snoozed"], {"when": f"in {minutes} minute{'s' if minutes != 1 else ''}"}
    return ["snoozed"], {"when": speak_when(until, now)}


def _tasks_update(f: dict[str, Any], now: datetime) -> Speech:
    due = _when(f.get("due_at"), now)
    if "due_at" in f.get("changed", []) and due:
        return ["moved"], {"title": f["title"], "when": speak_when(due, now)}
    return ["changed"], {"title": f["title"]}


def _tasks_delete(f: dict[str, Any], now: datetime) -> Speech:
    if f["count"] == 1:
        return ["one"], {"title": f["titles"][0]}
    return ["many"], {"count": f["count"]}


def _calendar_create(f: dict[str, Any], now: datetime) -> Speech:
    start = _when(f["start_at"], now)
    fields = {"title": f["title"], "when": speak_when(start, now)}
    variants = ["event"]
    if f.get("recurrence"):
        variants, fields["repeat"] = ["repeating"], _repeat(f["recurrence"], start, now)
    if f.get("conflicts_with"):
        variants.append("overlap")
        fields["conflicts"] = speak_list(f["conflicts_with"])
    return variants, fields


def _calendar_query(f: dict[str, Any], now: datetime) -> Speech:
    events = f["events"]
    if not events:
        return ["not_found" if f.get("text") else "none"], {}
    said = [
        f"{e['title']} {speak_when(_when(e['start_at'], now), now, with_time=not e['all_day'])}"
        for e in events
    ]
    noun = "event" if len(events) == 1 else "events"
    return ["events"], {"count": len(events), "noun": noun, "events": speak_list(said)}


def speak_span(minutes: int) -> str:
    """10 → "10 minutes", 60 → "an hour", 90 → "an hour and 30 minutes"."""
    hours, rest = divmod(minutes, 60)
    parts = []
    if hours:
        parts.append("an hour" if hours == 1 else f"{hours} hours")
    if rest or not hours:
        parts.append("a minute" if rest == 1 else f"{rest} minutes")
    return " and ".join(parts)


def _calendar_update(f: dict[str, Any], now: datetime) -> Speech:
    if f.get("changed") == ["alert_minutes"] and f.get("alert_minutes") is not None:
        return ["alert"], {"title": f["title"], "lead": speak_span(f["alert_minutes"])}
    return ["moved"], {"title": f["title"], "when": speak_when(_when(f["start_at"], now), now)}


def _calendar_delete(f: dict[str, Any], now: datetime) -> Speech:
    if f.get("occurrence"):
        when = speak_when(_when(f["occurrence"], now), now)
        return ["occurrence"], {"title": f["title"], "when": when}
    return ["cancelled"], {"title": f["title"]}


def _calendar_free_time(f: dict[str, Any], now: datetime) -> Speech:
    slots = [speak_when(_when(s["start_at"], now), now) for s in f["slots"][:3]]
    if not slots:
        return ["none"], {}
    return ["free"], {"slots": speak_list(slots)}


def _money_logged(f: dict[str, Any], now: datetime) -> Speech:
    fields = {"amount": _money(f), "merchant": f.get("merchant"), "category": f.get("category")}
    filed = bool(f.get("category")) and f["category"] != "Other"
    variant = {
        (True, True): "merchant_category",
        (True, False): "merchant",
        (False, True): "category",
        (False, False): "plain",
    }[(bool(f.get("merchant")), filed)]
    return [variant], fields


def _finance_query(f: dict[str, Any], now: datetime) -> Speech:
    verb = "spent" if str(f.get("kind", "expense")).endswith("expense") else "earned"
    fields = {
        "who": f.get("household") or "You",  # a household's books are its own figure
        "total": speak_money(Decimal(str(f["total"])), f["currency"]),
        "category": f.get("category"),
        "period": _period(f, now),
    }
    variants = [f"{verb}_on" if f.get("category") else verb]
    top = f.get("top") or []
    if top and not f.get("category") and len(top) > 1:
        parts = [f"{t['name']} {speak_money(Decimal(str(t['total'])), f['currency'])}" for t in top]
        variants.append("top")
        fields["top"] = speak_list(parts)
    return variants, fields


def _finance_recategorize(f: dict[str, Any], now: datetime) -> Speech:
    fields = {"merchant": f["merchant"], "category": f["category"]}
    if f.get("count", 1) > 1:
        return ["many"], {**fields, "more": f["count"] - 1}
    return ["one"], fields


def _finance_invoice(f: dict[str, Any], now: datetime) -> Speech:
    fields = {
        "number": f["number"],
        "client": f.get("client"),
        "total": speak_money(Decimal(str(f["total"])), f["currency"]),
        "due": speak_day(f["due_on"], now.date()),
    }
    return ["client" if f.get("client") else "plain"], fields


def _finance_job_costing(f: dict[str, Any], now: datetime) -> Speech:
    cur = f["currency"]
    fields = {
        "project": f["project"],
        "revenue": speak_money(Decimal(str(f["revenue"])), cur),
        "costs": speak_money(Decimal(str(f["costs"])), cur),
        "margin": f.get("margin_percent"),
        "budget": f.get("budget_used_percent"),
    }
    margin, budget = fields["margin"] is not None, fields["budget"] is not None
    variant = {
        (True, True): "margin_budget",
        (True, False): "margin",
        (False, True): "budget",
        (False, False): "plain",
    }[(margin, budget)]
    return [variant], fields


# How each action's outcome is spoken: which of its reply templates, with what.
SPEAKERS: dict[str, Callable[[dict[str, Any], datetime], Speech]] = {
    "tasks.create": _tasks_create,
    "tasks.query": _tasks_query,
    "tasks.complete": _tasks_complete,
    "tasks.update": _tasks_update,
    "tasks.delete": _tasks_delete,
    "calendar.create": _calendar_create,
    "calendar.query": _calendar_query,
    "calendar.update": _calendar_update,
    "calendar.delete": _calendar_delete,
    "calendar.free_time": _calendar_free_time,
    "finance.expense": _money_logged,
    "finance.income": _money_logged,
    "finance.query": _finance_query,
    "finance.recategorize": _finance_recategorize,
    "finance.invoice": _finance_invoice,
    "finance.job_costing": _finance_job_costing,
    "reminders.snooze": _reminders_snooze,
}


def describe(outcome: Outcome, now: datetime, catalogue: Catalogue) -> str:
    """The spoken reply: the action's own templates, filled from the outcome's facts."""
    speaker = SPEAKERS.get(outcome.action)
    if speaker is None or outcome.action not in catalogue:
        return "Done."
    variants, fields = speaker(outcome.facts, now)
    templates = catalogue[outcome.action].replies
    return "".join(templates[variant].format(**fields) for variant in variants)


def fill(templates: Iterable[str], fields: dict[str, Any]) -> str | None:
    """The first template all of whose fields are known, filled in."""
    for template in templates:
        names = [name for _, name, _, _ in Formatter().parse(template) if name]
        if all(fields.get(name) not in (None, "") for name in names):
            return template.format(**fields)
    return None


def _period(f: dict[str, Any], now: datetime) -> str:
    start, end = date.fromisoformat(str(f["start"])), date.fromisoformat(str(f["end"]))
    today = now.date()
    if start == today.replace(day=1) and end <= today + timedelta(days=1):
        return "so far this month"
    if start.day == 1 and (end - start).days in (28, 29, 30, 31) and end.day == 1:
        return f"in {start.strftime('%B')}"
    if (end - start).days == 1:
        return (
            speak_day(start, today) if (today - start).days < 7 else f"on {speak_day(start, today)}"
        )
    return f"from {speak_day(start, today)} to {speak_day(end - timedelta(days=1), today)}"


def _repeat(rule: str, start: datetime | None, now: datetime) -> str:
    parts = dict(item.split("=", 1) for item in rule.split(";") if "=" in item)
    every = "every other" if parts.get("INTERVAL") == "2" else "every"
    clock = f" at {speak_clock(start.astimezone(now.tzinfo))}" if start else ""
    days = {
        "MO": "Monday",
        "TU": "Tuesday",
        "WE": "Wednesday",
        "TH": "Thursday",
        "FR": "Friday",
        "SA": "Saturday",
        "SU": "Sunday",
    }
    if parts.get("BYDAY") == "MO,TU,WE,TH,FR":
        return f"every weekday{clock}"
    if parts.get("BYDAY"):
        return f"{every} {speak_list([days[d] for d in parts['BYDAY'].split(',')])}{clock}"
    unit = {"DAILY": "day", "WEEKLY": "week", "MONTHLY": "month", "YEARLY": "year"}[parts["FREQ"]]
    return f"{every} {unit}{clock}"


def proposal_fields(slots: dict[str, Any], now: datetime, currency: str) -> dict[str, Any]:
    """What an action's yes-or-no questions may say about its arguments, spoken."""
    fields: dict[str, Any] = {
        key: value
        for key, value in slots.items()
        if isinstance(value, str | int | float) and not isinstance(value, bool)
    }
    if isinstance(slots.get("items"), list):  # "Add eggs, bread and milk to ...?"
        fields["title"] = speak_list([str(item) for item in slots["items"]])
    changes = slots.get("changes") if isinstance(slots.get("changes"), dict) else {}
    moment = next(
        (
            value
            for value in (
                slots.get("remind_at"),
                slots.get("due_at"),
                slots.get("start_at"),
                changes.get("start_at"),
                changes.get("due_at"),
            )
            if value
        ),
        None,
    )
    try:
        fields["when"] = speak_when(_when(moment, now), now) if moment else None
        if moment and slots.get("keep_day"):  # only a time was said: the event keeps its day
            fields["when"] = speak_clock(_when(moment, now).astimezone(now.tzinfo))
        if slots.get("amount") is not None:
            money = Decimal(str(slots["amount"]))
            fields["amount"] = speak_money(money, slots.get("currency") or currency)
    except (ValueError, ArithmeticError):  # a guess's arguments may not parse: say less
        fields.pop("amount", None)
    fields["minutes"] = slots.get("duration_minutes")
    return fields
