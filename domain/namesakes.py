"""Enterprises of the same name in the same city: which of them stops an enrolment.

Only an approved enterprise is known to be real, so only an approved one of the same name
and city (someone else's) stops another person enrolling it: they ask its owner for an admin
invite instead. An enrolment still waiting could be anyone's, even someone's who does not own
the company: the real owner's enrolment goes to staff beside it, and staff decide which one
is real (only one of them can be approved). A rejected one stops nobody.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum


class Standing(str, Enum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


@dataclass(frozen=True)
class Namesake:
    """An enterprise with the same name and city as the one being enrolled."""

    id: int
    owner_id: int | None
    standing: Standing


@dataclass(frozen=True)
class Verdict:
    blocked_by: Namesake | None = None  # someone else's approved one: ask its owner instead
    own_id: int | None = None  # the enroller's own one (stored before): update, not create
    waiting: tuple[Namesake, ...] = ()  # others' enrolments still waiting: staff are told


def judge(namesakes: Iterable[Namesake], enroller: int, own_id: int | None) -> Verdict:
    """What the namesakes of an enrolment mean for the enroller, whose own enterprise (being
    updated) is `own_id`, if any."""
    others = [n for n in namesakes if n.id != own_id]
    mine = [n for n in others if n.owner_id == enroller]
    theirs = [n for n in others if n.owner_id != enroller]
    approved = [n for n in theirs if n.standing is Standing.APPROVED]
    if approved:
        return Verdict(blocked_by=approved[0])
    return Verdict(own_id=mine[0].id if mine and own_id is None else None,
                   waiting=tuple(n for n in theirs if n.standing is Standing.PENDING))


def rivals(namesakes: Iterable[Namesake], enterprise_id: int) -> list[Namesake]:
    """What staff deciding on `enterprise_id` must see: the other enterprises of its name
    and city that are waiting or approved (a rejected one tells them nothing)."""
    return [n for n in namesakes
            if n.id != enterprise_id and n.standing is not Standing.REJECTED]
