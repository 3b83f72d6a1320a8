"""An owner confirms their enrolment: stored with, for an approved enterprise that now wants
another module, the invitations of that module's workshops planned already."""

from __future__ import annotations

from collections.abc import Awaitable, Mapping
from typing import Any

from chat.context import Services
from db import enrolment as enrolment_db
from db.queries.workshops import Invitation
from domain.roles import Role
from services import workshops


async def confirm(svc: Services, owner_id: int, role: Role | None, answers: dict[str, Any]
                  ) -> enrolment_db.Confirmed | enrolment_db.Taken:
    def commit(invitations: Mapping[int, Invitation] | None
               ) -> Awaitable[enrolment_db.Confirmed | enrolment_db.Taken]:
        return enrolment_db.confirm_enrolment(svc.sessionmaker, owner_id, role, answers,
                                              now=svc.clock.now(), invitations=invitations)

    own = answers.get("id")
    if not own:
        # A new enterprise waits for staff: approving it invites it (db/review.py).
        return await commit(None)
    return await workshops.inviting(svc, int(own), commit)
