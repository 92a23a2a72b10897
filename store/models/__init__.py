"""Every table of the store; importing this package registers them on ``metadata``."""

from store.models.base import metadata
from store.models.calendar import CalendarAccount, CalendarTombstone, Event
from store.models.finance import (
    Account,
    Category,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    Transaction,
    TransactionKind,
)
from store.models.planning import Project, Task, TaskList, TaskStatus
from store.models.records import AuditEntry, ConversationTurn, ProcessedWebhook
from store.models.users import User, UserCreate, UserPublic, UserSettings

__all__ = [
    "Account",
    "AuditEntry",
    "CalendarAccount",
    "CalendarTombstone",
    "Category",
    "ConversationTurn",
    "Event",
    "Invoice",
    "InvoiceLine",
    "InvoiceStatus",
    "ProcessedWebhook",
    "Project",
    "Task",
    "TaskList",
    "TaskStatus",
    "Transaction",
    "TransactionKind",
    "User",
    "UserCreate",
    "UserPublic",
    "UserSettings",
    "metadata",
]
