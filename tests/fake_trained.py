"""A trained parser that places nothing, for tests of what happens past it."""

from __future__ import annotations

from intents.model import Intent, UserContext


class Unplaced:
    """Every sentence is a coin toss to it: neither a request nor surely none of ours."""

    ready = True

    def warm_up(self) -> None: ...

    def parse(self, text: str, context: UserContext) -> Intent:
        return Intent("out_of_scope", {}, 0.0, "model", text=text)

    def opinion(self, text: str, context: UserContext) -> dict[str, float]:
        return {}  # no view: the grammar's match stands as it is
