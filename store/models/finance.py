"""Money: accounts, categories, transactions and invoices. Amounts are exact Decimals."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from store.models.base import (
    Timestamped,
    decimal_field,
    id_field,
    json_field,
    owner_field,
    ref_field,
    time_field,
    unique_in_books,
)
from store.types import EnumText


class TransactionKind(StrEnum):
    EXPENSE = "expense"
    INCOME = "income"


class InvoiceStatus(StrEnum):
    DRAFT = "draft"
    SENT = "sent"
    PAID = "paid"
    VOID = "void"


class Account(Timestamped, table=True):
    __tablename__ = "accounts"
    __table_args__ = (UniqueConstraint("user_id", "name"),)

    id: uuid.UUID = id_field()
    user_id: uuid.UUID = owner_field()
    name: str = Field(max_length=200)
    kind: str = Field(default="checking", max_length=30)
    currency: str = Field(default="USD", max_length=3)
    institution: str | None = Field(default=None, max_length=200)
    external_id: str | None = Field(default=None, max_length=200)


class Category(Timestamped, table=True):
    __tablename__ = "categories"
    __table_args__ = unique_in_books("categories", "name")

    id: uuid.UUID = id_field()
    user_id: uuid.UUID = owner_field()
    household_id: uuid.UUID | None = ref_field("households")  # its category set when set
    name: str = Field(max_length=100)
    kind: TransactionKind = Field(
        default=TransactionKind.EXPENSE, sa_type=EnumText(TransactionKind, 10)
    )
    parent_id: uuid.UUID | None = ref_field("categories")


class Transaction(Timestamped, table=True):
    __tablename__ = "transactions"
    # A statement line is imported once into one's own books, and once into a
    # household's, whoever imports it.
    __table_args__ = (
        UniqueConstraint("user_id", "dedupe_key"),
        UniqueConstraint("household_id", "dedupe_key"),
    )

    id: uuid.UUID = id_field()
    user_id: uuid.UUID = owner_field()
    household_id: uuid.UUID | None = ref_field("households")  # in its books when set
    account_id: uuid.UUID | None = ref_field("accounts")
    kind: TransactionKind = Field(
        default=TransactionKind.EXPENSE, sa_type=EnumText(TransactionKind, 10)
    )
    amount: Decimal = decimal_field()  # positive; the kind says which way it went
    currency: str = Field(max_length=3)
    occurred_on: date = Field(index=True)
    description: str | None = Field(default=None, max_length=500)
    merchant: str | None = Field(default=None, max_length=200, index=True)
    category_id: uuid.UUID | None = ref_field("categories")
    project_id: uuid.UUID | None = ref_field("projects")
    receipt_url: str | None = Field(default=None, max_length=2000)
    external_id: str | None = Field(default=None, max_length=200, index=True)
    # Set on imported rows: the same statement line imported twice has the same key.
    dedupe_key: str | None = Field(default=None, max_length=64)
    meta: dict = json_field(column="metadata")


class Invoice(Timestamped, table=True):
    __tablename__ = "invoices"
    __table_args__ = unique_in_books("invoices", "number")

    id: uuid.UUID = id_field()
    user_id: uuid.UUID = owner_field()
    household_id: uuid.UUID | None = ref_field("households")  # numbered in its books when set
    project_id: uuid.UUID | None = ref_field("projects")
    number: int = Field(ge=1)
    status: InvoiceStatus = Field(default=InvoiceStatus.DRAFT, sa_type=EnumText(InvoiceStatus, 10))
    client: str | None = Field(default=None, max_length=200)
    currency: str = Field(max_length=3)
    issued_on: date
    due_on: date
    subtotal: Decimal = decimal_field()
    tax_rate: Decimal = decimal_field(default=Decimal(0))
    tax: Decimal = decimal_field(default=Decimal(0))
    total: Decimal = decimal_field()
    file_key: str | None = Field(default=None, max_length=500)
    sent_at: datetime | None = time_field()
    paid_at: datetime | None = time_field()


class InvoiceLine(Timestamped, table=True):
    __tablename__ = "invoice_lines"

    id: uuid.UUID = id_field()
    user_id: uuid.UUID = owner_field()
    invoice_id: uuid.UUID = Field(foreign_key="invoices.id", index=True, ondelete="CASCADE")
    position: int = Field(default=0)
    description: str = Field(max_length=500)
    quantity: Decimal = decimal_field()
    unit_price: Decimal = decimal_field()
    amount: Decimal = decimal_field()


class CategoryRule(Timestamped, table=True):
    """ "Transactions from this merchant go in this category", learned from corrections."""

    __tablename__ = "category_rules"
    __table_args__ = unique_in_books("category_rules", "merchant_key")

    id: uuid.UUID = id_field()
    user_id: uuid.UUID = owner_field()
    household_id: uuid.UUID | None = ref_field("households")  # its rule when set
    merchant_key: str = Field(max_length=200)
    category_id: uuid.UUID = Field(foreign_key="categories.id", ondelete="CASCADE")
    hits: int = Field(default=1)


class BillableItem(Timestamped, table=True):
    """Work or materials to bill a project's client for; invoiced at most once."""

    __tablename__ = "billable_items"

    id: uuid.UUID = id_field()
    user_id: uuid.UUID = owner_field()
    project_id: uuid.UUID = Field(foreign_key="projects.id", index=True, ondelete="CASCADE")
    description: str = Field(max_length=500)
    quantity: Decimal = decimal_field()
    unit_price: Decimal = decimal_field()
    occurred_on: date
    invoice_id: uuid.UUID | None = ref_field("invoices")


class Sequence(SQLModel, table=True):
    """Counters (invoice numbers) per user, or per household for its books: taken
    inside the transaction that uses them, so a failed invoice leaves no gap and no
    number is ever issued twice."""

    __tablename__ = "sequences"
    __table_args__ = unique_in_books("sequences", "name")

    id: uuid.UUID = id_field()
    user_id: uuid.UUID = owner_field()  # who started it
    household_id: uuid.UUID | None = ref_field("households")
    name: str = Field(max_length=50)
    last_value: int = Field(default=0)


class BankLink(Timestamped, table=True):
    """A Plaid item: the sealed access token and where the transaction feed is up to.
    A household's feeds its books."""

    __tablename__ = "bank_links"
    __table_args__ = (UniqueConstraint("user_id", "item_id"),)

    id: uuid.UUID = id_field()
    user_id: uuid.UUID = owner_field()
    household_id: uuid.UUID | None = ref_field("households")
    item_id: str = Field(max_length=200)
    institution: str | None = Field(default=None, max_length=200)
    access_token_sealed: str = Field(max_length=2000)
    cursor: str | None = Field(default=None, max_length=2000)
    last_synced_at: datetime | None = time_field()
