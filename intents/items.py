"""Several things said in one breath: "eggs, bread and milk" is three list items.

People list things with commas, with "and", or with neither ("eggs bread and
milk", as speech to text writes it). A list item is split at commas and at "and";
a run of words with no separator is split only when every word is a common thing
to buy on its own ("chicken rice") and no two of them make one thing ("apple
juice"). A few everyday compounds ("mac and cheese") stay whole; so does a
compound the user already keeps on a list, which the tasks skill puts back together. Tasks
and reminders ("buy stamps and mail the package") split at "and" only before a
verb, so "call mom and dad" stays one task.
"""

from __future__ import annotations

import re
from itertools import pairwise

# Things bought or packed that are whole items alone; a word missing here only
# means a comma-less run containing it is kept as one item.
_GOODS_SAID = """
    apples bananas oranges lemons limes grapes berries strawberries blueberries
    raspberries pears peaches plums cherries melon watermelon avocados avocado mangoes
    pineapple kiwi onions garlic tomatoes potatoes carrots celery lettuce spinach kale
    broccoli cauliflower cucumbers cucumber peppers mushrooms zucchini corn peas beans
    ginger herbs basil parsley cilantro eggs milk bread butter cheese yogurt cream
    granola cereal oats oatmeal rice pasta noodles flour sugar salt pepper honey jam
    jelly ketchup mustard mayo mayonnaise vinegar oil coffee tea juice water soda beer
    wine chicken beef pork bacon ham sausage sausages turkey fish salmon tuna shrimp
    tofu steak lamb chips crackers cookies nuts almonds peanuts popcorn chocolate candy
    snacks soup bagels muffins tortillas buns rolls pizza ice diapers wipes formula
    shampoo conditioner soap toothpaste toothbrush deodorant lotion sunscreen razors
    tissues napkins foil batteries bulbs lightbulbs detergent bleach sponges screws
    nails bolts glue tape scissors sandpaper paint brushes rope string twine charger
    chargers socks shoes shirts pants towels blankets pillows sheets passport tickets
    keys wallet sunglasses umbrella jacket hat gloves books laptop headphones
"""
GOODS = frozenset(_GOODS_SAID.split())

# Two words that make one thing, though each is a thing alone.
PAIRS = frozenset(
    {
        ("apple", "juice"),
        ("orange", "juice"),
        ("peanut", "butter"),
        ("ice", "cream"),
        ("olive", "oil"),
        ("cream", "cheese"),
        ("chocolate", "milk"),
        ("coffee", "beans"),
        ("chicken", "breast"),
        ("chicken", "soup"),
        ("tomato", "sauce"),
        ("paint", "brushes"),
        ("wine", "glasses"),
    }
)

# Everyday things whose name has "and" in it.
COMPOUNDS = frozenset(
    {
        "mac and cheese",
        "macaroni and cheese",
        "half and half",
        "fish and chips",
        "peanut butter and jelly",
        "pb and j",
        "salt and vinegar chips",
        "cookies and cream",
        "ham and cheese",
        "pork and beans",
        "sweet and sour sauce",
        "rock and roll",
        "bread and butter pickles",
    }
)

# Words a task starts with: "buy stamps and mail the package" is two things to do.
_VERBS_SAID = """
    buy get pick call email text mail send pay book clean wash fix water feed walk take
    return renew cancel order write read finish file schedule check drop bring make cook
    print sign submit update charge vacuum mow change replace visit meet see ask tell
    review prepare plan organize sort pack unpack fill grab put find look go hang
    install
"""
VERBS = frozenset(_VERBS_SAID.split())

_ARTICLE = re.compile(r"^(?:a|an|the|some|more|my|our)\s+")


def _bare(item: str) -> str:
    return _ARTICLE.sub("", item.strip()).strip()


def _words_apart(run: str) -> list[str]:
    """ "eggs bread" → eggs, bread; "toilet paper" stays one thing."""
    words = run.split()
    if len(words) < 2 or not all(w.lower() in GOODS for w in words):
        return [run]
    if any((a.lower(), b.lower()) in PAIRS for a, b in pairwise(words)):
        return [run]
    return words


def split_items(text: str, *, things: bool) -> list[str]:
    """The items of ``text`` in the order said; one item when it names one thing.
    ``things`` is for list items (bought, packed); otherwise they are things to do."""
    text = text.strip()
    if not re.search(r",|\band\b|&", text):
        return [text] if text else []
    whole = {c for c in COMPOUNDS if c in text.lower()}
    shielded = text
    for compound in whole:  # keep "mac and cheese" from the "and" split
        at = shielded.lower().find(compound)
        shielded = (
            shielded[:at] + compound.replace(" and ", " \x00 ") + shielded[at + len(compound) :]
        )
    parts = [p for p in re.split(r"\s*,\s*(?:and\s+|&\s+)?|\s+(?:and|&)\s+", shielded) if p.strip()]
    parts = [p.replace(" \x00 ", " and ") for p in parts]
    if things:
        items = [word for part in parts for word in _words_apart(_bare(part))]
    else:
        if not all(p.split()[0].lower() in VERBS for p in parts[1:]):
            return [text]
        items = [_bare(p) for p in parts]
    items = [item for item in items if item]
    return items if len(items) > 1 else [text]
