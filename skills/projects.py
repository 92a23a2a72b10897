"""Finding (or starting) a project by the name a person uses for it."""

from __future__ import annotations

import uuid

from rapidfuzz import fuzz, process
from sqlmodel import select

from skills.context import SkillContext
from skills.history import ChangeSet
from store.models import Project

_MIN_SIMILARITY = 85


async def find_project(ctx: SkillContext, name: str) -> Project | None:
    projects = list(await ctx.session.exec(select(Project).where(Project.user_id == ctx.user_id)))
    wanted = name.strip().lower()
    for project in projects:
        if project.name.lower() == wanted:
            return project
    names = {p.id: p.name.lower() for p in projects}
    found = process.extractOne(wanted, names, scorer=fuzz.WRatio, score_cutoff=_MIN_SIMILARITY)
    return next(p for p in projects if p.id == found[2]) if found else None


async def find_or_start_project(ctx: SkillContext, name: str, changes: ChangeSet) -> Project:
    project = await find_project(ctx, name)
    if project is None:
        project = Project(user_id=ctx.user_id, name=name.strip(), currency=ctx.settings.currency)
        ctx.session.add(project)
        await ctx.session.flush()
        changes.created(project)
    return project


async def project_names(ctx: SkillContext, ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
    if not ids:
        return {}
    rows = await ctx.session.exec(
        select(Project.id, Project.name).where(Project.user_id == ctx.user_id, Project.id.in_(ids))  # type: ignore[attr-defined]
    )
    return dict(rows.all())
