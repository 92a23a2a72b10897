"""/v1/projects: jobs with their billable work and their costing."""

from __future__ import annotations

from fastapi import APIRouter, status

from agent.api.deps import SkillCtx
from skills.finance.invoices import InvoiceService
from skills.finance.reports import FinanceReports
from skills.finance.schemas import (
    BillableCreate,
    BillablePublic,
    JobCosting,
    ProjectCreate,
    ProjectPublic,
    ProjectUpdate,
)
from skills.projects import ProjectService
from store.models import BillableItem, Project

router = APIRouter(prefix="/v1/projects", tags=["projects"])


def project_public(project: Project) -> ProjectPublic:
    return ProjectPublic.model_validate(project.model_dump())


def billable_public(item: BillableItem) -> BillablePublic:
    return BillablePublic.model_validate(item.model_dump())


@router.get("", response_model=list[ProjectPublic])
async def list_projects(ctx: SkillCtx) -> list[ProjectPublic]:
    return [project_public(p) for p in await ProjectService(ctx).list()]


@router.post("", response_model=ProjectPublic, status_code=status.HTTP_201_CREATED)
async def create_project(ctx: SkillCtx, body: ProjectCreate) -> ProjectPublic:
    return project_public(await ProjectService(ctx).create(body))


@router.get("/{project}", response_model=ProjectPublic, summary="By id or by name")
async def read_project(ctx: SkillCtx, project: str) -> ProjectPublic:
    return project_public(await ProjectService(ctx).get(project))


@router.patch(
    "/{project}",
    response_model=ProjectPublic,
    summary="Rename a project, or share it with a household (null: keep it to yourself)",
)
async def update_project(ctx: SkillCtx, project: str, body: ProjectUpdate) -> ProjectPublic:
    return project_public(await ProjectService(ctx).update(project, body))


@router.delete(
    "/{project}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a project; 409 while money is recorded on it (undo brings it back)",
)
async def delete_project(ctx: SkillCtx, project: str) -> None:
    await ProjectService(ctx).delete(project)


@router.get("/{project}/costing", response_model=JobCosting)
async def costing(ctx: SkillCtx, project: str) -> JobCosting:
    return await FinanceReports(ctx).calculate_job_costing(project)


@router.get("/{project}/billables", response_model=list[BillablePublic])
async def billables(ctx: SkillCtx, project: str, open_only: bool = False) -> list[BillablePublic]:
    items = await InvoiceService(ctx).billables(project, open_only=open_only)
    return [billable_public(item) for item in items]


@router.post(
    "/{project}/billables",
    response_model=BillablePublic,
    status_code=status.HTTP_201_CREATED,
    summary="Hours or materials to bill",
)
async def add_billable(ctx: SkillCtx, project: str, body: BillableCreate) -> BillablePublic:
    return billable_public(await InvoiceService(ctx).add_billable(project, body))
