"""Training sentences from the grammar's own templates, with their slots marked.

Each template is walked at random (one alternative at each choice), its wildcards
filled from values.yaml, then roughened the way people and speech recognition
roughen requests: fillers, politeness, a time said first, "and" for "add".
Out-of-scope requests come from out_of_scope.yaml. Everything is seeded.
"""

from __future__ import annotations

import functools
import random
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from hassil import Intents
from hassil.expression import (
    Alternative,
    Expression,
    ListReference,
    Permutation,
    RuleReference,
    Sequence,
    TextChunk,
)
from hassil.intents import TextSlotList, WildcardSlotList

from intents.grammar import load_intents, normalize
from intents.trained.features import words

HERE = Path(__file__).parent
OUT_OF_SCOPE = "out_of_scope"
Chunk = tuple[str, str]  # (text, slot name or "" for template words)
SKIP_OPTIONAL = 0.6
# Templates too loose for the grammar: shorthand (paraphrases.yaml) and the everyday
# ways of asking for each request (everyday.yaml).
LOOSER = ("paraphrases.yaml", "everyday.yaml")


@dataclass(frozen=True)
class Example:
    label: str  # intent name, with the template's metadata: "tasks.create|style=list"
    tokens: tuple[str, ...]
    tags: tuple[str, ...]  # BIO: "B-item", "I-item", "O"
    template: str  # which template it came from, for held-out splits by template

    @property
    def text(self) -> str:
        return " ".join(self.tokens)


def label_for(action: str, meta: dict[str, Any] | None) -> str:
    """The class a template belongs to: its intent plus the metadata its resolver reads."""
    kept = sorted((k, v) for k, v in (meta or {}).items() if k != "best")
    return "|".join([action, *(f"{k}={v}" for k, v in kept)])


def split_label(label: str) -> tuple[str, dict[str, Any]]:
    action, *pairs = label.split("|")
    meta: dict[str, Any] = {}
    for pair in pairs:
        key, value = pair.split("=", 1)
        meta[key] = True if value == "True" else value
    return action, meta


@functools.cache
def values() -> dict[str, list[str]]:
    data = yaml.safe_load((HERE / "values.yaml").read_text())
    return {slot: [str(value) for value in pool] for slot, pool in data.items()}


def tokenize(text: str) -> list[str]:
    return normalize(text).split()


class Sampler:
    """Random walks through hassil templates, keeping which words filled which slot."""

    def __init__(self, intents: Intents, rng: random.Random, pools: dict[str, list[str]]) -> None:
        self.intents = intents
        self.rng = rng
        self.pools = pools
        self.style = ""  # "list" items are things to buy; other items are things to do

    def walk(self, expression: Expression, rules: dict[str, Any]) -> list[Chunk]:
        if isinstance(expression, TextChunk):
            return [(expression.original_text, "")]
        if isinstance(expression, Alternative):
            if expression.is_optional:  # mostly left out: "[please|can you|hey|...]"
                if self.rng.random() < SKIP_OPTIONAL:
                    return []
                said = [item for item in expression.items if not _empty(item)]
                return self.walk(self.rng.choice(said or expression.items), rules)
            return self.walk(self.rng.choice(expression.items), rules)
        if isinstance(expression, Permutation):
            items = list(expression.items)
            self.rng.shuffle(items)
            return [chunk for item in items for chunk in [*self.walk(item, rules), (" ", "")]]
        if isinstance(expression, Sequence):
            return [chunk for item in expression.items for chunk in self.walk(item, rules)]
        if isinstance(expression, RuleReference):
            return self.walk(rules[expression.rule_name].expression, rules)
        if isinstance(expression, ListReference):
            return [(self.fill(expression.list_name), expression.slot_name)]
        raise TypeError(f"unexpected template part {expression!r}")

    def fill(self, slot: str) -> str:
        listed = self.intents.slot_lists.get(slot)
        if isinstance(listed, TextSlotList):
            value = self.rng.choice(listed.values).text_in
            return self.walk(value, {})[0][0] if not isinstance(value, TextChunk) else value.text
        if not isinstance(listed, WildcardSlotList | None):
            raise TypeError(f"unsupported list {slot}")
        pool = self.pools.get(slot) or self.pools["item"]
        if slot in ("target", "title") and self.rng.random() < 0.7:
            # what a task is called is anything a task or an item can be: a small pool
            # of its own would teach that "pay rent" means changing a task
            pool = self.pools["task" if self.rng.random() < 0.7 else "item"]
        if slot == "item" and self.style != "list" and self.rng.random() < 0.8:
            pool = self.pools["task"]  # reminders and tasks say what to do
            if self.rng.random() < 0.35:
                return f"{self.rng.choice(pool)} {self.rng.choice(self.pools['when'])}"
        return self.rng.choice(pool)


