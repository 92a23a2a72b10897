"""Every table of the store; importing this package registers them on ``metadata``."""

from store.models.base import metadata
from store.models.calendar import CalendarAccount, CalendarTombstone, Event
from store.models.finance import (
    Account,
    BankLink,
    BillableItem,
    Category,
    CategoryRule,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    Sequence,
    Transaction,
    TransactionKind,
)
from store.models.households import Household, HouseholdRole, Invitation, Membership
from store.models.planning import Project, Task, TaskList, TaskStatus
from store.models.records import AuditEntry, ConversationTurn, ProcessedWebhook
from store.models.reminders import (
    DeliveryAttempt,
    Reminder,
    ReminderKind,
    ReminderStatus,
)
from store.models.signin import CodePurpose, OneTimeCode, Password, RefreshToken
from store.models.telephony import PhonePin, SmsOptOut, TwilioMessage, TwilioStatus
from store.models.tokens import IssuedToken
from store.models.users import User, UserCreate, UserPublic, UserSettings
from store.models.webhooks import (
    DeliveryStatus,
    WebhookAttempt,
    WebhookDelivery,
    WebhookSubscription,
)

__all__ = [
    "Account",
    "AuditEntry",
    "BankLink",
    "BillableItem",
    "CalendarAccount",
    "CalendarTombstone",
    "Category",
    "CategoryRule",
    "CodePurpose",
    "ConversationTurn",
    "DeliveryAttempt",
    "DeliveryStatus",
    "Event",
    "Household",
    "HouseholdRole",
    "Invitation",
    "Invoice",
    "InvoiceLine",
    "InvoiceStatus",
    "IssuedToken",
    "Membership",
    "OneTimeCode",
    "Password",
    "PhonePin",
    "ProcessedWebhook",
    "Project",
    "RefreshToken",
    "Reminder",
    "ReminderKind",
    "ReminderStatus",
    "Sequence",
    "SmsOptOut",
    "Task",
    "TaskList",
    "TaskStatus",
    "Transaction",
    "TransactionKind",
    "TwilioMessage",
    "TwilioStatus",
    "User",
    "UserCreate",
    "UserPublic",
    "UserSettings",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookSubscription",
    "metadata",
]
