"""Helpers for GraphQL tests: an operation over HTTP, and a family sharing a list."""

from __future__ import annotations

from typing import Any

import httpx

from agent.services import Services
from tests.agent.test_households import family_with_shared_list, invite, sign_up


async def gql(client: httpx.AsyncClient, auth: dict, query: str, **variables: Any) -> dict:
    response = await client.post(
        "/graphql", headers=auth, json={"query": query, "variables": variables}
    )
    assert response.status_code == 200, response.text
    return response.json()


async def family_member(
    client: httpx.AsyncClient, services: Services, auth: dict, role: str
) -> tuple[dict[str, str], str, str]:
    """Bob, joined to Ann's Family household in ``role``; the household and its list."""
    family, shopping = await family_with_shared_list(client, auth)
    bob = await sign_up(services, "bob@example.com")
    code = await invite(client, auth, family, role, email="bob@example.com")
    joined = await client.post("/v1/invitations/accept", headers=bob, json={"code": code})
    assert joined.status_code == 200, joined.text
    return bob, family, shopping
