"""Choosing a category: what the user taught us first, then built-in keywords.

A correction ("put Blue Bottle under coffee") becomes a rule for that merchant, so
the next Blue Bottle purchase is filed the same way. Every choice says how sure it is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from store.models import TransactionKind

EXPENSE_CATEGORIES = [
    "Groceries",
    "Dining out",
    "Coffee",
    "Transport",
    "Fuel",
    "Rent",
    "Utilities",
    "Subscriptions",
    "Entertainment",
    "Health",
    "Shopping",
    "Travel",
    "Insurance",
    "Taxes",
    "Fees",
    "Materials",
    "Labour",
    "Equipment",
    "Other",
]
INCOME_CATEGORIES = ["Income", "Refunds"]

# Words in a merchant name or description that give a category away.
KEYWORDS: dict[str, tuple[str, ...]] = {
    "Groceries": (
        "grocery",
        "groceries",
        "supermarket",
        "whole foods",
        "trader joe",
        "safeway",
        "kroger",
        "aldi",
        "lidl",
        "tesco",
        "costco",
        "market",
    ),
    "Dining out": (
        "restaurant",
        "pizza",
        "burger",
        "sushi",
        "taco",
        "diner",
        "grill",
        "cafe",
        "bistro",
        "kitchen",
        "doordash",
        "uber eats",
        "grubhub",
        "lunch",
        "dinner",
    ),
    "Coffee": ("coffee", "starbucks", "espresso", "dunkin", "latte", "peet's"),
    "Transport": ("uber", "lyft", "taxi", "metro", "transit", "train", "bus", "parking", "toll"),
    "Fuel": ("shell", "chevron", "exxon", "bp", "gas station", "fuel", "petrol", "diesel"),
    "Rent": ("rent", "landlord", "lease"),
    "Utilities": (
        "electric",
        "water bill",
        "gas bill",
        "utility",
        "internet",
        "comcast",
        "verizon",
        "at&t",
        "phone bill",
    ),
    "Subscriptions": (
        "netflix",
        "spotify",
        "hulu",
        "subscription",
        "icloud",
        "prime",
        "disney+",
        "youtube premium",
    ),
    "Entertainment": ("cinema", "movie", "theater", "concert", "tickets", "steam"),
    "Health": ("pharmacy", "cvs", "walgreens", "doctor", "dentist", "clinic", "hospital", "gym"),
    "Shopping": ("amazon", "target", "walmart", "clothing", "ikea"),
    "Travel": ("airline", "hotel", "airbnb", "flight", "delta", "united", "expedia"),
    "Insurance": ("insurance", "geico", "allstate", "premium"),
    "Taxes": ("irs", "tax"),
    "Fees": ("fee", "interest charge", "overdraft"),
    "Materials": (
        "home depot",
        "lowe's",
        "lumber",
        "hardware",
        "tile",
        "drywall",
        "paint",
        "plumbing supply",
        "materials",
        "concrete",
    ),
    "Labour": ("labor", "labour", "subcontractor", "wages", "payroll", "contractor"),
    "Equipment": ("tool rental", "equipment", "sunbelt", "drill", "saw"),
}

LEARNED, KEYWORD, SIMILAR, DEFAULT = 0.95, 0.8, 0.7, 0.3

# Whole words only: "rent" must not match "parent" or "tool rental".
_PATTERNS = {
    category: re.compile(r"(?<![a-z])(" + "|".join(re.escape(w) for w in words) + r")(?![a-z])")
    for category, words in KEYWORDS.items()
}


def merchant_key(name: str) -> str:
    """ "BLUE BOTTLE #0123 SF" and "Blue Bottle" are the same merchant."""
    text = re.sub(r"[#*]\s*\d+", " ", name.lower())  # store numbers: "#0457", "*123"
    text = re.sub(r"[^a-z0-9&' ]+", " ", text)
    noise = {"inc", "llc", "ltd", "co", "the", "store"}
    words = [w for w in text.split() if w not in noise and not w.isdigit()]
    return " ".join(words[:4])


@dataclass(frozen=True)
class Choice:
    category: str
    confidence: float
    reason: str  # "learned", "keyword", "similar merchant", "default"


def choose(
    merchant: str | None,
    description: str | None,
    kind: TransactionKind,
    learned: dict[str, str],
) -> Choice:
    """Pick a category name. ``learned`` maps merchant keys to the user's categories."""
    if kind == TransactionKind.INCOME:
        text = f"{merchant or ''} {description or ''}".lower()
        return Choice("Refunds" if "refund" in text else "Income", KEYWORD, "keyword")
    key = merchant_key(merchant or "")
    if key and key in learned:
        return Choice(learned[key], LEARNED, "learned")
    text = f"{merchant or ''} {description or ''}".lower()
    for category, pattern in _PATTERNS.items():
        if pattern.search(text):
            return Choice(category, KEYWORD, "keyword")
    if key and learned:
        found = process.extractOne(key, list(learned), scorer=fuzz.token_set_ratio, score_cutoff=90)
        if found:
            return Choice(learned[found[0]], SIMILAR, "similar merchant")
    return Choice("Other", DEFAULT, "default")
