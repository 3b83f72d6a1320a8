"""The use cases of workshops: staff create, edit and cancel one; owners and admins answer
its invitation; attendance is recorded. Each owns its transaction; what it must queue comes
rendered (docs/decisions/0006), and the planned messages (`event_reminders`) are planned,
moved or dropped in the same commit."""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import (
    Enterprise,
    EventReminder,
    EventStatus,
    Rsvp,
    TrainerAssignment,
    Workshop,
    WorkshopInvite,
    WorkshopParticipant,
)
from db.queries import event_reminders as planned_db
from db.queries import outbox as outbox_db
from db.queries import workshops as q
from db.session import Sessions
from domain.event_schedule import Planned
from domain.provinces import WIB, by_code
from domain.workshops import Participant, may_answer

EVENT = q.EVENT
INVITE = q.INVITE  # the planned message that carries the invitation, due when it is saved


def zone_of(workshop: Workshop) -> str:
    province = by_code(workshop.province)
    return province.timezone if province else WIB


def news_group(workshop_id: int) -> str:
    """Invitations' news (a change, a cancellation): not tied to a date's version, so a move
    does not cancel them. Kind "workshop": bulk, it waits for daytime and a finished
    conversation."""
    return f"workshop:{workshop_id}:news"


@dataclass(frozen=True)
class WorkshopFields:
    module: int
    province: str
    city: str
    venue: str
    venue_lat: float | None
    venue_lon: float | None
    starts_at: datetime
    days: int
    notes_id: str | None
    notes_en: str | None


@dataclass(frozen=True)
class Created:
    workshop_id: int
    invited: int           # enterprises
    invite_reminder: int   # the planned invitation's row, due now


async def count_invitable(sessions: Sessions, module: int, province: str) -> int:
    async with sessions() as session:
        return int(await session.scalar(
            select(func.count()).select_from(q.invitable(module, province).subquery())) or 0)


async def create_workshop(sessions: Sessions, fields: WorkshopFields, *, staff_id: int,
                          planned: Sequence[Planned], now: datetime) -> Created:
    """The workshop, an invitation row per enterprise it invites, and its planned messages:
    the invitation itself (due now, so a crash before it is sent loses nothing: the job sends
    it) and the reminders."""
    async with sessions() as session, session.begin():
        workshop = Workshop(
            module=fields.module, province=fields.province, city=fields.city,
            venue=fields.venue, venue_lat=fields.venue_lat, venue_lon=fields.venue_lon,
            starts_at=fields.starts_at, days=fields.days, notes_id=fields.notes_id,
            notes_en=fields.notes_en, status=EventStatus.SCHEDULED, version=0,
            created_by=staff_id, created_at=now, updated_at=now)
        session.add(workshop)
        await session.flush()
        enterprise_ids = list(await session.scalars(q.invitable(fields.module, fields.province)))
        session.add_all(WorkshopInvite(workshop_id=workshop.id, enterprise_id=e, invited_at=now)
                        for e in enterprise_ids)
        await planned_db.plan(session, EVENT, workshop.id, 0,
                              [Planned(INVITE, now, fields.starts_at), *planned], now=now)
        invite_row = await session.scalar(select(EventReminder.id).where(
            EventReminder.event == EVENT, EventReminder.event_id == workshop.id,
            EventReminder.kind == INVITE))
        assert invite_row is not None
    return Created(workshop.id, len(enterprise_ids), invite_row)


async def open_to(sessions: Sessions, enterprise_id: int, *, now: datetime) -> list[Workshop]:
    """The workshops that may invite this enterprise late (`q.open_to`)."""
    async with sessions() as session:
        return list(await session.scalars(q.open_to(enterprise_id, now)))


async def get(sessions: Sessions, workshop_id: int) -> Workshop | None:
    async with sessions() as session:
        return await session.get(Workshop, workshop_id)


# --- answers -------------------------------------------------------------------------------
class Refusal(enum.Enum):
    GONE = "gone"                # no such workshop
    CANCELLED = "cancelled"
    NOT_INVITED = "not_invited"  # not an owner or admin of an invited enterprise
    CLOSED = "closed"            # the day before has passed


