"""The action catalogue: every operation a conversation can trigger.

An action is the single definition of one thing a conversation can do: its dotted
name from the public intent vocabulary, a description, a pydantic model for its
arguments, an async handler, and its wording — the question for each missing
argument, the yes-or-no question that states what it would do (asked before a
destructive, bulk or money-moving action, and to check back on a guess), and its
spoken replies. The Claude tool list, the grammar's and the parser's intent names,
the dialogue's questions and the replies all derive from this catalogue.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from skills import access
from skills.access import Capability
from skills.context import SkillContext


@dataclass
class Outcome:
    """What an action did: facts for the spoken reply and the records it changed."""

    action: str
    facts: dict[str, Any]
    records: list[dict[str, Any]] = field(default_factory=list)
    changed: bool = True  # False for queries; only changes can be undone


Handler = Callable[[SkillContext, Any], Awaitable[Outcome]]


@dataclass(frozen=True, eq=False)
class Action:
    """``replies`` maps a variant ("list", "reminder") to a spoken template over the
    facts of the outcome; the dialogue picks the variant. ``proposals`` are yes-or-no
    questions over the arguments, most specific first: the first whose fields are all
    known is asked. ``questions`` map a missing argument to the question for it.
    ``needs`` is what it takes to do it at all (money, the lists, the calendar; to look
    or to change): a device whose reach lacks it is refused before anything runs."""

    name: str
    description: str
    args: type[BaseModel]
    handler: Handler
    replies: Mapping[str, str] = field(default_factory=dict)
    proposals: tuple[str, ...] = ()
    questions: Mapping[str, str] = field(default_factory=dict)
    confirm: bool = False  # destructive, bulk or money-moving: the agent asks first
    needs: Capability = field(kw_only=True)

    @property
    def reads_only(self) -> bool:
        """It looks things up and changes nothing."""
        return self.needs in access.READS

    @property
    def touches_money(self) -> bool:
        return self.needs in access.MONEY

    async def run(self, ctx: SkillContext, args: BaseModel | dict[str, Any]) -> Outcome:
        access.within_reach(ctx, self.needs)
        parsed = args if isinstance(args, self.args) else self.args.model_validate(args)
        return await self.handler(ctx, parsed)


class Catalogue:
    def __init__(self, actions: Iterable[Action]) -> None:
        self._actions = {action.name: action for action in actions}

    def __getitem__(self, name: str) -> Action:
        return self._actions[name]

    def __contains__(self, name: object) -> bool:
        return name in self._actions

    def __iter__(self) -> Iterator[Action]:
        return iter(self._actions.values())

    def names(self) -> list[str]:
        return sorted(self._actions)
