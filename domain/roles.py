"""Roles, and which one a person has when several facts apply.

Owner and worker follow what a person does (enrol an enterprise, join one with its code);
admin comes from an owner's invite; trainer and staff are given by staff, and staff are also
the Telegram ids in STAFF_IDS, which no one can take away in the bot.
"""

from __future__ import annotations

import enum


class Role(str, enum.Enum):
    OWNER = "owner"
    ADMIN = "admin"
    WORKER = "worker"
    TRAINER = "trainer"
    STAFF = "staff"


# Given by staff in the bot (/staff) and revocable there.
GIVEN_BY_STAFF = frozenset({Role.TRAINER, Role.STAFF})


def effective_role(stored: Role | None, *, in_staff_ids: bool) -> Role | None:
    """STAFF_IDS outrank whatever is stored."""
    return Role.STAFF if in_staff_ids else stored


def may_enrol(role: Role | None) -> bool:
    """Workers and admins belong to an enterprise someone else enrolled; a trainer keeps the
    trainer role and helps the owner enrol on the owner's phone."""
    return role not in (Role.WORKER, Role.ADMIN, Role.TRAINER)


def role_after_enrolling(role: Role | None) -> Role:
    """Enrolling makes an owner, but staff stay staff (they enrol on an owner's behalf)."""
    return Role.STAFF if role is Role.STAFF else Role.OWNER


def may_join_as_worker(role: Role | None) -> bool:
    """Join codes are for workers: owners, admins, trainers and staff keep their role."""
    return role in (None, Role.WORKER)


def may_accept_admin_invite(role: Role | None) -> bool:
    """An owner stays owner: the link is for someone else, and stays unused for them."""
    return role is not Role.OWNER


def role_after_admin_invite(role: Role | None) -> Role:
    """Trainers and staff keep their role and become admins only by membership."""
    return role if role is not None and role in GIVEN_BY_STAFF else Role.ADMIN


def may_manage_enterprise(role: Role | None) -> bool:
    """The join code, its poster and admin invites are for the owner (and staff helping)."""
    return role not in (Role.WORKER, Role.ADMIN)


def may_replace_join_code(role: Role | None) -> bool:
    """Replacing a join code is for owners, and for staff who enrolled an enterprise on an
    owner's behalf (enrolling keeps them staff); whose code it is, the database says. A
    trainer, even one who enrolled as owner before, does not."""
    return role in (Role.OWNER, Role.STAFF)