@dataclass(frozen=True)
class Place:
    """Who answers, for which enterprise, to which workshop."""

    workshop: Workshop
    enterprise_id: int
    enterprise_name: str
    answer: Rsvp | None
    people: list[Participant] = field(default_factory=list)


async def _place(session: AsyncSession, workshop_id: int, user_id: int, now: datetime,
                 ) -> tuple[Place, WorkshopInvite] | Refusal:
    workshop = await session.get(Workshop, workshop_id)
    if workshop is None:
        return Refusal.GONE
    if workshop.status is EventStatus.CANCELLED:
        return Refusal.CANCELLED
    enterprise_id = await q.decider_place(session, user_id)
    invite = (await q.invite_of(session, workshop_id, enterprise_id)
              if enterprise_id is not None else None)
    if invite is None or enterprise_id is None:
        return Refusal.NOT_INVITED
    if not may_answer(workshop.starts_at, zone_of(workshop), now):
        return Refusal.CLOSED
    enterprise = await session.get(Enterprise, enterprise_id)
    people = [Participant(p.name, p.sex, p.kind)
              for p in await q.participants(session, [invite.id])]
    return Place(workshop, enterprise_id, enterprise.name if enterprise else "", invite.answer,
                 people), invite


async def answer_place(sessions: Sessions, workshop_id: int, user_id: int, *,
                       now: datetime) -> Place | Refusal:
    """Whether this user may answer this workshop's invitation now, and what stands."""
    async with sessions() as session:
        found = await _place(session, workshop_id, user_id, now)
    return found if isinstance(found, Refusal) else found[0]


async def answer(sessions: Sessions, workshop_id: int, user_id: int, rsvp: Rsvp,
                 people: Sequence[Participant], *, now: datetime) -> Place | Refusal:
    """Record the enterprise's answer: attending with these people (replacing those named
    before), or declining (no one named)."""
    async with sessions() as session, session.begin():
        found = await _place(session, workshop_id, user_id, now)
        if isinstance(found, Refusal):
            return found
        place, invite = found
        invite.answer, invite.answered_by, invite.answered_at = rsvp, user_id, now
        await session.execute(delete(WorkshopParticipant).where(
            WorkshopParticipant.invite_id == invite.id))
        kept = list(people) if rsvp is Rsvp.ATTEND else []
        session.add_all(WorkshopParticipant(invite_id=invite.id, name=p.name, sex=p.sex,
                                            kind=p.kind) for p in kept)
    return Place(place.workshop, place.enterprise_id, place.enterprise_name, rsvp, kept)


# --- lists ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Counts:
    invited: int = 0
    attending: int = 0
    declined: int = 0
    people: int = 0


@dataclass(frozen=True)
class Listed:
    workshop: Workshop
    counts: Counts
    answer: Rsvp | None = None           # the reader's enterprise's, for owners and admins
    people: list[Participant] = field(default_factory=list)


async def _counts(session: AsyncSession, workshop_id: int) -> Counts:
    rows = (await session.execute(select(WorkshopInvite.answer, func.count()).where(
        WorkshopInvite.workshop_id == workshop_id).group_by(WorkshopInvite.answer))).all()
    by_answer = {a: int(n) for a, n in rows}
    people = await session.scalar(select(func.count()).select_from(WorkshopParticipant).join(
        WorkshopInvite, WorkshopInvite.id == WorkshopParticipant.invite_id).where(
        WorkshopInvite.workshop_id == workshop_id)) or 0
    return Counts(sum(by_answer.values()), by_answer.get(Rsvp.ATTEND, 0),
                  by_answer.get(Rsvp.DECLINE, 0), int(people))


# Staff and trainers record attendance after a workshop: it stays listed a week after it ended.
RECENT = timedelta(days=7)


async def upcoming(sessions: Sessions, *, now: datetime) -> list[Listed]:
    """Every workshop not cancelled that has not ended (or ended within a week: attendance is
    recorded then), soonest first, with RSVP counts."""
    async with sessions() as session:
        workshops = list(await session.scalars(select(Workshop).where(
            Workshop.status == EventStatus.SCHEDULED).order_by(Workshop.starts_at)))
        return [Listed(w, await _counts(session, w.id)) for w in workshops
                if _not_ended(w, now - RECENT)]