def _empty(expression: Expression) -> bool:
    return isinstance(expression, TextChunk) and not expression.text.strip()


def tagged(chunks: list[Chunk]) -> tuple[list[str], list[str]]:
    tokens: list[str] = []
    tags: list[str] = []
    for text, slot in chunks:
        words = tokenize(text)
        tokens += words
        tags += [("B-" if i == 0 else "I-") + slot if slot else "O" for i in range(len(words))]
    return tokens, tags


def load_training_intents() -> Intents:
    """The grammar's templates, and the looser ones only the trained parser learns from."""
    intents = load_intents()
    for source in LOOSER:
        extra = Intents.from_dict(
            {**yaml.safe_load((HERE / source).read_text()), "lists": {}, "expansion_rules": {}}
        )
        for name, intent in extra.intents.items():
            if name in intents.intents:
                intents.intents[name].data.extend(intent.data)
            else:
                intents.intents[name] = intent
    return intents


def template_examples(rng: random.Random, per_template: int) -> list[Example]:
    intents = load_training_intents()
    sampler = Sampler(intents, rng, values())
    found: list[Example] = []
    for name, intent in intents.intents.items():
        if name == OUT_OF_SCOPE:
            # The grammar's "not ours" templates are request-shaped with open wildcards
            # ("I need to {item}"): filled with list items they would teach that tasks
            # are out of scope. The parser learns "not ours" from out_of_scope.yaml.
            continue
        for block in intent.data:
            rules = {**intents.expansion_rules, **(block.expansion_rules or {})}
            label = label_for(name, block.metadata)
            sampler.style = str((block.metadata or {}).get("style", ""))
            for sentence in block.sentences:
                for _ in range(per_template):
                    chunks = sampler.walk(sentence.expression, rules)
                    chunks = roughen(chunks, rng)
                    tokens, tags = tagged(chunks)
                    if tokens:
                        key = f"{name}:{sentence.text}"
                        found.append(Example(label, tuple(tokens), tuple(tags), key))
    return found


FILLERS = ["um", "uh", "so", "okay so", "hey", "oh", "right", "well", "hmm", "alright"]
ASKS = ["could you please", "i want you to", "i would like you to", "can you please", "please"]
ENDINGS = ["please", "thanks", "thank you", "for me", "okay", "if you can", "right now"]
MISHEARD = {"add": ["and", "ad", "at"], "to": ["two", "too"], "for": ["four"], "list": ["lists"]}
# Everyday verbs for the templates' own: people say "throw it on the list", "nix the
# meeting". Only words of the template are swapped, never the slot values.
SYNONYMS = {
    "add": ["throw", "pop", "jot", "include", "write"],
    "put": ["throw", "pop", "place"],
    "schedule": ["organize", "put in", "slot in", "line up"],
    "book": ["organize", "reserve", "line up"],
    "cancel": ["nix", "axe", "kill", "drop"],
    "delete": ["get rid of", "wipe", "nix"],
    "remove": ["get rid of", "strike", "drop"],
    "move": ["slide", "bump", "change"],
    "spent": ["blew", "shelled out", "forked out", "laid out"],
    "paid": ["forked out", "shelled out", "handed over"],
    "show": ["pull up", "list", "give"],
    "tell": ["give", "read"],
    "finished": ["wrapped up", "sorted"],
    "done": ["sorted", "taken care of", "handled"],
}


