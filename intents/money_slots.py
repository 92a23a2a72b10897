"""Money requests' arguments: the amount wherever it is said, the merchant or payer,
the day it happened, and the user's own project."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from intents.model import UserContext
from intents.money import find_money
from intents.numbers import digits_for_words
from intents.spans import cased
from intents.spans import split_when as _split
from intents.spans import strip_article as _strip_article
from intents.spans import window as _window
from intents.temporal import parse_when

Slots = dict[str, Any]


def _money_and_rest(text: str) -> tuple[Slots, str]:
    money = find_money(text, bare=True)
    if money is None:
        return {}, text
    normalized = digits_for_words(text)
    rest = (normalized[: money.start] + " " + normalized[money.end :]).strip()
    slots: Slots = {"amount": str(money.amount)}
    if money.currency:
        slots["currency"] = money.currency
    return slots, rest


def _money(
    e: dict[str, str], meta: dict[str, Any], ctx: UserContext, party: str
) -> tuple[Slots, list[str]]:
    slots, rest = _money_and_rest(e.get("amount", ""))
    rest = re.sub(r"^(?:log|record|add|track|note|enter)\b\s*", "", rest)  # the command
    counterpart = e.get(party, "")
    if not slots:  # "i paid the plumber 80": the amount may sit in the other span
        slots, counterpart = _money_and_rest(counterpart)
    at = re.match(r"at\s+(.+)$", rest.strip())
    if at and counterpart and not re.match(r"(?:at|on|in|to)\b", counterpart):
        # "bought a drill for 129 at Lowe's": the place is where, the thing is what
        slots["description"] = _strip_article(counterpart)
        rest, counterpart = at.group(0), ""
    text = f"{rest} {counterpart}".strip()
    text, when = _split(text, ctx, past=True)
    if e.get("past"):  # "yesterday I spent ..."
        when = parse_when(e["past"], ctx.now, prefer_past=True) or when
    if when is not None:
        slots["occurred_on"] = when.start.date().isoformat()
    text = _own_project(text, ctx, slots).strip()
    project = re.search(r"\s+for (?:the )?(.+?) (?:job|project)$", text)
    if project:  # "for the Miller job", a project the user has not named before
        slots["project"] = project.group(1)
        text = text[: project.start()]
    place = re.search(r"(?:^|\s)at\s+(.+?)(?:\s+(?:for|on)\s+(.+))?$", text)
    if place and (place.start() > 0 or place.group(2)):
        # "60 for gas at Shell", "45 at Shell for gas": Shell is where, gas is what
        thing = re.sub(r"^(?:for|on)\s+", "", f"{text[: place.start()]} {place.group(2) or ''}")
        if thing.strip():
            slots.setdefault("description", _strip_article(thing.strip()))
        text = f"at {place.group(1)}"
    connector = re.match(r"^(at|on|in|for|to|from)\s+", text.strip())
    text = text.strip()[connector.end() :] if connector else text.strip()
    if (
        connector
        and connector.group(1) in ("on", "for")
        and not re.search(r"[A-Z]", cased(text, meta))
    ):
        # "spent 12 on lunch": what it was for, not where; the category follows from it
        slots["description"] = text
        text = ""
    named = re.match(r"(.+?)\s+(?:for|on)\s+(.+)$", text)
    if (  # "at Shell for gas": a name, then what it was for
        named
        and re.search(r"[A-Z]", cased(named.group(1), meta))
        and not re.search(r"[A-Z]", cased(named.group(2), meta))
    ):
        slots.setdefault("description", named.group(2))
        text = named.group(1)
    if text:
        text = _strip_article(cased(text, meta))
        slots["merchant"] = text[:1].upper() + text[1:]
    return slots, [] if "amount" in slots else ["amount"]


def _own_project(text: str, ctx: UserContext, slots: Slots) -> str:
    """A project of the user's named in ``text`` ("lumber for the kitchen remodel") is
    the project; what is left says where or what."""
    for name in sorted(ctx.projects, key=len, reverse=True):
        found = re.search(
            rf"\s*\b(?:for|on|to)?\s*(?:the\s+)?{re.escape(name.lower())}(?:\s+(?:project|job))?\b",
            text,
            re.IGNORECASE,
        )
        if found:
            slots["project"] = name
            return (text[: found.start()] + " " + text[found.end() :]).strip()
    return text


def finance_expense(
    e: dict[str, str], meta: dict[str, Any], ctx: UserContext
) -> tuple[Slots, list[str]]:
    return _money(e, meta, ctx, "merchant")


def finance_income(
    e: dict[str, str], meta: dict[str, Any], ctx: UserContext
) -> tuple[Slots, list[str]]:
    return _money(e, meta, ctx, "payer")


def finance_query(
    e: dict[str, str], meta: dict[str, Any], ctx: UserContext
) -> tuple[Slots, list[str]]:
    said = e.get("category") or e.get("merchant", "")
    category, when = _split(e.get("category", ""), ctx, past=True)
    if e.get("merchant"):
        when = _split(said, ctx, past=True)[1]
    if e.get("when"):
        when = parse_when(e["when"], ctx.now, prefer_past=True) or when
    today = ctx.now.date()
    if when is None:  # "how much did I spend": this month so far
        start, end = today.replace(day=1), today + timedelta(days=1)
    else:
        window = _window(when, ctx)
        start, end = window[0].date(), max(window[1].date(), window[0].date() + timedelta(days=1))
    slots: Slots = {
        "start": start.isoformat(),
        "end": end.isoformat(),
        "kind": meta.get("kind", "expense"),
    }
    category = _own_project(category, ctx, slots)  # "on the kitchen remodel"
    if category.strip():
        slots["category"] = _strip_article(category)
    merchant, _ = _split(e.get("merchant", ""), ctx, past=True)
    if merchant.strip():  # "what did I spend at Costco last month"
        slots["merchant"] = _strip_article(cased(merchant.strip(), meta))
    if meta.get("by"):
        slots["by"] = meta["by"]
    if e.get("spender") == "we":  # "how much did we spend": the household's books
        slots["together"] = True
    return slots, []


def finance_recategorize(
    e: dict[str, str], meta: dict[str, Any], ctx: UserContext
) -> tuple[Slots, list[str]]:
    return {
        "merchant": _strip_article(e.get("merchant", "")),
        "category": _strip_article(e.get("category", "")),
    }, []


def finance_project(
    e: dict[str, str], meta: dict[str, Any], ctx: UserContext
) -> tuple[Slots, list[str]]:
    project = re.sub(r"\s+(?:project|job)$", "", _strip_article(e.get("project", "")))
    return {"project": project}, [] if project else ["project"]
