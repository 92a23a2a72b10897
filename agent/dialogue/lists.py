"""Lists are started only when asked for: a word that is not one of the user's lists
("put that on facebook") is proposed as a new list, never made one unasked."""

from __future__ import annotations

from intents.model import Intent
from skills.context import SkillContext
from skills.tasks.lists import display_name, list_key
from skills.tasks.service import TaskService

# Everyone keeps these; as list_key names them.
EVERYDAY_LISTS = frozenset({"shopping", "grocery"})


async def new_list_named(intent: Intent, ctx: SkillContext) -> str | None:
    """The name of the list a request would start, if it names one the user does not
    have: "add this song to my workout playlist" asks before making a list of it.
    Everyday lists (shopping, groceries) are started without asking."""
    if intent.action == "tasks.create":
        spoken = intent.slots.get("list")
    elif intent.action == "tasks.update":  # "move the milk to my pantry list"
        spoken = (intent.slots.get("changes") or {}).get("list")
    else:
        return None
    if not isinstance(spoken, str) or not spoken.strip():
        return None
    if list_key(spoken) in EVERYDAY_LISTS or await TaskService(ctx).find_list(spoken):
        return None
    return display_name(spoken)
