"""The action catalogue: every operation a conversation can trigger.

An action has a dotted name from the public intent vocabulary, a description, a
pydantic model for its arguments and an async handler. The Claude tool list and
the local grammar are both derived from this catalogue.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from skills.context import SkillContext


@dataclass
class Outcome:
    """What an action did: facts for the spoken reply and the records it changed."""

    action: str
    facts: dict[str, Any]
    records: list[dict[str, Any]] = field(default_factory=list)
    changed: bool = True  # False for queries; only changes can be undone


Handler = Callable[[SkillContext, Any], Awaitable[Outcome]]


@dataclass(frozen=True)
class Action:
    name: str
    description: str
    args: type[BaseModel]
    handler: Handler
    confirm: bool = False  # destructive, bulk or money-moving: the agent asks first

    async def run(self, ctx: SkillContext, args: BaseModel | dict[str, Any]) -> Outcome:
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