def _not_ended(workshop: Workshop, now: datetime) -> bool:
    return workshop.starts_at + timedelta(days=workshop.days) > now


async def mine(sessions: Sessions, user_id: int, *, now: datetime) -> list[Listed] | None:
    """The upcoming workshops the user's enterprise is invited to, with its answer; None
    when the user answers for no enterprise."""
    async with sessions() as session:
        enterprise_id = await q.decider_place(session, user_id)
        if enterprise_id is None:
            return None
        rows = (await session.execute(select(Workshop, WorkshopInvite).join(
            WorkshopInvite, WorkshopInvite.workshop_id == Workshop.id).where(
            WorkshopInvite.enterprise_id == enterprise_id,
            Workshop.status == EventStatus.SCHEDULED).order_by(Workshop.starts_at))).all()
        listed = []
        for workshop, invite in rows:
            if not _not_ended(workshop, now):
                continue
            people = [Participant(p.name, p.sex, p.kind)
                      for p in await q.participants(session, [invite.id])]
            listed.append(Listed(workshop, Counts(), invite.answer, people))
    return listed


# --- staff: edit and cancel ----------------------------------------------------------------
async def edit_workshop(sessions: Sessions, workshop_id: int, *, starts_at: datetime,
                        venue: str, venue_lat: float | None, venue_lon: float | None,
                        notes_id: str | None, notes_en: str | None,
                        planned: Sequence[Planned], notice: outbox_db.Rendered | None,
                        notice_key: str, now: datetime,
                        venue_notice: outbox_db.Rendered | None = None) -> Workshop | None:
    """Change a workshop; a new start replans its reminders under a new version (the old
    date's not sent yet are dropped). `notice` (what changed, in words) goes to the owners
    and admins of every invited enterprise, followed by `venue_notice` (the new place on
    the map). None when it was cancelled meanwhile."""
    async with sessions() as session, session.begin():
        workshop = await session.get(Workshop, workshop_id, with_for_update=True)
        if workshop is None or workshop.status is not EventStatus.SCHEDULED:
            return None
        if starts_at != workshop.starts_at:
            old = workshop.version
            unsent_invite = await session.scalar(select(EventReminder.id).where(
                EventReminder.event == EVENT, EventReminder.event_id == workshop_id,
                EventReminder.kind == INVITE, EventReminder.queued_at.is_(None)))
            workshop.version = old + 1
            again = [Planned(INVITE, now, starts_at)] if unsent_invite is not None else []
            await planned_db.replan(session, EVENT, workshop_id, old_version=old,
                                    new_version=workshop.version,
                                    planned=[*again, *planned], now=now)
            workshop.starts_at = starts_at
        workshop.venue, workshop.venue_lat, workshop.venue_lon = venue, venue_lat, venue_lon
        workshop.notes_id, workshop.notes_en = notes_id, notes_en
        workshop.updated_at = now
        if notice is not None:
            await outbox_db.enqueue_rendered(
                session, notice, group=news_group(workshop_id), key=notice_key,
                to=q.deciders(q.invited(workshop_id)), now=now, expires_at=starts_at)
            if venue_notice is not None:
                # Queued second: its rows come after the notice's and wait for them.
                await outbox_db.enqueue_rendered(
                    session, venue_notice, group=news_group(workshop_id),
                    key=f"{notice_key}:venue", to=q.deciders(q.invited(workshop_id)),
                    now=now, expires_at=starts_at)
    return workshop


