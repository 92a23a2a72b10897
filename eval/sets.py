"""The evaluation sets of the understanding layer, each split once into a tuning half
and a check half.

- the dev set (eval/data/intents_dev.yaml): the sentences the templates were written
  from; it is not split, and a figure on it says only that the templates still hold.
- the blind set (eval/data/intents_blind.yaml): written apart from the templates.
- SLURP's devel split (read where it lies, never copied into the repository).

A case goes to the check half by a hash of its text (case and punctuation folded) under
a fixed seed: the halves never change as cases are added, and a sentence said twice never
lands in both.
Failures are read from the tuning half only; the check half gives figures, not sentences.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass, field, fields, replace
from datetime import datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml

from intents.model import UserContext

DATA = Path(__file__).parent / "data"
DEV_SET = DATA / "intents_dev.yaml"
BLIND_SET = DATA / "intents_blind.yaml"
SLURP_NAME = "slurp-devel.jsonl"
SEED = "lifeos-understanding-2026"
TUNE, CHECK = "tune", "check"
# SLURP has no moment of its own: relative times are read against this one.
SLURP_NOW = "2026-03-04T15:00"
SLURP_ZONE = "America/New_York"
OUT_OF_SCOPE = "out_of_scope"


@dataclass(frozen=True)
class Case:
    text: str
    expect: tuple[str, ...]  # the intents that count as right
    slots: dict[str, Any] | None = None  # only what must match; None: intent only
    half: str = TUNE

    @property
    def in_scope(self) -> bool:
        return OUT_OF_SCOPE not in self.expect


@dataclass(frozen=True)
class EvalSet:
    name: str
    now: datetime
    cases: list[Case]
    context: dict[str, Any] = field(default_factory=dict)  # UserContext fields but now

    def half(self, which: str) -> EvalSet:
        return replace(
            self, name=f"{self.name} {which}", cases=[c for c in self.cases if c.half == which]
        )

    def user_context(self) -> UserContext:
        """The user this set speaks as; fields the context type does not know are left out."""
        known = {f.name for f in fields(UserContext)} - {"now"}
        return UserContext(now=self.now, **{k: v for k, v in self.context.items() if k in known})


def half_of(key: str) -> str:
    digest = hashlib.sha256(f"{SEED}:{key}".encode()).digest()
    return CHECK if digest[0] & 1 else TUNE


def text_key(text: str) -> str:
    """Case, punctuation and spacing do not make a new sentence."""
    return " ".join(re.sub(r"[^\w\s']", " ", text.lower()).split())


def _yaml_set(name: str, path: Path, split: bool) -> EvalSet:
    data = yaml.safe_load(path.read_text())
    now = datetime.fromisoformat(data["now"]).replace(tzinfo=ZoneInfo(data["zone"]))
    cases = [
        Case(
            text=item["text"],
            expect=(item["intent"],),
            slots=item.get("slots"),
            half=half_of(text_key(item["text"])) if split else TUNE,
        )
        for item in data["cases"]
    ]
    return EvalSet(name, now, cases, data.get("context") or {})


def load_dev(path: Path = DEV_SET) -> EvalSet:
    return _yaml_set("dev", path, split=False)


def load_blind(path: Path = BLIND_SET) -> EvalSet:
    return _yaml_set("blind", path, split=True)


def slurp_path() -> Path | None:
    """``LIFEOS_SLURP`` if set, else the shared data folder beside the checkout."""
    if os.environ.get("LIFEOS_SLURP"):
        return Path(os.environ["LIFEOS_SLURP"])
    root = Path(__file__).resolve().parent.parent
    for parent in (root.parent, root.parent.parent):
        candidate = parent / "shared" / "data" / SLURP_NAME
        if candidate.exists():
            return candidate
    return None


def load_slurp(path: Path) -> EvalSet:
    """SLURP's scored utterances (alarms and date questions, ``expect: null``, are not)."""
    cases = []
    for line in path.read_text().splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        if row.get("expect") is None:
            continue
        cases.append(Case(row["text"], tuple(row["expect"]), None, half_of(text_key(row["text"]))))
    now = datetime.fromisoformat(SLURP_NOW).replace(tzinfo=ZoneInfo(SLURP_ZONE))
    return EvalSet("slurp", now, cases)


# ------------------------------------------------------------------ slot matching
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
NUMBER = re.compile(r"^-?\d+(?:\.\d+)?$")


def slots_match(expected: Any, got: Any) -> bool:
    """Whether a parse carries every expected slot (extra slots are not wrong).

    A date matches any time on that day; numbers compare as numbers; strings ignore
    case; ``items`` is the list of titles said in one request, and a parse that kept
    them as one title does not match it."""
    if isinstance(expected, dict):
        if not isinstance(got, dict):
            return False
        return all(
            _items_match(v, got) if k == "items" else slots_match(v, got.get(k))
            for k, v in expected.items()
        )
    if isinstance(expected, list):
        return (
            isinstance(got, list | tuple)
            and len(got) == len(expected)
            and all(slots_match(e, g) for e, g in zip(expected, got, strict=True))
        )
    if isinstance(expected, bool) or got is None:
        return expected == got
    if isinstance(expected, int | float) or (isinstance(expected, str) and NUMBER.match(expected)):
        return _number(expected) is not None and _number(expected) == _number(got)
    if isinstance(expected, str) and DATE.match(expected):
        return str(got)[:10] == expected
    return str(expected).strip().lower() == str(got).strip().lower()


def _items_match(expected: list[Any], got: dict[str, Any]) -> bool:
    said = got.get("items")
    if said is None and got.get("title") is not None:
        said = [got["title"]]
    return slots_match(expected, said)


def _number(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value).replace(",", ""))
    except InvalidOperation:
        return None
