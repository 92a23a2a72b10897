"""The user's own names, as the voice pipeline is told of them for recognition."""

from __future__ import annotations

import httpx

from agent.dialogue.voice import VoiceResponder
from agent.services import Services
from store.models import User


async def test_recognition_is_told_the_users_own_names_and_no_one_elses(
    client: httpx.AsyncClient, services: Services, user: User, auth: dict, intruder: dict
) -> None:
    made = [
        ("/v1/lists", auth, {"name": "Kroger"}),
        ("/v1/projects", auth, {"name": "Okonkwo deck"}),
        ("/v1/categories", auth, {"name": "Pottery"}),
        ("/v1/transactions", auth, {"amount": "12.50", "merchant": "Tartine"}),
        ("/v1/lists", intruder, {"name": "Mallory's secrets"}),
        ("/v1/transactions", intruder, {"amount": "3", "merchant": "Bribes Inc"}),
    ]
    for path, headers, body in made:
        response = await client.post(path, headers=headers, json=body)
        assert response.status_code == 201, response.text
    names = await VoiceResponder(services.assistant, user.id).vocabulary()
    said = {name.lower() for name in names}  # list names are kept in lower case
    assert {"kroger", "okonkwo deck", "pottery", "tartine"} <= said
    assert "mallory's secrets" not in said and "bribes inc" not in said
    # the built-in categories are words Whisper knows; naming them only lengthens the prompt
    assert "groceries" not in said
    assert len(names) == len(set(names))


async def test_a_list_made_in_the_conversation_is_known_on_its_next_turn(
    client: httpx.AsyncClient, services: Services, user: User, auth: dict
) -> None:
    """The names are read once and kept for the next decodes (they are asked before
    every one), but a turn may make a list: after it they are read again."""
    responder = VoiceResponder(services.assistant, user.id)
    assert "zanzibar trip" not in {n.lower() for n in await responder.vocabulary()}
    response = await client.post("/v1/lists", headers=auth, json={"name": "Hardware"})
    assert response.status_code == 201
    assert "hardware" not in {n.lower() for n in await responder.vocabulary()}  # kept
    asked = [c async for c in responder.reply("Add sunscreen to my Zanzibar trip list", {})]
    assert asked[-1] == "Create it and add sunscreen?"
    assert [c async for c in responder.reply("yes", {})]
    assert {"zanzibar trip", "hardware"} <= {n.lower() for n in await responder.vocabulary()}
