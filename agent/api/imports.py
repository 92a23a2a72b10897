"""/v1/imports: upload a bank statement (OFX, QFX or CSV)."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, File, Form, HTTPException, UploadFile, status
from pydantic import BaseModel

from agent.api.deps import SkillCtx
from skills.finance.imports import StatementImporter
from skills.finance.statements import CsvColumns

router = APIRouter(prefix="/v1/imports", tags=["money"])

MAX_STATEMENT_BYTES = 10 * 1024 * 1024


class ImportPublic(BaseModel):
    account: str
    currency: str
    imported: int
    duplicates: int
    skipped: int


def _check_date_format(fmt: str) -> None:
    """A format strptime cannot compile ("%Y%Y") failed every line with a 500."""
    try:
        sample = datetime(2026, 1, 2).strftime(fmt)
        datetime.strptime(sample, fmt)
    except (ValueError, re.error) as exc:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            f"date_format {fmt!r} is not a date format that can be read back: {exc}",
        ) from exc


@router.post(
    "",
    response_model=ImportPublic,
    summary="Import a statement: all or nothing, lines already imported are skipped",
)
async def import_statement(
    ctx: SkillCtx,
    file: Annotated[UploadFile, File(description="OFX, QFX or CSV")],
    account: Annotated[str | None, Form()] = None,
    date_column: Annotated[str | None, Form()] = None,
    description_column: Annotated[str | None, Form()] = None,
    amount_column: Annotated[str | None, Form()] = None,
    debit_column: Annotated[str | None, Form()] = None,
    credit_column: Annotated[str | None, Form()] = None,
    currency_column: Annotated[str | None, Form()] = None,
    date_format: Annotated[str | None, Form()] = None,
    household_id: Annotated[
        uuid.UUID | None, Form(description="Into this household's books (members too)")
    ] = None,
) -> ImportPublic:
    data = await file.read(MAX_STATEMENT_BYTES + 1)
    if len(data) > MAX_STATEMENT_BYTES:
        raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, "the statement is larger than 10 MB")
    if not data.strip():
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "the statement is empty")
    if date_format is not None:
        _check_date_format(date_format)
    columns = CsvColumns(
        date=date_column,
        description=description_column,
        amount=amount_column,
        debit=debit_column,
        credit=credit_column,
        currency=currency_column,
        date_format=date_format,
    )
    importer = StatementImporter(ctx, household_id)
    result = await importer.import_statement(data, account=account, columns=columns)
    return ImportPublic(**result.__dict__)
