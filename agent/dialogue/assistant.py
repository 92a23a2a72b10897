"""The assistant: one turn of conversation, from what was said to what to say back.

It understands (rules, then Claude), fills in what is missing by asking, asks for a
yes before anything destructive, bulk or money-moving and before acting on a guess,
runs the action as one unit of work, and words the result to be spoken, all in the
words the action catalogue gives each action. Who the user is comes only from the
caller (a token, a verified phone number), never from the words.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, replace
from datetime import datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from agent.dialogue.lists import new_list_named
from agent.dialogue.references import dereference, remember
from agent.dialogue.replies import HELP, describe, fill, proposal_fields, speak_list
from agent.dialogue.state import (
    CHECK,
    CONFIRMATION,
    DialogueState,
    Pending,
    cut_short_reply,
    load_state,
    save_turns,
)
from intents.cascade import CONFIDENT, Cascade, NeedsRemote
from intents.model import Intent, UserContext
from intents.money import find_money
from intents.rules import MATCHED
from intents.slots import lead_minutes
from intents.temporal import parse_when
from skills import access
from skills.access import Capability, Reach
from skills.actions import Catalogue, Outcome
from skills.context import NotFound, SkillContext, SkillError, system_clock
from skills.finance.categories import EXPENSE_CATEGORIES, INCOME_CATEGORIES
from skills.history import check_undo_reach, undo_last, undo_touches_money
from skills.projects import names_seen as project_names_seen
from skills.tasks.schemas import TaskQuery
from skills.tasks.service import TaskService
from store.database import reading, session_scope
from store.models import (
    Category,
    Event,
    Task,
    TaskList,
    Transaction,
    User,
    UserSettings,
)

CHECK_UNDO = "Undo the last change?"
UNAVAILABLE = (
    "Sorry, I couldn't work that out just now. Try saying it another way, like: "
    "add milk to my shopping list."
)
MONEY_LOCKED = "For money, I need your phone PIN first."
# the user's names speech recognition is told of: the prompt has room for about this many
VOCABULARY_SIZE = 40
RECENT_MERCHANTS = 200  # transactions looked at for merchant names, newest first
BUILT_IN_CATEGORIES = frozenset([*EXPENSE_CATEGORIES, *INCOME_CATEGORIES])
ANSWERS_TO_CONFIRM = frozenset({"dialog.yes", "dialog.no", "dialog.cancel"})
OUT_OF_SCOPE = (
    "Sorry, I can't help with that. I can manage your tasks and lists, your "
    "calendar and your money. Say help to hear some examples."
)


@dataclass
class Turn:
    text: str
    user_id: uuid.UUID
    session_id: str | None = None
    channel: str = "api"
    # What the rules already made of ``text`` in the user's zone (the voice path parses
    # on the pause to judge whether the request is whole): reused when confident.
    parsed: Intent | None = None
    # Money stays out of reach until the caller proves who they are (a phone PIN):
    # a phone number alone can be spoofed.
    money_locked: bool = False
    # What the device spoken through may do (a speaker's token: no money); None: all
    # the user may. The skills refuse the rest in words.
    reach: Reach | None = None


@dataclass
class Reply:
    session_id: str
    text: str
    intent: Intent
    needs: str | None = None  # None, "confirmation", "check", "slot:<name>" or "pin"


class Assistant:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        catalogue: Catalogue,
        parser: Cascade,
        *,
        clock: Callable[[], datetime] = system_clock,
        context: dict[str, Any] | None = None,
        rehearsals: bool = True,
    ) -> None:
        """``rehearsals``: the voice path may work out a reply while the user pauses
        (`rehearse`); off, it waits for the end of the turn."""
        self.sessions = sessions
        self.rehearsals = rehearsals
        self.catalogue = catalogue
        self.parser = parser
        self.clock = clock
        self.context = context or {}  # files, bank, credential keys for the skills

    async def respond(
        self, turn: Turn, stages: dict[str, float] | None = None
    ) -> AsyncIterator[str]:
        """The reply, a clause at a time, first clause first, for speech."""
        reply = await self.converse(turn, stages)
        for clause in clauses(reply.text):
            yield clause

    async def converse(self, turn: Turn, stages: dict[str, float] | None = None) -> Reply:
        """One turn. ``stages`` receives how long understanding ("intent") and acting
        ("action", through the commit) took, in milliseconds."""
        stages = {} if stages is None else stages
        started = time.perf_counter()
        turn = replace(turn, session_id=turn.session_id or uuid.uuid4().hex)
        # Understanding may take a while (a model loading, Claude for the long tail):
        # it reads without the write lock, so other people's turns and requests go on.
        async with reading(self.sessions) as db:
            heard = await self._understand(db, turn, self.context)
        stages["intent"] = (time.perf_counter() - started) * 1000
        async with session_scope(self.sessions) as db:
            reply = await self._take_turn(db, turn, stages, self.context, heard=heard)
        stages["action"] = (time.perf_counter() - started) * 1000 - stages["intent"]
        return reply

    async def rehearse(self, turn: Turn) -> Reply | None:
        """The reply ``turn`` would get if it were taken now, with nothing kept: the
        same code as `converse` in a transaction that is always rolled back, with no
        file store, no bank and no Claude. None when rehearsals are off or the words
        need Claude to be understood. On SQLite it holds the write lock as long as a
        turn does (milliseconds), as a real turn would."""
        if not self.rehearsals:
            return None
        offline = {**self.context, "files": None, "bank": None}
        async with self.sessions() as db:
            try:
                return await self._take_turn(db, turn, {}, offline, local_only=True)
            except NeedsRemote:
                return None
            finally:
                await db.rollback()

    async def _understand(
        self,
        db: AsyncSession,
        turn: Turn,
        context: dict[str, Any],
        *,
        local_only: bool = False,
    ) -> Intent:
        """What the words ask, read in ``db`` with the user's context; nothing written."""
        user = await db.get(User, turn.user_id)
        if user is None:
            raise NotFound("no such user")
        ctx = SkillContext.for_user(db, user, clock=self.clock, reach=turn.reach, **context)
        now = ctx.local_now()
        state = await load_state(db, user.id, turn.session_id or "", now)
        # The user's projects are few and name jobs in money talk ("lumber for the
        # kitchen remodel"): the rules read them too; the rest is for Claude only.
        projects = await project_names_seen(ctx)  # their own and their households'
        basic = UserContext(
            now=now,
            currency=ctx.settings.currency,
            projects=list(projects),
            recent_turns=state.history,
        )
        offline = {"local_only": True} if local_only else {}  # asked only of rehearsals
        return _reusable(turn) or await self.parser.parse(
            turn.text, basic, lambda c: self._context(ctx, state), **offline
        )

    async def _take_turn(
        self,
        db: AsyncSession,
        turn: Turn,
        stages: dict[str, float],
        context: dict[str, Any],
        *,
        heard: Intent | None = None,
        local_only: bool = False,
    ) -> Reply:
        """Act on and record one turn inside ``db``'s transaction (understanding it
        there too unless ``heard`` says what it asks); the caller commits it (a turn)
        or rolls it back (a rehearsal)."""
        session_id = turn.session_id or uuid.uuid4().hex
        if heard is None:
            started = time.perf_counter()
            heard = await self._understand(db, turn, context, local_only=local_only)
            stages["intent"] = (time.perf_counter() - started) * 1000
        user = await db.get(User, turn.user_id)
        if user is None:
            raise NotFound("no such user")
        ctx = SkillContext.for_user(db, user, clock=self.clock, reach=turn.reach, **context)
        now = ctx.local_now()
        # Read again under the write lock: what the turn continues is as of now.
        state = await load_state(db, user.id, session_id, now)
        intent = self._continue(heard, state, turn.text, now)
        if turn.money_locked and await self._touches_money(intent, ctx):
            text, needs = MONEY_LOCKED, "pin"
        else:
            text, needs = await self._act(intent, ctx, state, now)
        public = self._public(intent)
        save_turns(db, user.id, session_id, turn.channel, turn.text, text, public, state, now)
        return Reply(session_id, text, intent, needs)

    async def zone_and_currency(self, user_id: uuid.UUID) -> tuple[tzinfo, str] | None:
        """Where the user lives and what they pay in: all the rules need to parse."""
        async with self.sessions() as db:
            user = await db.get(User, user_id)
        if user is None:
            return None
        return ZoneInfo(user.preferences.timezone), user.preferences.currency

    async def cut_short(self, user_id: uuid.UUID, session_id: str, heard: str) -> None:
        """The user heard only ``heard`` of the last reply (they talked over it)."""
        async with session_scope(self.sessions) as db:
            await cut_short_reply(db, user_id, session_id, heard)

    async def waiting_for(
        self, user_id: uuid.UUID, session_id: str
    ) -> tuple[Pending, datetime] | None:
        """What this conversation is waiting for (a detail, a yes), if anything, and the
        user's local time now. Read without the write lock: the voice path asks this on
        every pause, beside whatever turn is being committed."""
        async with reading(self.sessions) as db:
            user = await db.get(User, user_id)
            if user is None:
                return None
            now = SkillContext.for_user(db, user, clock=self.clock, **self.context).local_now()
            pending = (await load_state(db, user_id, session_id, now)).pending
        return None if pending is None else (pending, now)

    async def vocabulary(self, user_id: uuid.UUID) -> list[str]:
        """The user's own names, for speech recognition to expect: their lists,
        projects, categories they made, and the shops and payees of the money they may
        see, the latest first. Built-in
        category names are common words Whisper already knows, so they stay out."""
        async with reading(self.sessions) as db:
            # The lists of their households too: "add eggs to the family shopping list".
            reader = SkillContext(session=db, user_id=user_id, settings=UserSettings())
            shared_too = await access.visible(reader, TaskList, Capability.LISTS_READ)
            lists = (await db.exec(select(TaskList.name).where(shared_too))).all()
            projects = await project_names_seen(reader)
            categories = (
                await db.exec(
                    select(Category.name).where(
                        Category.user_id == user_id, col(Category.name).not_in(BUILT_IN_CATEGORIES)
                    )
                )
            ).all()
            merchants = await recent_merchants(reader)
        names = [*lists, *projects, *categories, *merchants]
        return list(dict.fromkeys(names))[:VOCABULARY_SIZE]

    async def answers_question(self, user_id: uuid.UUID, session_id: str, text: str) -> bool:
        """Does ``text`` answer what this conversation is waiting for — the detail we
        asked about ("tomorrow at nine" after "When?") or a yes or no? Then the words
        are a whole turn, though alone they are no request."""
        waiting = await self.waiting_for(user_id, session_id)
        if waiting is None:
            return False
        pending, now = waiting
        if pending.wants_yes:
            found = self.parser.rules.parse(text, UserContext(now=now))
            return found is not None and found.action in ANSWERS_TO_CONFIRM
        return self._fill(pending, text, now) is not None

    # --- understanding in context -------------------------------------------

    async def _context(self, ctx: SkillContext, state: DialogueState) -> UserContext:
        db, uid = ctx.session, ctx.user_id
        now = ctx.local_now()
        shared_too = await access.visible(ctx, TaskList, Capability.LISTS_READ)
        lists = (await db.exec(select(TaskList.name).where(shared_too))).all()
        projects = await project_names_seen(ctx)
        categories = (await db.exec(select(Category.name).where(Category.user_id == uid))).all()
        upcoming = (
            await db.exec(
                select(Event)
                .where(
                    await access.visible(ctx, Event, Capability.CALENDAR_READ),
                    col(Event.start_at) >= ctx.now(),
                )
                .order_by(col(Event.start_at))
                .limit(10)
            )
        ).all()
        return UserContext(
            now=now,
            currency=ctx.settings.currency,
            lists=list(dict.fromkeys(lists)),
            projects=list(projects),
            categories=list(categories),
            # "file Hollis under tools": a shop they paid is a name of theirs, not a word.
            merchants=await recent_merchants(ctx),
            upcoming=[{"title": e.title, "start_at": e.start_at.isoformat()} for e in upcoming],
            recent_turns=state.history,
        )

    def _continue(self, heard: Intent, state: DialogueState, text: str, now: datetime) -> Intent:
        """Read a reply to our own question: a yes/no, or the detail we asked for."""
        pending = state.pending
        if pending is None:
            return heard
        if pending.wants_yes:
            if heard.action == "dialog.yes":
                return Intent(pending.action, pending.slots, 1.0, heard.source, text=text)
            return heard
        if heard.action.startswith("dialog.") or (
            not heard.tentative and heard.action != "out_of_scope"
        ):
            return heard  # a new request, or cancel: the question is dropped
        filled = self._fill(pending, text, now)
        return filled or heard

    def _fill(self, pending: Pending, text: str, now: datetime) -> Intent | None:
        slot, slots = pending.awaiting, dict(pending.slots)
        if slot == "until":
            when = parse_when(text, now)
            if when is None or when.moment <= now:
                return None
            slots["until"] = when.moment.isoformat()
        elif slot == "when":
            when = parse_when(text, now)
            if when is None:
                return None
            start = when.moment.isoformat()
            if pending.action == "tasks.create":
                slots.update(due_at=start, remind_at=start)
                if when.rrule:
                    slots["recurrence"] = when.rrule
            elif pending.action == "calendar.create":
                slots["start_at"] = start
                if when.end is not None:
                    slots["end_at"] = when.end.isoformat()
            else:
                calendar = pending.action.startswith("calendar")
                slots.setdefault("changes", {})["start_at" if calendar else "due_at"] = start
                if calendar and when.has_time and not when.dated:  # "4pm": the same day
                    slots["keep_day"] = True
        elif slot == "lead":
            minutes = lead_minutes(text, now)
            if minutes is None:
                return None
            slots["changes"] = {**slots.get("changes", {}), "alert_minutes": minutes}
        elif slot == "amount":
            money = find_money(text, bare=True)
            if money is None:
                return None
            slots["amount"] = str(money.amount)
        else:
            slots[slot] = text.strip()
        return Intent(
            pending.action,
            slots,
            MATCHED,
            pending.source,
            text=text,
            tentative=pending.tentative,
        )

    # --- acting --------------------------------------------------------------

    async def _act(
        self, intent: Intent, ctx: SkillContext, state: DialogueState, now: datetime
    ) -> tuple[str, str | None]:
        asked, state.pending = state.pending, None
        if intent.action == "reminders.snooze" and state.reminder:
            # Right after a reminder, "snooze" means that one.
            intent = replace(intent, slots={"reminder_id": state.reminder, **intent.slots})
        confirmed = (
            asked is not None
            and asked.wants_yes
            and intent.action == asked.action
            and intent.slots == asked.slots
        )
        if intent.action.startswith("dialog.") or intent.action == "out_of_scope":
            return await self._answer(intent, asked, confirmed, ctx, state)
        action = intent.action
        if action.startswith("reference."):
            intent = dereference(intent, state.last)
            if intent.action.startswith("reference."):
                return "Sorry, I'm not sure what you mean. Which one?", None
            action = intent.action
        if action in self.catalogue:
            try:  # what this device may not do is refused before any question about it
                access.within_reach(ctx, self.catalogue[action].needs)
            except SkillError as exc:
                return _sentence(str(exc)), None
        if intent.missing:
            slot = intent.missing[0]
            # The rules are sure of a request that only lacks a detail; a guess stays one.
            state.pending = Pending(
                action=action,
                slots=intent.slots,
                awaiting=slot,
                source=intent.source,
                tentative=_guessed(intent) and intent.source != "rules",
            )
            questions = self.catalogue[action].questions if action in self.catalogue else {}
            return questions.get(slot, f"What {slot}?"), f"slot:{slot}"
        if action not in self.catalogue:
            return OUT_OF_SCOPE, None
        new_list = None if confirmed else await new_list_named(intent, ctx)
        # The trained parser alone never changes anything: its confident parses are
        # read as said when they look something up, and checked back when they write.
        unchecked_write = intent.source == "model" and not self.catalogue[action].reads_only
        guessed = _guessed(intent) or unchecked_write
        if (self.catalogue[action].confirm or guessed or new_list) and not confirmed:
            # Asked before anything destructive, bulk or money-moving, before acting on
            # a guess, and before starting a list: nothing is written until a yes.
            try:
                question = await self._proposal(intent, ctx, now, new_list)
            except SkillError as exc:  # refused outright: no question to answer first
                return _sentence(str(exc)), None
            if question is None:
                return "There's nothing to delete.", None
            awaiting = CONFIRMATION if self.catalogue[action].confirm else CHECK
            state.pending = Pending(action=action, slots=intent.slots, awaiting=awaiting)
            return question, awaiting
        return await self._run(intent, ctx, state, now), None

    async def _answer(
        self,
        intent: Intent,
        asked: Pending | None,
        confirmed: bool,
        ctx: SkillContext,
        state: DialogueState,
    ) -> tuple[str, str | None]:
        """The conversation's own words: help, undo, yes, no, cancel, out of scope."""
        action = intent.action
        if action == "dialog.help":
            return HELP, None
        if action == "dialog.undo":
            # Undo as the first words of a conversation would take back a change made
            # in another one, maybe days ago: that is checked back, like a guess.
            fresh = not state.history
            try:  # what this device may not take back is refused before it is asked
                await check_undo_reach(ctx)
            except SkillError as exc:
                return _sentence(str(exc)), None
            if (_guessed(intent) or fresh) and not confirmed:
                state.pending = Pending(action=action, slots={}, awaiting=CHECK)
                return CHECK_UNDO, CHECK
            return await self._undo(ctx), None
        if action == "dialog.no" and asked is not None and asked.awaiting == CHECK:
            return "Okay, I won't.", None
        if action in ("dialog.cancel", "dialog.no"):
            return "Okay, never mind.", None
        if action == "dialog.yes":
            return "Okay.", None
        if intent.slots.get("reason") == "unavailable":
            return UNAVAILABLE, None
        return OUT_OF_SCOPE, None

    async def _run(
        self, intent: Intent, ctx: SkillContext, state: DialogueState, now: datetime
    ) -> str:
        try:
            async with ctx.session.begin_nested():  # a refusal undoes only this action
                outcome = await self._dispatch(intent, ctx)
        except SkillError as exc:
            return _sentence(str(exc))
        except ValidationError as exc:
            first = exc.errors()[0]
            return _sentence(
                f"I didn't get that: {str(first['msg']).removeprefix('Value error, ')}"
            )
        state.last = remember(outcome) or state.last
        return describe(outcome, now, self.catalogue)

    async def _dispatch(self, intent: Intent, ctx: SkillContext) -> Outcome:
        action, slots = intent.action, dict(intent.slots)
        if action in ("calendar.update", "calendar.delete") and slots.get("title"):
            # "Move the plumber to Friday" may name a task, not an event.
            try:
                return await self.catalogue[action].run(ctx, slots)
            except NotFound:
                tasks = TaskService(ctx)
                await tasks.find_by_title(slots["title"])  # raises NotFound if neither
                if action == "calendar.delete":
                    return await self.catalogue["tasks.delete"].run(ctx, {"title": slots["title"]})
                changes = {
                    "due_at": slots["changes"]["start_at"],
                    "remind_at": slots["changes"]["start_at"],
                }
                return await self.catalogue["tasks.update"].run(
                    ctx, {"title": slots["title"], "changes": changes}
                )
        return await self.catalogue[action].run(ctx, slots)

    async def _proposal(
        self, intent: Intent, ctx: SkillContext, now: datetime, new_list: str | None = None
    ) -> str | None:
        """The action's own yes-or-no question; None when there is nothing to act on."""
        slots = intent.slots
        fields = proposal_fields(slots, now, ctx.settings.currency)
        fields["new_list"] = new_list
        if intent.action == "tasks.delete":
            service = TaskService(ctx)
            if slots.get("all"):
                tasks = await service.search(
                    TaskQuery(list=slots.get("list"), limit=500, status="open")
                )
                if not tasks:
                    return None
                fields.update(count=len(tasks), noun="task" if len(tasks) == 1 else "tasks")
                fields.pop("title", None)
            else:
                tasks = await _named(service, slots.get("title"))
            for task in tasks:  # one whose role only lets them look is told so, not asked
                await service.require(task)
        return fill(self.catalogue[intent.action].proposals, fields) or "Are you sure?"

    async def _undo(self, ctx: SkillContext) -> str:
        try:
            async with ctx.session.begin_nested():
                undone = await undo_last(ctx)
        except SkillError as exc:
            return _sentence(str(exc))
        facts = undone.facts
        what = facts.get("title") or speak_list(facts.get("titles") or []) or facts.get("merchant")
        what = what or ""
        return f"Undone{': ' + str(what) if what else ''}."

    async def _touches_money(self, intent: Intent, ctx: SkillContext) -> bool:
        """A money request, or an undo that would take back a money change: behind the
        phone PIN alike (undoing a task change is not)."""
        if intent.action == "dialog.undo":
            return await undo_touches_money(ctx)
        return intent.action in self.catalogue and self.catalogue[intent.action].touches_money

    @staticmethod
    def _public(intent: Intent) -> dict[str, Any]:
        return {
            "name": intent.action,
            "slots": intent.slots,
            "confidence": intent.confidence,
            "source": intent.source,
        }


