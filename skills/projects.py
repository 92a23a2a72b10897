"""Finding (or starting) a project by the name a person uses for it."""

from __future__ import annotations

import uuid

from rapidfuzz import fuzz, process
from sqlmodel import col, select

from skills.context import NotFound, SkillContext, SkillError
from skills.finance.money import amount_in, currency_code
from skills.finance.schemas import ProjectCreate
from skills.history import ChangeSet, record_action
from skills.records import add_unless_taken
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
        if not await add_unless_taken(ctx, project):
            theirs = await find_project(ctx, name)  # a simultaneous request started it
            if theirs is None:
                raise SkillError(f"could not start the project “{name}”; try again")
            return theirs
        changes.created(project)
    return project


async def project_names(ctx: SkillContext, ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
    if not ids:
        return {}
    rows = await ctx.session.exec(
        select(Project.id, Project.name).where(Project.user_id == ctx.user_id, Project.id.in_(ids))  # type: ignore[attr-defined]
    )
    return dict(rows.all())


class ProjectService:
    """Projects (jobs, clients) that tasks, money and invoices hang off."""

    def __init__(self, ctx: SkillContext) -> None:
        self.ctx = ctx

    async def create(self, data: ProjectCreate) -> Project:
        if await find_project(self.ctx, data.name) is not None:
            raise SkillError(f"you already have a project like “{data.name}”")
        currency = currency_code(data.currency or self.ctx.settings.currency)
        project = Project(
            user_id=self.ctx.user_id,
            name=data.name.strip(),
            client=data.client,
            currency=currency,
            budget=amount_in(data.budget, currency) if data.budget is not None else None,
            hourly_rate=amount_in(data.hourly_rate, currency) if data.hourly_rate else None,
        )
        self.ctx.session.add(project)
        await self.ctx.session.flush()
        changes = ChangeSet()
        changes.created(project)
        record_action(
            self.ctx, "projects.create", "project", project.id, changes, name=project.name
        )
        return project

    async def list(self) -> list[Project]:
        rows = await self.ctx.session.exec(
            select(Project).where(Project.user_id == self.ctx.user_id).order_by(col(Project.name))
        )
        return list(rows)

    async def get(self, ref: str | uuid.UUID) -> Project:
        project = None
        try:
            project = await self.ctx.session.get(Project, uuid.UUID(str(ref)))
        except ValueError:
            project = await find_project(self.ctx, str(ref))
        if project is None or project.user_id != self.ctx.user_id:
            raise NotFound(f"no project “{ref}”")
        return project
