"""Replies written to be spoken: short, no symbols or markdown, times and money as
a person says them ("Thursday at 4 PM", "$42.50"), lists read briefly."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from skills.actions import Outcome
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


def describe(outcome: Outcome, now: datetime) -> str:
    f = outcome.facts
    name = outcome.action
    if name == "tasks.create":
        title = f["title"]
        if f.get("list"):
            return f"Added {title} to your {f['list']} list."
        due = _when(f.get("remind_at") or f.get("due_at"), now)
        if due and f.get("recurrence"):
            return f"Okay, I'll remind you to {title} {_repeat(f['recurrence'], due, now)}."
        if due:
            return f"Okay, I'll remind you to {title} {speak_when(due, now)}."
        return f"Added {title} to your tasks."
    if name == "tasks.query":
        where = f"your {f['list']} list" if f.get("list") else "your tasks"
        if not f["count"]:
            return f"There's nothing on {where}."
        things = "thing" if f["count"] == 1 else "things"
        return f"You have {f['count']} {things} on {where}: {speak_list(f['titles'])}."
    if name == "tasks.complete":
        if f.get("next_due"):
            return f"Done. {f['title']} is next due {speak_when(_when(f['next_due'], now), now)}."
        return f"Marked {f['title']} as done."
    if name == "tasks.update":
        due = _when(f.get("due_at"), now)
        if "due_at" in f.get("changed", []) and due:
            return f"Moved {f['title']} to {speak_when(due, now)}."
        return f"Updated {f['title']}."
    if name == "tasks.delete":
        if f["count"] == 1:
            return f"Deleted {f['titles'][0]}."
        return f"Deleted {f['count']} tasks."
    if name == "calendar.create":
        start = _when(f["start_at"], now)
        text = f"Added {f['title']} {speak_when(start, now)}."
        if f.get("recurrence"):
            text = f"Added {f['title']} {_repeat(f['recurrence'], start, now)}."
        if f.get("conflicts_with"):
            text += f" Heads up, that overlaps with {speak_list(f['conflicts_with'])}."
        return text
    if name == "calendar.query":
        events = f["events"]
        if not events:
            return (
                "Nothing on your calendar then."
                if not f.get("text")
                else "I don't see that on your calendar."
            )
        said = [
            f"{e['title']} {speak_when(_when(e['start_at'], now), now, with_time=not e['all_day'])}"
            for e in events
        ]
        count = len(events)
        return f"You have {count} {'event' if count == 1 else 'events'}: {speak_list(said)}."
    if name == "calendar.update":
        return f"Moved {f['title']} to {speak_when(_when(f['start_at'], now), now)}."
    if name == "calendar.delete":
        if f.get("occurrence"):
            return f"Cancelled {f['title']} on {speak_when(_when(f['occurrence'], now), now)}."
        return f"Cancelled {f['title']}."
    if name == "calendar.free_time":
        slots = [speak_when(_when(s["start_at"], now), now) for s in f["slots"][:3]]
        if not slots:
            return "I couldn't find a free slot then."
        return f"You're free {speak_list(slots)}."
    if name in ("finance.expense", "finance.income"):
        verb = "Logged" if name == "finance.expense" else "Recorded"
        where = f" at {f['merchant']}" if f.get("merchant") and name == "finance.expense" else ""
        source = f" from {f['merchant']}" if f.get("merchant") and name == "finance.income" else ""
        category = (
            f" under {f['category']}" if f.get("category") and f["category"] != "Other" else ""
        )
        kind = "" if name == "finance.expense" else " income"
        return f"{verb} {_money(f)}{kind}{where}{source}{category}."
    if name == "finance.query":
        period = _period(f, now)
        verb = "spent" if str(f.get("kind", "expense")).endswith("expense") else "earned"
        total = speak_money(Decimal(str(f["total"])), f["currency"])
        subject = f" on {f['category']}" if f.get("category") else ""
        text = f"You {verb} {total}{subject} {period}."
        top = f.get("top") or []
        if top and not f.get("category") and len(top) > 1:
            parts = [
                f"{t['name']} {speak_money(Decimal(str(t['total'])), f['currency'])}" for t in top
            ]
            text += f" Most went to {speak_list(parts)}."
        return text
    if name == "finance.recategorize":
        more = f" and {f['count'] - 1} more" if f.get("count", 1) > 1 else ""
        return f"Filed {f['merchant']}{more} under {f['category']}. I'll remember that."
    if name == "finance.invoice":
        total = speak_money(Decimal(str(f["total"])), f["currency"])
        client = f" to {f['client']}" if f.get("client") else ""
        due = speak_day(f["due_on"], now.date())
        return f"Invoice {f['number']}{client} for {total} is ready, due {due}."
    if name == "finance.job_costing":
        cur = f["currency"]
        text = (
            f"{f['project']}: {speak_money(Decimal(str(f['revenue'])), cur)} in, "
            f"{speak_money(Decimal(str(f['costs'])), cur)} out"
        )
        if f.get("margin_percent") is not None:
            text += f", a {f['margin_percent']} percent margin"
        if f.get("budget_used_percent") is not None:
            text += f". {f['budget_used_percent']} percent of the budget is spent"
        return text + "."
    return "Done."


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