async def _named(service: TaskService, title: object) -> list[Task]:
    if not isinstance(title, str):
        return []
    try:
        return [await service.find_by_title(title)]
    except NotFound:
        return []  # asked all the same: it may name an event ("cancel the dentist")


async def recent_merchants(ctx: SkillContext) -> list[str]:
    """The shops and payees of the money the user may see, the latest first."""
    seen = await access.visible(ctx, Transaction, Capability.MONEY_READ)
    paid = await ctx.session.exec(
        select(Transaction.merchant)
        .where(seen, col(Transaction.merchant).is_not(None))
        .order_by(col(Transaction.occurred_on).desc())
        .limit(RECENT_MERCHANTS)
    )
    return list(dict.fromkeys(m for m in paid.all() if m))


def _guessed(intent: Intent) -> bool:
    """The cascade marks a parse nobody is sure of as tentative: it is checked back
    before it acts. Claude's answers are the rung above the check-back: it is asked
    only when the local parsers are unsure, and its tool call is taken as meant."""
    return intent.tentative


def _reusable(turn: Turn) -> Intent | None:
    """The parse made before the turn ended, if it is of these words and confident: the
    cascade would return the same without asking anyone else."""
    parsed = turn.parsed
    if parsed is None or parsed.text.strip() != turn.text.strip():
        return None
    return parsed if parsed.confidence >= CONFIDENT else None


def clauses(text: str) -> list[str]:
    """A reply as it is spoken: a sentence at a time, the first one first."""
    return [clause for clause in re.split(r"(?<=[.?!])\s+", text) if clause]


def _sentence(text: str) -> str:
    text = text.strip()
    return (text[:1].upper() + text[1:]).rstrip(".") + "."


__all__ = ["Assistant", "Reply", "Turn", "clauses"]
