"""Who may use what: the role the gate worked out for this update."""

from __future__ import annotations

from chat.context import BotContext
from domain.roles import Role


def is_staff(context: BotContext) -> bool:
    """STAFF_IDS and users promoted with /staff: the gate resolves both into the role."""
    return context.role == Role.STAFF.value


def role_of(context: BotContext) -> Role | None:
    return Role(context.role) if context.role else None


def has_no_role(context: BotContext) -> bool:
    """Not yet an owner, admin, worker, trainer or staff: first contact asks what they want."""
    return context.role is None