def roughen(chunks: list[Chunk], rng: random.Random) -> list[Chunk]:
    """Speech, not text: fillers, politeness, a time said first, misheard words."""
    chunks = [(text, slot) for text, slot in chunks if text.strip()]
    whens = [chunk for chunk in chunks if chunk[1] == "when"]
    if whens and chunks[-1] == whens[-1] and rng.random() < 0.25:
        chunks = [whens[-1], *chunks[:-1]]  # "tomorrow at 9 remind me to ..."
    if rng.random() < 0.15:
        chunks = _clipped(chunks)  # "anything on thursday", "spent 40 at target"
    if rng.random() < 0.2:
        chunks = [(rng.choice(FILLERS), ""), *chunks]
    if rng.random() < 0.1:
        chunks = [(rng.choice(ASKS), ""), *chunks]
    if rng.random() < 0.1:
        chunks = [*chunks, (rng.choice(ENDINGS), "")]
    for swaps, share in ((SYNONYMS, 0.3), (MISHEARD, 0.15)):
        if rng.random() < share:
            chunks = [
                (_swap(text, swaps, rng) if not slot else text, slot) for text, slot in chunks
            ]
    return chunks


CLIPPED = words("i do does can could would will is are am please hey have we you")


def _clipped(chunks: list[Chunk]) -> list[Chunk]:
    """Spoken shorthand drops the subject and helper verbs that start a request."""
    for at, (text, slot) in enumerate(chunks):
        if slot:
            return chunks[at:]
        words = text.split()
        while words and words[0].lower() in CLIPPED:
            words.pop(0)
        if words:
            return [(" ".join(words), ""), *chunks[at + 1 :]]
    return chunks


def _swap(text: str, swaps: dict[str, list[str]], rng: random.Random) -> str:
    words = text.split()
    spots = [i for i, word in enumerate(words) if word.lower() in swaps]
    if spots:
        at = rng.choice(spots)
        words[at] = rng.choice(swaps[words[at].lower()])
    return " ".join(words)


def out_of_scope_examples(rng: random.Random, per_template: int) -> list[Example]:
    data = yaml.safe_load((HERE / "out_of_scope.yaml").read_text())
    lists = data["lists"]
    found: list[Example] = []
    for template in data["templates"]:
        seen: set[str] = set()
        for _ in range(per_template):
            text = _expand(template, lists, rng)
            if rng.random() < 0.15:
                text = f"{rng.choice(FILLERS)} {text}"
            if text in seen:
                continue
            seen.add(text)
            tokens = tuple(tokenize(text))
            if tokens:
                found.append(Example(OUT_OF_SCOPE, tokens, ("O",) * len(tokens), template))
    return found


def _expand(template: str, lists: dict[str, list[str]], rng: random.Random) -> str:
    """A random sentence from the small template syntax of out_of_scope.yaml."""
    text = re.sub(r"\{(\w+)\}", lambda m: rng.choice(lists[m.group(1)]), template)
    while "[" in text or "(" in text:
        text = re.sub(
            r"\[([^\[\]()]*)\]",
            lambda m: rng.choice(m.group(1).split("|")) if rng.random() < 0.5 else "",
            text,
        )
        text = re.sub(r"\(([^\[\]()]*)\)", lambda m: rng.choice(m.group(1).split("|")), text)
    return " ".join(text.split())


def training_set(seed: int = 13, per_template: int = 40) -> list[Example]:
    """Every example, deduplicated by text and label, in a fixed order."""
    examples = template_examples(random.Random(seed), per_template)
    # Its own stream: a change to a template does not reshuffle the out-of-scope sample.
    examples += out_of_scope_examples(random.Random(f"{seed}:out of scope"), per_template)
    unique: dict[tuple[str, str], Example] = {}
    for example in examples:
        unique.setdefault((example.text, example.label), example)
    return list(unique.values())
