"""Projects (jobs, clients): personal, or shared with a household as a list is. Its
members see a shared project; its money (job costing, billable work, invoices) only
the roles that keep the household's books. Its maker, or an owner or admin of the
household it is shared with, renames, shares or unshares and deletes it, as with a
shared list. Found by the name a person uses for it."""

from __future__ import annotations

import uuid

from rapidfuzz import fuzz, process
from sqlalchemy import func, or_
from sqlmodel import SQLModel, col, select

from skills import access
from skills.access import AccessDenied, Capability
from skills.context import Conflict, NotFound, SkillContext, SkillError, joined
from skills.finance.money import amount_in, currency_code
from skills.finance.schemas import ProjectCreate, ProjectUpdate
from skills.history import ChangeSet, record_action, snapshot
from skills.records import add_unless_taken
from store.models import BillableItem, Invoice, Project, Task, Transaction

_MIN_SIMILARITY = 85
# The money records a project can hold, by what a person calls them: a project that
# holds any is never deleted, so that none of them is lost with it.
_MONEY_ON_IT: tuple[tuple[type[SQLModel], str], ...] = (
    (BillableItem, "billable item"),
    (Transaction, "transaction"),
    (Invoice, "invoice"),
)


async def _visible(ctx: SkillContext) -> list[Project]:
    """One's own projects first, then those shared with one's households."""
    shown = await access.visible(ctx, Project, Capability.PROJECTS_READ)
    found = await ctx.session.exec(select(Project).where(shown).order_by(col(Project.name)))
    return sorted(found, key=lambda p: p.user_id != ctx.user_id)


async def names_seen(ctx: SkillContext) -> list[str]:
    """The names of the projects the user may see, for understanding what they say."""
    return [p.name for p in await _visible(ctx)]


async def find_project(ctx: SkillContext, name: str) -> Project | None:
    projects = await _visible(ctx)
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
    shown = await access.visible(ctx, Project, Capability.PROJECTS_READ)
    rows = await ctx.session.exec(
        select(Project.id, Project.name).where(shown, col(Project.id).in_(ids))
    )
    return dict(rows.all())


async def require_its_money(ctx: SkillContext, project: Project, capability: Capability) -> None:
    """Raise unless the user may ``capability`` (MONEY_READ or MONEY_WRITE) the money of
    a project they can see: a member sees the family's job, not what it cost."""
    scope, member = await access.scope_of(ctx, project)
    if access.can(member.role if member else None, capability, scope):
        return
    assert member is not None  # one's own is always allowed; another's is not seen
    doing = "see" if capability is Capability.MONEY_READ else "change"
    raise AccessDenied(
        f"as a {member.role} of {member.name}, you can't {doing} the money of {project.name}"
    )


class ProjectService:
    """Projects (jobs, clients) that tasks, money and invoices hang off."""

    def __init__(self, ctx: SkillContext) -> None:
        self.ctx = ctx

    async def create(self, data: ProjectCreate) -> Project:
        if await find_project(self.ctx, data.name) is not None:
            raise SkillError(f"you already have a project like “{data.name}”")
        if data.household_id is not None:
            await access.require_household(
                self.ctx, data.household_id, Capability.PROJECTS_WRITE, doing="start its projects"
            )
        currency = currency_code(data.currency or self.ctx.settings.currency)
        project = Project(
            user_id=self.ctx.user_id,
            household_id=data.household_id,
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
        return await _visible(self.ctx)

    async def get(self, ref: str | uuid.UUID) -> Project:
        project = None
        try:
            project = await self.ctx.session.get(Project, uuid.UUID(str(ref)))
        except ValueError:
            project = await find_project(self.ctx, str(ref))
        if project is None:
            raise NotFound(f"no project “{ref}”")
        scope, member = await access.scope_of(self.ctx, project)
        if not access.can(member.role if member else None, Capability.PROJECTS_READ, scope):
            raise NotFound(f"no project “{ref}”")
        return project

    async def money_of(self, ref: str | uuid.UUID, capability: Capability) -> Project:
        """A project whose money the user may read (or change): for the job costing,
        the billable work and the invoices of a household's job."""
        project = await self.get(ref)
        await require_its_money(self.ctx, project, capability)
        return project

    async def update(self, ref: str | uuid.UUID, data: ProjectUpdate) -> Project:
        """Rename a project, or share it with a household (None: keep it to its maker
        again), as one undoable action."""
        sent = data.model_fields_set
        project = await self.to_manage(ref, doing="rename" if sent == {"name"} else "share")
        if "household_id" in sent and data.household_id is not None:
            await access.require_household(
                self.ctx,
                data.household_id,
                Capability.PROJECTS_WRITE,
                doing="share projects with it",
            )
        if data.name is not None:
            await self._name_free(project, data.name)
        before = snapshot(project)
        if data.name is not None:
            project.name = data.name
        if "household_id" in sent:
            project.household_id = data.household_id
        project.updated_at = self.ctx.now()
        self.ctx.session.add(project)
        await self.ctx.session.flush()
        changes = ChangeSet()
        changes.updated(project, before)
        record_action(
            self.ctx,
            "projects.update",
            "project",
            project.id,
            changes,
            name=project.name,
            was=before["name"],
            household_id=str(project.household_id) if project.household_id else None,
        )
        return project

    async def delete(self, ref: str | uuid.UUID) -> Project:
        """Delete a project, as one undoable action; its tasks stay, on no project.
        One that holds money records is refused, saying what it holds."""
        project = await self.to_manage(ref, doing="delete")
        if held := await self._money_held(project):
            raise Conflict(
                f"{project.name} holds {held}: a project with money recorded on it is "
                "kept, so that none of it is lost"
            )
        changes = ChangeSet()
        for task in await self.ctx.session.exec(select(Task).where(Task.project_id == project.id)):
            before = snapshot(task)
            task.project_id = None
            self.ctx.session.add(task)
            changes.updated(task, before)
        await self.ctx.session.flush()
        changes.deleted(project)
        await self.ctx.session.delete(project)
        await self.ctx.session.flush()
        record_action(
            self.ctx, "projects.delete", "project", project.id, changes, name=project.name
        )
        return project

    async def to_manage(self, ref: str | uuid.UUID, *, doing: str) -> Project:
        """A project the user may rename, share or delete: their own, or one shared
        with a household whose role there lets them manage its projects."""
        project = await self.get(ref)
        await access.require(
            self.ctx,
            project,
            Capability.PROJECTS_MANAGE,
            noun="project",
            what=f"{project.name} project",
            doing=doing,
        )
        return project

    async def _name_free(self, project: Project, name: str) -> None:
        """Refuse a name another project its maker has, or the user sees, goes by."""
        shown = await access.visible(self.ctx, Project, Capability.PROJECTS_READ)
        taken = await self.ctx.session.exec(
            select(Project.name).where(
                col(Project.id) != project.id,
                func.lower(Project.name) == name.lower(),
                or_(Project.user_id == project.user_id, shown),
            )
        )
        if (other := taken.first()) is not None:
            raise Conflict(f"there is already a project named “{other}”")

    async def _money_held(self, project: Project) -> str | None:
        """What money is recorded on a project, in words ("2 billable items and 1
        invoice"), or None."""
        held = []
        for model, noun in _MONEY_ON_IT:
            on_it = select(func.count()).select_from(model).where(model.project_id == project.id)  # type: ignore[attr-defined]
            count = (await self.ctx.session.exec(on_it)).one()
            if count:
                held.append(f"{count} {noun}{'' if count == 1 else 's'}")
        return joined(held) if held else None