async def cancel_workshop(sessions: Sessions, workshop_id: int, *,
                          notice: outbox_db.Rendered, now: datetime) -> Workshop | None:
    """Cancel it: its planned messages not sent yet are dropped, and everyone invited is
    told (only if the invitation was sent: nobody hears of a workshop only to be told it is
    off). None when it was cancelled already."""
    async with sessions() as session, session.begin():
        workshop = await session.get(Workshop, workshop_id, with_for_update=True)
        if workshop is None or workshop.status is not EventStatus.SCHEDULED:
            return None
        invited_already = await session.scalar(select(EventReminder.id).where(
            EventReminder.event == EVENT, EventReminder.event_id == workshop_id,
            EventReminder.kind == INVITE, EventReminder.queued_at.is_not(None)))
        workshop.status, workshop.cancelled_at, workshop.updated_at = (
            EventStatus.CANCELLED, now, now)
        await planned_db.unplan(session, EVENT, workshop_id, workshop.version, now=now)
        if invited_already is not None:
            await outbox_db.enqueue_rendered(
                session, notice, group=news_group(workshop_id),
                key=f"{news_group(workshop_id)}:cancelled",
                to=q.deciders(q.invited(workshop_id)), now=now, expires_at=workshop.starts_at)
    return workshop


# --- attendance ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Named:
    id: int
    name: str
    sex: str
    kind: str
    attended: bool | None
    enterprise: str


async def may_record(sessions: Sessions, workshop_id: int, user_id: int, *,
                     staff: bool) -> bool:
    """Staff, or a trainer assigned to an enterprise invited to it."""
    if staff:
        return True
    async with sessions() as session:
        return bool(await session.scalar(select(func.count()).select_from(TrainerAssignment)
                                         .where(TrainerAssignment.trainer_id == user_id,
                                                TrainerAssignment.enterprise_id.in_(
                                                    q.invited(workshop_id)))))


async def named(sessions: Sessions, workshop_id: int, *, trainer_id: int | None = None
                ) -> list[Named]:
    """The people named for a workshop (a trainer: those of the enterprises assigned to
    them), by enterprise."""
    async with sessions() as session:
        query = (select(WorkshopParticipant, Enterprise.name)
                 .join(WorkshopInvite, WorkshopInvite.id == WorkshopParticipant.invite_id)
                 .join(Enterprise, Enterprise.id == WorkshopInvite.enterprise_id)
                 .where(WorkshopInvite.workshop_id == workshop_id,
                        WorkshopInvite.answer == Rsvp.ATTEND)
                 .order_by(Enterprise.name, WorkshopParticipant.id))
        if trainer_id is not None:
            query = query.where(WorkshopInvite.enterprise_id.in_(
                select(TrainerAssignment.enterprise_id).where(
                    TrainerAssignment.trainer_id == trainer_id)))
        rows = (await session.execute(query)).all()
    return [Named(p.id, p.name, p.sex, p.kind, p.attended, name) for p, name in rows]


async def participant_enterprise(sessions: Sessions, workshop_id: int, participant_id: int
                                 ) -> int | None:
    """The enterprise that named this person for this workshop."""
    async with sessions() as session:
        return await session.scalar(select(WorkshopInvite.enterprise_id).join(
            WorkshopParticipant, WorkshopInvite.id == WorkshopParticipant.invite_id).where(
            WorkshopParticipant.id == participant_id,
            WorkshopInvite.workshop_id == workshop_id))


async def record_attendance(sessions: Sessions, workshop_id: int, participant_id: int,
                            attended: bool, *, by: int, now: datetime,
                            invitations: Mapping[int, q.Invitation] | None = None) -> bool:
    """Mark one named person as having come or not; False when they are not of this
    workshop. Someone who came to a module-1 workshop makes their enterprise one that took
    module 1: the workshops of the later modules planned already invite it
    (`invitations`, rendered before: `q.invite_latecomer`)."""
    async with sessions() as session, session.begin():
        found = (await session.execute(select(WorkshopParticipant, WorkshopInvite).join(
            WorkshopInvite, WorkshopInvite.id == WorkshopParticipant.invite_id).where(
            WorkshopParticipant.id == participant_id,
            WorkshopInvite.workshop_id == workshop_id))).first()
        if found is None:
            return False
        row, invite = found
        row.attended, row.recorded_by, row.recorded_at = attended, by, now
        if attended and invitations is not None:
            await session.flush()
            await q.invite_latecomer(session, invitations, enterprise_id=invite.enterprise_id,
                                     now=now)
    return True
