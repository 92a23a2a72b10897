"""Households: making them, inviting people by a single-use code, roles, leaving.

Who may do what is decided in skills.access; skills.members adds the rules about
owners (only an owner makes or unmakes an owner, and the last owner stays), asked
here and again when one of these changes is undone: each records the rows it
changed, so undo takes it back like any other change.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from skills import access
from skills.access import Capability
from skills.context import Conflict, NotFound, SkillContext, SkillError, name_of
from skills.history import ChangeSet, record_action, snapshot
from skills.members import check_role_change, keep_an_owner, membership
from store.models import Household, HouseholdRole, Invitation, Membership, User
from store.models.users import normalize_email, normalize_phone
from store.repositories.households import create_household

INVITATION_LIFETIME = timedelta(days=7)
# Readable aloud and typed from a text message: no 0/O, 1/I/L.
_CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
_CODE_LENGTH = 10  # ~49 bits: guessing one before it expires is out of reach


class HouseholdCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=100)

    @field_validator("name", mode="before")
    @classmethod
    def _strip(cls, value: object) -> object:
        return value.strip() if isinstance(value, str) else value


class HouseholdPublic(BaseModel):
    id: uuid.UUID
    name: str
    role: HouseholdRole
    personal: bool


class InvitationCreate(BaseModel):
    """Exactly one of an email address or a phone number (international form)."""

    model_config = ConfigDict(extra="forbid")
    email: str | None = None
    phone: str | None = None
    role: HouseholdRole = HouseholdRole.MEMBER
    # Send the code to the address (by email or SMS); false: only show it here, for
    # the inviter to pass on by hand.
    send: bool = True

    @field_validator("email", mode="before")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        return normalize_email(str(value)) if value else None

    @field_validator("phone", mode="before")
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        return normalize_phone(str(value)) if value else None

    @model_validator(mode="after")
    def _one_address(self) -> InvitationCreate:
        if (self.email is None) == (self.phone is None):
            raise ValueError("invite by email or by phone number: give exactly one")
        return self


class InvitationPublic(BaseModel):
    code: str  # shown once: only its hash is kept
    household_id: uuid.UUID
    role: HouseholdRole
    email: str | None
    phone: str | None
    expires_at: datetime
    sent_by: str | None = None  # "email" or "sms" once sent; None when only shown here


class InvitationAccept(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str = Field(min_length=4, max_length=40)


class MemberPublic(BaseModel):
    user_id: uuid.UUID
    name: str | None
    email: str
    role: HouseholdRole


class RoleChange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: HouseholdRole


def hash_code(code: str) -> str:
    cleaned = "".join(code.split()).replace("-", "").upper()
    return hashlib.sha256(cleaned.encode()).hexdigest()


async def find_invitation(session: AsyncSession, code: str) -> Invitation | None:
    """The invitation a code opens, used or not (for someone who has no account yet)."""
    found = await session.exec(select(Invitation).where(Invitation.code_hash == hash_code(code)))
    return found.first()


async def withdraw(session: AsyncSession, code: str) -> None:
    """Forget an invitation that could not be sent, and keep that forgotten."""
    invitation = await find_invitation(session, code)
    if invitation is not None:
        await session.delete(invitation)
        await session.commit()


class HouseholdService:
    def __init__(self, ctx: SkillContext) -> None:
        self.ctx = ctx
        self.session = ctx.session

    async def mine(self) -> list[HouseholdPublic]:
        found = await access.memberships(self.ctx)
        return [
            HouseholdPublic(id=m.household_id, name=m.name, role=m.role, personal=m.personal)
            for m in sorted(found.values(), key=lambda m: (not m.personal, m.name))
        ]

    async def create(self, data: HouseholdCreate) -> HouseholdPublic:
        household = await create_household(self.session, data.name, self.ctx.user_id)
        access.forget_memberships(self.ctx)
        changes = ChangeSet()
        changes.created(household)
        mine = await self._membership(household.id, self.ctx.user_id)
        assert mine is not None
        changes.created(mine)
        record_action(
            self.ctx, "households.create", "household", household.id, changes, name=data.name
        )
        return HouseholdPublic(
            id=household.id, name=household.name, role=HouseholdRole.OWNER, personal=False
        )

    async def invite(self, household_id: uuid.UUID, data: InvitationCreate) -> InvitationPublic:
        member = await self._allowed(household_id, Capability.MEMBERS_INVITE, "invite people to")
        if data.role is HouseholdRole.OWNER and member.role is not HouseholdRole.OWNER:
            raise access.AccessDenied("only an owner can invite another owner")
        code = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(_CODE_LENGTH))
        invitation = Invitation(
            household_id=household_id,
            invited_by=self.ctx.user_id,
            email=data.email,
            phone=data.phone,
            role=data.role,
            code_hash=hash_code(code),
            expires_at=self.ctx.now() + INVITATION_LIFETIME,
        )
        self.session.add(invitation)
        await self.session.flush()
        changes = ChangeSet()
        changes.created(invitation)
        record_action(
            self.ctx,
            "households.invite",
            "household",
            household_id,
            changes,
            to=data.email or data.phone,
            role=data.role.value,
        )
        return InvitationPublic(
            code=code,
            household_id=household_id,
            role=data.role,
            email=data.email,
            phone=data.phone,
            expires_at=invitation.expires_at,
        )

    async def accept(self, code: str) -> HouseholdPublic:
        """Join with a code sent to this user's own email address or phone number."""
        invitation = await find_invitation(self.session, code)
        user = await self.session.get(User, self.ctx.user_id)
        assert user is not None
        addressed = invitation is not None and (
            (invitation.email is not None and invitation.email == user.email)
            or (invitation.phone is not None and invitation.phone == user.phone)
        )
        if invitation is None or not addressed:
            raise NotFound("that invitation code is not valid for you")
        if invitation.accepted_at is not None:
            raise Conflict("that invitation code has already been used")
        if invitation.expires_at <= self.ctx.now():
            raise SkillError("that invitation code has expired; ask for a new one")
        if await self._membership(invitation.household_id, self.ctx.user_id) is not None:
            raise Conflict("you are already in that household")
        # Single use even when two requests bring the same code at once.
        taken = await self.session.exec(
            update(Invitation)
            .where(col(Invitation.id) == invitation.id, col(Invitation.accepted_at).is_(None))
            .values(accepted_at=self.ctx.now(), accepted_by=self.ctx.user_id)
        )
        if taken.rowcount != 1:
            raise Conflict("that invitation code has already been used")
        joined = Membership(
            household_id=invitation.household_id, user_id=self.ctx.user_id, role=invitation.role
        )
        self.session.add(joined)
        await self.session.flush()
        changes = ChangeSet()
        changes.created(joined)
        access.forget_memberships(self.ctx)
        household = await self.session.get(Household, invitation.household_id)
        assert household is not None
        record_action(
            self.ctx,
            "households.join",
            "household",
            household.id,
            changes,
            name=household.name,
            role=invitation.role.value,
        )
        return HouseholdPublic(
            id=household.id, name=household.name, role=invitation.role, personal=household.personal
        )

    async def members(self, household_id: uuid.UUID) -> list[MemberPublic]:
        if household_id not in await access.memberships(self.ctx):
            raise NotFound("no such household")
        rows = await self.session.exec(
            select(User, Membership)
            .join(Membership, col(Membership.user_id) == User.id)
            .where(Membership.household_id == household_id)
            .order_by(col(Membership.created_at))
        )
        return [
            MemberPublic(user_id=u.id, name=u.name, email=u.email, role=m.role) for u, m in rows
        ]

    async def set_role(
        self, household_id: uuid.UUID, user_id: uuid.UUID, role: HouseholdRole
    ) -> MemberPublic:
        me = await self._allowed(household_id, Capability.MEMBERS_MANAGE, "change roles in")
        target = await self._membership(household_id, user_id)
        if target is None:
            raise NotFound("no such member")
        await check_role_change(self.session, household_id, by=me.role, now=target.role, to=role)
        before = target.role
        was = snapshot(target)
        target.role = role
        self.session.add(target)
        await self.session.flush()
        access.forget_memberships(self.ctx)
        changes = ChangeSet()
        changes.updated(target, was)
        user = await self.session.get(User, user_id)
        assert user is not None
        record_action(
            self.ctx,
            "households.role",
            "household",
            household_id,
            changes,
            name=name_of(user),  # "Cara has changed Bob since": undo names the member
            member=str(user_id),
            before=before.value,
            after=role.value,
        )
        return MemberPublic(user_id=user.id, name=user.name, email=user.email, role=role)

    async def remove(self, household_id: uuid.UUID, user_id: uuid.UUID) -> None:
        if user_id == self.ctx.user_id:
            return await self.leave(household_id)
        me = await self._allowed(household_id, Capability.MEMBERS_MANAGE, "remove people from")
        target = await self._membership(household_id, user_id)
        if target is None:
            raise NotFound("no such member")
        if target.role is HouseholdRole.OWNER and me.role is not HouseholdRole.OWNER:
            raise access.AccessDenied("only an owner can remove an owner")
        await self._drop(target, "households.remove")
        return None

    async def leave(self, household_id: uuid.UUID) -> None:
        mine = await self._membership(household_id, self.ctx.user_id)
        if mine is None:
            raise NotFound("no such household")
        if mine.role is HouseholdRole.OWNER:
            await keep_an_owner(self.session, household_id, leaving=True)
        await self._drop(mine, "households.leave")

    # --- helpers -----------------------------------------------------------

    async def _allowed(
        self, household_id: uuid.UUID, capability: Capability, doing: str
    ) -> access.MemberOf:
        return await access.require_household(
            self.ctx, household_id, capability, doing=f"{doing} it"
        )

    async def _membership(self, household_id: uuid.UUID, user_id: uuid.UUID) -> Membership | None:
        return await membership(self.session, household_id, user_id)

    async def _drop(self, member: Membership, action: str) -> None:
        changes = ChangeSet()
        changes.deleted(member)
        await self.session.delete(member)
        await self.session.flush()
        access.forget_memberships(self.ctx)
        record_action(
            self.ctx,
            action,
            "household",
            member.household_id,
            changes,
            name=name_of(await self.session.get(User, member.user_id)),
            member=str(member.user_id),
            role=member.role.value,
        )
