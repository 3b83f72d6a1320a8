"""A survey round's messages in the outbox, in the caller's transaction: queue a round's
invitations and reminders (`queue_messages`, which the use case `db.round_messages.queue_round`
runs when the round opens), and invite whoever becomes one of its respondents while it is open
(`invite_latecomers`, which the use cases that make someone a member run).

The messages are rendered before the transaction (`services/surveys/rounds.py`) and passed in
as `RoundMessages`: what they say depends only on the round (its month, its closing date), so
the transaction checks that the round is still the one they were rendered for and decides
inside itself who gets them, when, and under which outbox keys.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import SurveyRound
from db.queries import outbox as outbox_db
from db.queries.surveys import (
    LEFT,
    invite_group,
    invitee_provinces,
    invitees,
    provinces_in,
    remind_group,
    rounds_taking_answers,
)
from db.results import Stale
from domain import survey_calendar as calendar
from domain.provinces import WIB, WIT, WITA

ZONES = (WIB, WITA, WIT)


@dataclass(frozen=True)
class RoundMessages:
    """A round's invitation and reminder in every language, as the round was (`version`)
    when they were rendered: moving the round changes the dates they name."""

    round_id: int
    version: int
    invitation: outbox_db.Rendered
    reminder: outbox_db.Rendered


def current_messages(messages: Mapping[int, RoundMessages], round_: SurveyRound
                     ) -> RoundMessages:
    """The messages rendered for `round_` as it is now; `db.results.Stale` when it opened or
    was moved since (or they were not rendered for it)."""
    found = messages.get(round_.id)
    if found is None or found.version != round_.version:
        raise Stale(f"round {round_.id} opened or moved since its messages were rendered")
    return found


def send_moment(survey: str, day: date, zone: str) -> datetime:
    """When a round's message goes out in a zone: KPI at 09:00, the pulse at 19:30 (phones
    are in lockers during shifts), never during Friday prayers."""
    at = calendar.KPI_INVITE_TIME if survey == "kpi" else calendar.PULSE_INVITE_TIME
    return calendar.send_moment(day, at, zone)


def next_send_moment(survey: str, after: datetime, zone: str) -> datetime:
    """A round's next send time in a zone from `after` on, for someone who joins it late: the
    same local time as its invitations, on a working day for the KPI report (offices)."""
    at = calendar.KPI_INVITE_TIME if survey == "kpi" else calendar.PULSE_INVITE_TIME
    return calendar.next_send_moment(after, at, zone, working_days=survey == "kpi")


async def queue_messages(session: AsyncSession, round_: SurveyRound, messages: RoundMessages,
                         *, now: datetime, at_once: bool = False) -> int:
    """Queue the round's invitations to everyone it invites, in the caller's transaction;
    queueing again adds nothing (outbox keys) but for whoever is new."""
    queued = 0
    for zone in ZONES:
        planned = send_moment(round_.survey, round_.opens_on, zone)
        # Sent now (at once, or the job ran after the planned time): still never at night
        # (21.00-06.00 there) nor in Friday prayers, which the planned times avoid by
        # themselves.
        invite_at = calendar.outside_prayers(calendar.outside_quiet_hours(
            now if at_once else max(now, planned), zone), zone)
        if invite_at < round_.closes_at:  # the morning may come after the close
            queued += await _queue_zone(session, round_, messages, zone, invite_at=invite_at,
                                        now=now)
    return queued


async def invite_latecomers(session: AsyncSession, messages: Mapping[int, RoundMessages], *,
                            now: datetime, user_id: int | None = None,
                            enterprise_id: int | None = None) -> int:
    """Someone became one of a round's respondents after it opened (a worker who joined with
    the code, an admin who accepted the owner's invite: `user_id`; an enterprise approved
    by staff: `enterprise_id`): each round still taking answers invites them too, in the
    round's own groups, at its next send time in their zone (the pulse at 19:30, KPI at
    09:00 on a working day), with its reminder if that is still ahead. Nothing when that
    time falls after the close, nor for whoever has finished or has a row of the round
    already (joined twice; left and came back after it was sent); a row dropped when they
    left, never sent, is queued again.

    Runs in the caller's transaction, where the membership became active; the rounds are
    read there, locked against their opening (`rounds_taking_answers`), so someone joining
    while a round opens is invited by one of the two. `messages` holds every round not
    closed when they were rendered; one that opened or moved since raises `db.results.Stale`.
    Returns the number of invitations queued."""
    if user_id is None and enterprise_id is None:
        raise ValueError("whom to invite: a user or an enterprise")
    queued = 0
    for round_ in await rounds_taking_answers(session, now):
        provinces = await invitee_provinces(
            session, round_, user_id=user_id, enterprise_id=enterprise_id)
        zones = [zone for zone in ZONES if not provinces.isdisjoint(provinces_in(zone))]
        for zone in zones:
            invite_at = next_send_moment(round_.survey, now, zone)
            if invite_at < round_.closes_at:
                queued += await _queue_zone(session, round_, current_messages(messages, round_),
                                            zone, invite_at=invite_at, now=now, user_id=user_id,
                                            enterprise_id=enterprise_id)
    return queued


async def _queue_zone(session: AsyncSession, round_: SurveyRound, messages: RoundMessages,
                      zone: str, *, invite_at: datetime, now: datetime,
                      user_id: int | None = None, enterprise_id: int | None = None) -> int:
    """One zone's invitations at `invite_at`, and its reminders if the reminder comes after
    them and before the close: to everyone the round invites there, or (`user_id`,
    `enterprise_id`) to one person or one enterprise's people only. The outbox keys are the
    round's, per recipient: whoever has a row of the group already gets nothing new, but
    for a row dropped when they left before it was sent (`db.queries.surveys.drop_for_leaver`),
    which is queued again for now: who left and joined again, or moved to another
    enterprise, still gets the round's invitation once."""
    provinces = provinces_in(zone)

    def to() -> Select[int, str]:
        return invitees(round_, provinces=provinces, user_id=user_id,
                        enterprise_id=enterprise_id)

    queued = await outbox_db.enqueue_rendered(
        session, messages.invitation, group=invite_group(round_), key=invite_group(round_),
        to=to(), now=now, at=invite_at, expires_at=round_.closes_at, revive=LEFT)
    remind_at = send_moment(round_.survey, round_.reminder_on, zone)
    if invite_at < remind_at < round_.closes_at:
        await outbox_db.enqueue_rendered(
            session, messages.reminder, group=remind_group(round_), key=remind_group(round_),
            to=to(), now=now, at=remind_at, expires_at=round_.closes_at,
            priority=outbox_db.REMINDER, revive=LEFT)
    return queued
