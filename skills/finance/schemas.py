"""The finance API's models. Amounts are Decimals (JSON numbers or strings)."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from enum import StrEnum

from babel.numbers import get_currency_precision
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from skills.finance.money import MAX_AMOUNT, exact_number
from skills.types import UTCTime
from store.models import InvoiceStatus, TransactionKind

MAX_QUANTITY = Decimal(1_000_000)  # hours or units on one billable line


def _exact_or_none(value: object) -> object:
    # JSON numbers arrive as floats; their text form is exact enough for money, and
    # the currency check that follows refuses anything finer than the minor unit.
    # Out-of-range values (1e30) and exponent strings are refused here, with a 422.
    return None if value is None else exact_number(value)


class TransactionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: TransactionKind = TransactionKind.EXPENSE
    amount: Decimal
    currency: str | None = Field(default=None, description="ISO 4217; default: the user's")
    occurred_on: date | None = Field(default=None, description="Default: today, locally")
    merchant: str | None = Field(default=None, max_length=200)
    description: str | None = Field(default=None, max_length=500)
    category: str | None = Field(default=None, max_length=100, description="Default: chosen")
    project: str | None = Field(default=None, max_length=200)
    account: str | None = Field(default=None, max_length=200)
    receipt_url: str | None = Field(default=None, max_length=2000)
    household_id: uuid.UUID | None = Field(
        default=None, description="Record it in this household's books"
    )

    _exact = field_validator("amount", mode="before")(_exact_or_none)


class TransactionUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: TransactionKind | None = None
    amount: Decimal | None = None
    currency: str | None = None
    occurred_on: date | None = None
    merchant: str | None = Field(default=None, max_length=200)
    description: str | None = Field(default=None, max_length=500)
    category: str | None = Field(default=None, max_length=100)
    project: str | None = Field(default=None, max_length=200)
    receipt_url: str | None = Field(default=None, max_length=2000)

    _exact = field_validator("amount", mode="before")(_exact_or_none)


class TransactionPublic(BaseModel):
    id: uuid.UUID
    kind: TransactionKind
    amount: Decimal
    currency: str
    occurred_on: date
    merchant: str | None
    description: str | None
    category: str | None
    category_confidence: float | None
    project: str | None
    account: str | None
    receipt_url: str | None
    household_id: uuid.UUID | None = None
    created_at: UTCTime
    updated_at: UTCTime

    @model_validator(mode="after")
    def _minor_units(self) -> TransactionPublic:
        self.amount = self.amount.quantize(
            Decimal(1).scaleb(-get_currency_precision(self.currency))
        )
        return self


class TransactionQuery(BaseModel):
    start: date | None = None
    end: date | None = Field(default=None, description="Exclusive")
    kind: TransactionKind | None = None
    category: str | None = None
    merchant: str | None = None
    project: str | None = None
    text: str | None = None
    household_id: uuid.UUID | None = Field(
        default=None, description="Only this household's books (a role that keeps them)"
    )
    limit: int = Field(default=200, ge=1, le=1000)


class Period(BaseModel):
    start: date
    end: date = Field(description="Exclusive")

    @model_validator(mode="after")
    def _ordered(self) -> Period:
        if self.end <= self.start:
            raise ValueError("the period must end after it starts")
        return self


class GroupBy(StrEnum):
    CATEGORY = "category"
    MERCHANT = "merchant"
    PROJECT = "project"
    MONTH = "month"


class SummaryRow(BaseModel):
    key: str
    total: Decimal
    count: int


class Summary(BaseModel):
    start: date
    end: date
    currency: str
    kind: TransactionKind
    total: Decimal
    rows: list[SummaryRow]


class MonthChange(BaseModel):
    category: str
    this_month: Decimal
    last_month: Decimal
    change: Decimal
    change_percent: Decimal | None


class CategoryCreate(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    kind: TransactionKind = TransactionKind.EXPENSE


class CategoryPublic(BaseModel):
    id: uuid.UUID
    name: str
    kind: TransactionKind


class Recategorize(BaseModel):
    category: str = Field(min_length=1, max_length=100)
    apply_to_past: bool = Field(default=False, description="Re-file this merchant's past ones")


class ProjectCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    client: str | None = Field(default=None, max_length=200)
    household_id: uuid.UUID | None = Field(default=None, description="Share it with a household")
    currency: str | None = None
    budget: Decimal | None = None
    hourly_rate: Decimal | None = None

    _exact = field_validator("budget", "hourly_rate", mode="before")(_exact_or_none)


class ProjectUpdate(BaseModel):
    """Only the fields sent change: its name, or the household it is shared with."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=200)
    household_id: uuid.UUID | None = Field(
        default=None, description="Share it with this household; null: keep it to yourself"
    )

    @field_validator("name", mode="before")
    @classmethod
    def _strip(cls, value: object) -> object:
        return value.strip() if isinstance(value, str) else value

    @model_validator(mode="after")
    def _something(self) -> ProjectUpdate:
        if not self.model_fields_set:
            raise ValueError("give a new name, or a household_id to share it with (null: none)")
        if "name" in self.model_fields_set and self.name is None:
            raise ValueError("a project needs a name")
        return self


class ProjectPublic(BaseModel):
    id: uuid.UUID
    household_id: uuid.UUID | None = None
    name: str
    client: str | None
    status: str
    currency: str
    budget: Decimal | None
    hourly_rate: Decimal | None


class CostLine(BaseModel):
    name: str
    total: Decimal


class JobCosting(BaseModel):
    project: str
    currency: str
    revenue: Decimal
    invoiced: Decimal
    outstanding: Decimal
    costs: Decimal
    costs_by_category: list[CostLine]
    margin: Decimal
    margin_percent: Decimal | None
    budget: Decimal | None
    budget_used_percent: Decimal | None
    budget_remaining: Decimal | None
    top_cost_drivers: list[CostLine]


class BillableCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    description: str = Field(min_length=1, max_length=500)
    quantity: Decimal = Field(default=Decimal(1), lt=MAX_QUANTITY)
    unit_price: Decimal | None = Field(default=None, description="Default: the hourly rate")
    occurred_on: date | None = None

    _exact = field_validator("quantity", "unit_price", mode="before")(_exact_or_none)

    @model_validator(mode="after")
    def _line_fits(self) -> BillableCreate:
        if self.unit_price is not None and abs(self.quantity * self.unit_price) >= MAX_AMOUNT:
            raise ValueError(f"quantity × unit price must come to less than {MAX_AMOUNT:,}")
        return self


class BillablePublic(BaseModel):
    id: uuid.UUID
    description: str
    quantity: Decimal
    unit_price: Decimal
    occurred_on: date
    invoice_id: uuid.UUID | None


class InvoiceCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    project: str = Field(description="Project name or id")
    tax_rate: Decimal = Field(default=Decimal(0), ge=0, le=1, description="0.0825 for 8.25 %")
    due_in_days: int = Field(default=30, ge=0, le=365)

    _exact = field_validator("tax_rate", mode="before")(_exact_or_none)


class InvoiceLinePublic(BaseModel):
    description: str
    quantity: Decimal
    unit_price: Decimal
    amount: Decimal


class InvoicePublic(BaseModel):
    id: uuid.UUID
    household_id: uuid.UUID | None = None  # in its books, numbered in its sequence
    number: int
    status: InvoiceStatus
    project: str | None
    client: str | None
    currency: str
    issued_on: date
    due_on: date
    subtotal: Decimal
    tax_rate: Decimal
    tax: Decimal
    total: Decimal
    lines: list[InvoiceLinePublic]
    sent_at: UTCTime | None
    paid_at: UTCTime | None
