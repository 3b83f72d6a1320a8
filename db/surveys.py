"""Survey rounds and responses: use cases that own their transaction (their queries are in
`db/queries/surveys.py`).

A response is kept answer by answer (`record_answer` commits each one), so a person can stop
halfway and go on later, after a restart too; it becomes final only when finished (for the
KPI report, after the rates were confirmed). One final response counts per enterprise (KPI)
or per worker (pulse) and month: finishing again before the close marks the earlier one
replaced, in the same transaction.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Literal
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, delete, exists, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.dialect_insert import insert_for
from db.models import (
    Enterprise,
    EnterpriseStatus,
    MemberRole,
    Membership,
    ResponseKind,
    ResponseStatus,
    SurveyAnswer,
    SurveyResponse,
    SurveyRound,
    TrainerAssignment,
    User,
)
from db.queries import outbox as outbox_db
from db.queries.pulse_releases import release_all
from db.queries.surveys import (
    RoundPlan,
    answers_of,
    drop_answered,
    get_round,
    invite_group,
    is_open,
    open_rounds,
    remind_group,
    respondents_of,
)
from db.results import affected
from db.session import Sessions
from domain.provinces import WIB
from domain.questionnaire import NAMES, Answer, load
from domain.roles import Role


# --- rounds -----------------------------------------------------------------------------------
async def round_by_id(sessions: Sessions, round_id: int) -> SurveyRound | None:
    async with sessions() as session:
        return await session.get(SurveyRound, round_id)


async def close_round(sessions: Sessions, round_id: int, *, now: datetime) -> SurveyRound | None:
    """Close a round now (at its time, or early from the command line), and drop its
    invitations and reminders not sent yet, in one commit. None when it was closed already,
    or never ran (then it is forgotten).
    A workers' round also makes what each enterprise may read of it (its release, while the
    answers still say who had joined when), then unlinks its responses from the workers."""
    async with sessions() as session, session.begin():
        round_ = await session.get(SurveyRound, round_id, with_for_update=True)
        if round_ is None or round_.closed_at is not None:
            return None
        if round_.queued_at is None:
            # It never ran (the bot was not running on its days): not recorded as closed,
            # which would list as not having answered people it never asked. `score-bot
            # survey open --late` can open it with its own dates.
            await session.delete(round_)
            return None
        round_.closed_at = now
        round_.closes_at = min(round_.closes_at, now)
        # Closed early: the date shown is the day it closed (rounds are dated in WIB).
        round_.closes_on = min(round_.closes_on, now.astimezone(ZoneInfo(WIB)).date())
        for group in (invite_group(round_), remind_group(round_)):
            await outbox_db.drop_unsent(session, group, reason="closed")
        if load(round_.survey).subject != "enterprise" and round_.queued_at is not None:
            await release_all(session, round_, now=now)
            await _unlink(session, round_)
        return round_


async def _unlink(session: AsyncSession, round_: SurveyRound) -> None:
    """No one can resume a closed round's responses: each loses its respondent for a random
    id, and its times keep only the day."""
    responses = (await session.scalars(select(SurveyResponse).where(
        SurveyResponse.survey == round_.survey, SurveyResponse.period == round_.period,
        SurveyResponse.respondent_id.is_not(None)))).all()
    for response in responses:
        response.respondent_id, response.respondent_ref = None, secrets.token_hex(8)
        response.started_at = day_of(response.started_at)
        response.updated_at = day_of(response.updated_at)
        if response.finished_at is not None:
            response.finished_at = day_of(response.finished_at)
    ids = [r.id for r in responses]
    for answer in (await session.scalars(select(SurveyAnswer).where(
            SurveyAnswer.response_id.in_(ids)))).all() if ids else ():
        answer.answered_at = day_of(answer.answered_at)


def day_of(moment: datetime) -> datetime:
    """Only the day of a moment (its date in WIB, as 00:00 UTC): a pulse response's times
    must not tell, beside a log or a chat, when one worker answered."""
    local = moment.astimezone(ZoneInfo(WIB)).date()
    return datetime(local.year, local.month, local.day, tzinfo=UTC)


async def move_round(sessions: Sessions, round_id: int, plan: RoundPlan, *, staff_id: int,
                     now: datetime) -> SurveyRound | None:
    """New dates for a round that is not closed. If its messages were queued, those of the
    old dates not sent yet are dropped, and the round is queued again (with the new
    version's keys) when its new opening day comes: all in one commit. None, and nothing
    changes, once its closing time has passed, even before the job marks it closed: owners
    may have read its totals, and a round read can never take answers again."""
    async with sessions() as session, session.begin():
        round_ = await session.get(SurveyRound, round_id, with_for_update=True)
        if round_ is None or round_.closed_at is not None or round_.closes_at <= now:
            return None
        old_version = round_.version
        round_.opens_on, round_.reminder_on = plan.opens_on, plan.reminder_on
        round_.closes_on, round_.closes_at = plan.closes_on, plan.closes_at
        round_.version = old_version + 1
        round_.moved_by, round_.moved_at = staff_id, now
        if round_.queued_at is not None:
            for group in (invite_group(round_, old_version), remind_group(round_, old_version)):
                await outbox_db.drop_unsent(session, group, reason="moved")
            round_.queued_at = None
        return round_


# --- responses --------------------------------------------------------------------------------
@dataclass
class Opened:
    """What opening a survey for someone found."""

    response_id: int | None = None
    answers: dict[str, Answer] = field(default_factory=dict)
    resumed: bool = False          # an unfinished response: go on where they stopped
    finished_before: bool = False  # a final one exists: ask before replacing it
    final_id: int | None = None    # that final response
    closed: bool = False           # the round is closed (or not open yet)


def _subject(survey: str, enterprise_id: int, respondent_id: int) -> ColumnElement[bool]:
    """Whose response it is: the enterprise's (KPI) or the worker's (pulse)."""
    if load(survey).subject == "enterprise":
        return SurveyResponse.enterprise_id == enterprise_id
    return SurveyResponse.respondent_id == respondent_id


def _same_month(survey: str, period: date, kind: ResponseKind, enterprise_id: int,
                respondent_id: int) -> tuple[ColumnElement[bool], ...]:
    """The responses of this survey, month and kind with the same subject (the enterprise's
    report, the worker's pulse)."""
    return (SurveyResponse.survey == survey, SurveyResponse.period == period,
            SurveyResponse.kind == kind, _subject(survey, enterprise_id, respondent_id))


async def open_response(sessions: Sessions, *, survey: str, period: date, enterprise_id: int,
                        respondent_id: int, entered_as: str, kind: ResponseKind,
                        now: datetime, replace: bool = False) -> Opened:
    """Resume this person's unfinished response for the month, or start one. A final
    response of the same subject is replaced only with `replace` (asked first)."""
    async with sessions() as session, session.begin():
        if kind is ResponseKind.MONTHLY:
            round_ = await get_round(session, survey, period)
            if round_ is None or not is_open(round_, now):
                return Opened(closed=True)
        same = select(SurveyResponse).where(
            *_same_month(survey, period, kind, enterprise_id, respondent_id))
        # Their own unfinished one for this enterprise: a worker who moved to another one
        # halfway through the pulse starts afresh there (the first one answers no more).
        mine = await session.scalar(same.where(
            SurveyResponse.status == ResponseStatus.OPEN,
            SurveyResponse.respondent_id == respondent_id,
            SurveyResponse.enterprise_id == enterprise_id).order_by(SurveyResponse.id.desc()))
        if mine is not None:
            return Opened(mine.id, await answers_of(session, mine.id), resumed=True)
        final = await session.scalar(same.where(SurveyResponse.status == ResponseStatus.FINAL))
        if final is not None and not replace:
            return Opened(finished_before=True, final_id=final.id)
        response = SurveyResponse(survey=survey, period=period, kind=kind,
                                  enterprise_id=enterprise_id, respondent_id=respondent_id,
                                  entered_as=entered_as, status=ResponseStatus.OPEN,
                                  started_at=now, updated_at=now)
        session.add(response)
        await session.flush()
        if final is None or not load(survey).confirm:
            return Opened(response.id)
        # A report checked on a summary starts from the one it replaces: correcting one
        # figure does not mean typing sixteen again.
        earlier = (await session.scalars(select(SurveyAnswer).where(
            SurveyAnswer.response_id == final.id))).all()
        for row in earlier:
            session.add(SurveyAnswer(response_id=response.id, question=row.question,
                                     raw=row.raw, number=row.number, percent=row.percent,
                                     choice=row.choice, skipped=row.skipped,
                                     answered_at=row.answered_at))
        await session.flush()
        return Opened(response.id, await answers_of(session, response.id))


@dataclass(frozen=True)
class Refusal:
    """Why a response takes no more answers: its round closed, staff moved the round (it
    opens again on `opens_on`), or the person no longer answers for the enterprise (left
    it; a trainer whose assignment staff ended)."""

    reason: Literal["closed", "moved", "not_allowed"]
    opens_on: date | None = None


def _may_answer() -> ColumnElement[bool]:
    """The response's respondent still answers for its enterprise: a trainer by an
    assignment while still a trainer, anyone else by an active membership."""
    member = exists(select(Membership.user_id).where(
        Membership.user_id == SurveyResponse.respondent_id,
        Membership.enterprise_id == SurveyResponse.enterprise_id,
        Membership.left_at.is_(None)))
    assigned = exists(select(TrainerAssignment.trainer_id)
                      .join(User, User.id == TrainerAssignment.trainer_id).where(
        TrainerAssignment.trainer_id == SurveyResponse.respondent_id,
        TrainerAssignment.enterprise_id == SurveyResponse.enterprise_id,
        User.role == Role.TRAINER))
    return or_(and_(SurveyResponse.entered_as == "trainer", assigned),
               and_(SurveyResponse.entered_as != "trainer", member))


async def _refusal(session: AsyncSession, response_id: int, now: datetime) -> Refusal | None:
    """Why the response cannot take an answer now, if it cannot."""
    response = await session.get(SurveyResponse, response_id)
    if response is None or response.status is not ResponseStatus.OPEN:
        return Refusal("closed")
    if not await session.scalar(select(_may_answer()).where(SurveyResponse.id == response_id)):
        return Refusal("not_allowed")
    if response.kind is ResponseKind.BASELINE:
        return None
    round_ = await get_round(session, response.survey, response.period)
    if round_ is None or round_.closed_at is not None or now >= round_.closes_at:
        return Refusal("closed")
    if round_.queued_at is None:
        return Refusal("moved", round_.opens_on)
    return None


async def record_answer(sessions: Sessions, response_id: int, question: str, answer: Answer,
                        *, raw: str | None, now: datetime) -> Refusal | None:
    """Keep one answer as given (replacing an earlier answer to the same question); or why
    the response can no longer take answers.

    Two statements, as every answer of every survey passes here: the response is touched
    only if it is open, its round too (a baseline has none) and the person still answers for
    the enterprise, then the answer upserted. Only a refusal reads more, to say why."""
    round_open = exists(select(SurveyRound.id).where(
        SurveyRound.survey == SurveyResponse.survey, SurveyRound.period == SurveyResponse.period,
        SurveyRound.queued_at.is_not(None), SurveyRound.closed_at.is_(None),
        SurveyRound.closes_at > now))
    async with sessions() as session, session.begin():
        touched = await session.execute(
            update(SurveyResponse).where(
                SurveyResponse.id == response_id, SurveyResponse.status == ResponseStatus.OPEN,
                or_(SurveyResponse.kind == ResponseKind.BASELINE, round_open), _may_answer())
            .values(updated_at=now).execution_options(synchronize_session=False))
        if affected(touched) != 1:
            return await _refusal(session, response_id, now) or Refusal("closed")
        values = dict(raw=raw, number=answer.number, percent=answer.percent,
                      choice=answer.choice, skipped=answer.skipped, answered_at=now)
        await session.execute(insert_for(session)(SurveyAnswer).values(
            response_id=response_id, question=question, **values)
            .on_conflict_do_update(index_elements=["response_id", "question"], set_=values))
        return None


async def response_answers(sessions: Sessions, response_id: int) -> dict[str, Answer]:
    async with sessions() as session:
        return await answers_of(session, response_id)


@dataclass(frozen=True)
class FinishNotices:
    """What finishing a response tells others, rendered before its transaction with the
    finisher's name and the response's month (`services/surveys/finishing.py`)."""

    # To whoever sent the final response this one replaces, if someone else did.
    replaced: outbox_db.Rendered
    # A report a trainer entered: to the enterprise's owner and admins.
    entered: outbox_db.Rendered | None = None


@dataclass(frozen=True)
class Finish:
    """What finishing a response came to."""

    done: bool
    # Another final response of the same subject and month, sent after this one was started
    # (the owner's report while the admin was still typing): not replaced without asking.
    superseded_by: int | None = None
    sent_by: str | None = None      # the name of who sent that one, if known
    refusal: Refusal | None = None  # or why it can no longer be finished


async def finish_response(sessions: Sessions, response_id: int, *, keep: Iterable[str],
                          now: datetime, notices: FinishNotices | None = None,
                          replacing: int | None = None) -> Finish:
    """Make the response final, in one transaction: answers to questions no longer asked
    are deleted; an earlier final response of the same subject and month is marked
    replaced; the round's invitation and reminder not sent yet to those it answered for are
    dropped; and `notices` are queued (a trainer's report to the enterprise's people; to
    whoever sent the replaced one, unless those were just told). Not done when the round
    closed meanwhile, nor when someone else's final response came in after this one was
    started, unless that one is `replacing` (the person was asked and said yes)."""
    async with sessions() as session, session.begin():
        response = await session.get(SurveyResponse, response_id, with_for_update=True)
        refusal = await _refusal(session, response_id, now)
        if refusal is not None:
            return Finish(done=False, refusal=refusal)
        assert response is not None
        if load(response.survey).subject == "enterprise":
            # The owner and an admin finishing the same month at once: one after the other,
            # so the later one sees the earlier as final (never two finals).
            await session.get(Enterprise, response.enterprise_id, with_for_update=True)
        # The first write: on SQLite it takes the database's write lock, which serialises
        # finishing as the enterprise's row lock does on PostgreSQL.
        await session.execute(delete(SurveyAnswer).where(
            SurveyAnswer.response_id == response_id, SurveyAnswer.question.not_in(list(keep))))
        finals = (*_same_month(response.survey, response.period, response.kind,
                               response.enterprise_id, response.respondent_id or 0),
                  SurveyResponse.status == ResponseStatus.FINAL)
        earlier = await session.scalar(select(SurveyResponse).where(*finals))
        if (earlier is not None and earlier.id != replacing
                and earlier.finished_at is not None and earlier.finished_at > response.started_at):
            sender = await session.get(User, earlier.respondent_id) \
                if earlier.respondent_id is not None else None
            return Finish(done=False, superseded_by=earlier.id,
                          sent_by=sender.name if sender is not None else None)
        if earlier is not None:
            await session.execute(update(SurveyResponse).where(*finals)
                                  .values(status=ResponseStatus.REPLACED)
                                  .execution_options(synchronize_session="fetch"))
        # A worker's pulse keeps only the day it was finished (day_of).
        finished = now if load(response.survey).subject == "enterprise" else day_of(now)
        response.status, response.finished_at, response.updated_at = (
            ResponseStatus.FINAL, finished, now)
        if response.kind is ResponseKind.MONTHLY:
            await drop_answered(session, response)
        if notices is not None:
            await _tell(session, response, earlier, notices, now=now)
        return Finish(done=True)


async def _tell(session: AsyncSession, response: SurveyResponse, earlier: SurveyResponse | None,
                notices: FinishNotices, *, now: datetime) -> None:
    by_trainer = response.entered_as == "trainer"
    if by_trainer and notices.entered is not None:
        # Its owner and admins may have been about to send their own, which would replace it.
        group = f"survey-entered:{response.id}"
        await outbox_db.enqueue_rendered(
            session, notices.entered, group=group, key=group, now=now,
            to=await respondents_of(session, "kpi", response.enterprise_id))
    if (earlier is not None and earlier.respondent_id is not None
            and earlier.respondent_id != response.respondent_id
            # An owner's or admin's report replaced by a trainer's: they were told just above.
            and (not by_trainer or earlier.entered_as == "trainer")):
        # They might otherwise think theirs stands.
        group = f"survey-replaced:{earlier.id}"
        await outbox_db.enqueue_rendered(session, notices.replaced, group=group, key=group,
                                         to=earlier.respondent_id, now=now)


async def withdraw_response(sessions: Sessions, response_id: int, *, now: datetime) -> None:
    """The person keeps the report someone else sent meanwhile: theirs, unfinished, is set
    aside (as replaced by that one), so that answering again starts from the one sent."""
    async with sessions() as session, session.begin():
        await session.execute(update(SurveyResponse).where(
            SurveyResponse.id == response_id, SurveyResponse.status == ResponseStatus.OPEN)
            .values(status=ResponseStatus.REPLACED, updated_at=now))


async def replaced_answers(sessions: Sessions, response: SurveyResponse
                           ) -> tuple[dict[str, Answer], dict[str, Answer]] | None:
    """The answers of the final response `response` would replace, and its own so far; None
    when it replaces none. Read before finishing, to say what changed: one sent in between
    is not replaced without asking (`finish_response`), so it is this one."""
    async with sessions() as session:
        earlier = await session.scalar(select(SurveyResponse.id).where(
            *_same_month(response.survey, response.period, response.kind,
                         response.enterprise_id, response.respondent_id or 0),
            SurveyResponse.status == ResponseStatus.FINAL, SurveyResponse.id != response.id))
        if earlier is None:
            return None
        return await answers_of(session, earlier), await answers_of(session, response.id)


async def response_by_id(sessions: Sessions, response_id: int) -> SurveyResponse | None:
    async with sessions() as session:
        return await session.get(SurveyResponse, response_id)


# --- who answers for which enterprise ---------------------------------------------------------
@dataclass(frozen=True)
class Place:
    enterprise_id: int
    name: str
    province: str
    entered_as: str  # owner, admin, worker or trainer
    # Since when: the membership's start (a trainer's: the enterprise's approval), and the
    # enterprise's approval; a month opened late is answered only by who was there then.
    since: datetime | None = None
    approved_at: datetime | None = None

    def was_there(self, round_: SurveyRound) -> bool:
        """Whether this place answers `round_`: any, unless it is a month opened late,
        asked of those who were members (of an enterprise approved) by its end."""
        until = round_.members_until
        return until is None or (self.since is not None and self.since < until
                                 and self.approved_at is not None and self.approved_at < until)


@dataclass(frozen=True)
class Unapproved:
    """An enterprise this person enrolled (or administers) that staff have not approved:
    still waiting, or rejected. Its reports and surveys start once it is approved."""

    name: str
    rejected: bool


@dataclass
class Places:
    """The enterprises this person answers for, and the one of theirs not approved yet."""

    found: list[Place] = field(default_factory=list)
    unapproved: Unapproved | None = None


async def places_of(sessions: Sessions, user_id: int) -> Places:
    """The enterprises this person answers for: their own (a membership in an approved
    enterprise) and, for a trainer, those staff assigned to them; and an enterprise they
    own or administer that is not approved (pending or rejected), which answers nothing."""
    async with sessions() as session:
        rows = (await session.execute(
            select(Enterprise.id, Enterprise.name, Enterprise.province, Membership.role,
                   Enterprise.status, Membership.since, Enterprise.decided_at)
            .join(Membership, Membership.enterprise_id == Enterprise.id)
            .where(Membership.user_id == user_id, Membership.left_at.is_(None)))).all()
        places = [Place(r[0], r[1], r[2], r[3].value, since=r[5], approved_at=r[6]) for r in rows
                  if r[4] is EnterpriseStatus.APPROVED]
        unapproved = next((Unapproved(r[1], rejected=r[4] is EnterpriseStatus.REJECTED)
                           for r in rows if r[4] is not EnterpriseStatus.APPROVED
                           and r[3] in (MemberRole.OWNER, MemberRole.ADMIN)), None)
        # Assignments count while the person is a trainer: staff may revoke the role and
        # leave the assignments, which then come back with it.
        assigned = (await session.execute(
            select(Enterprise.id, Enterprise.name, Enterprise.province, Enterprise.decided_at)
            .join(TrainerAssignment, TrainerAssignment.enterprise_id == Enterprise.id)
            .join(User, User.id == TrainerAssignment.trainer_id)
            .where(TrainerAssignment.trainer_id == user_id, User.role == Role.TRAINER,
                   Enterprise.status == EnterpriseStatus.APPROVED)
            .order_by(Enterprise.name))).all()
    own = {p.enterprise_id for p in places}
    return Places(places + [Place(r[0], r[1], r[2], "trainer", since=r[3], approved_at=r[3])
                            for r in assigned if r[0] not in own], unapproved)


# --- what a person can answer now -------------------------------------------------------------
@dataclass(frozen=True)
class Answerable:
    """One survey a person can answer for one enterprise (a monthly round, or a baseline,
    whose month is chosen later)."""

    survey: str
    period: date | None
    kind: ResponseKind
    place: Place


@dataclass
class Offer:
    choices: list[Answerable] = field(default_factory=list)
    closed_on: date | None = None  # the invitation's round has closed, on that day
    opens_on: date | None = None   # the invitation's round was moved: it opens that day
    places: int = 0                # how many enterprises this person answers for
    unapproved: Unapproved | None = None  # their enterprise staff have not approved


async def offer(sessions: Sessions, user_id: int, *, round_id: int | None,
                now: datetime) -> Offer:
    """What this person can answer now: for each enterprise they answer for, the open
    round of each survey their role there answers (only the invitation's round, when
    opened from one), as its definition says who answers it."""
    found = await places_of(sessions, user_id)
    places = found.found
    result = Offer(places=len(places), unapproved=found.unapproved)
    async with sessions() as session:
        if round_id is not None:
            round_ = await session.get(SurveyRound, round_id)
            if round_ is None:
                return result
            rounds = [round_] if is_open(round_, now) else []
            if not rounds and round_.closed_at is None and now < round_.closes_at:
                result.opens_on = round_.opens_on  # moved by staff after it was sent
            elif not rounds:
                result.closed_on = round_.closes_on
        else:
            rounds = [r for survey in NAMES for r in await open_rounds(session, survey, now)]
        result.choices = [Answerable(r.survey, r.period, ResponseKind.MONTHLY, place)
                          for place in places for r in rounds
                          if place.entered_as in load(r.survey).respondents
                          and place.was_there(r)]
        if round_id is None and not result.choices:
            # Nothing open, but a round of theirs that staff moved: when it opens.
            answered = {name for name in NAMES
                        if any(p.entered_as in load(name).respondents for p in places)}
            moved = await session.scalar(select(func.min(SurveyRound.opens_on)).where(
                SurveyRound.survey.in_(answered), SurveyRound.moved_at.is_not(None),
                SurveyRound.queued_at.is_(None), SurveyRound.closed_at.is_(None),
                SurveyRound.closes_at > now))
            result.opens_on = moved
    return result


async def baseline_offer(sessions: Sessions, user_id: int) -> Offer:
    """The enterprises whose baseline (before training) this person may enter."""
    found = await places_of(sessions, user_id)
    return Offer([Answerable(survey, None, ResponseKind.BASELINE, place)
                  for place in found.found for survey in NAMES
                  if place.entered_as in load(survey).baseline], places=len(found.found),
                 unapproved=found.unapproved)
