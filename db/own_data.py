"""A user's own data (UU PDP No. 27/2022): everything stored about them (/mydata) and
forgetting it (/forget), use cases that own their transaction.

`USER_COLUMNS` is the one list of the columns that hold a user's Telegram id, each with the
part of /mydata that shows it and what /forget does to it. tests/test_own_data.py walks the
models: a column that refers to users (a foreign key to users.id, or a BigInteger that is not
a row's own id) and is in neither this list nor `NOT_USERS` fails it, so a new table cannot
be forgotten here (docs/decisions/0013-users-own-data.md).

Forgetting keeps what the programme counts: a *placeholder* user row (a random negative id,
which Telegram never gives; no name, username, consent or role; blocked, so nothing is ever
queued to it) takes the person's place where a row must stay for the totals (memberships,
visits, who decided what), and the person's own row goes, so their next /start is a
newcomer's.
"""

from __future__ import annotations

import enum
import html
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    RowMapping,
    String,
    Table,
    and_,
    cast,
    delete,
    exists,
    func,
    literal,
    null,
    or_,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import (
    Base,
    Enterprise,
    MemberRole,
    Membership,
    ModuleInterest,
    OutboxContent,
    OutboxMedia,
    OutboxMessage,
    OutboxState,
    Role,
    SurveyAnswer,
    SurveyResponse,
    SurveyRound,
    Tip,
    User,
    UserStatus,
    Workshop,
    WorkshopInvite,
    WorkshopParticipant,
)
from db.queries import outbox as outbox_db
from db.queries.staff import staff_ids
from db.results import Stale, affected
from db.session import Sessions
from db.surveys import day_of


class Forget(enum.Enum):
    """What /forget does to a column holding the user's id."""

    ROW = "row"                   # the user row itself: deleted, a placeholder takes its place
    PLACEHOLDER = "placeholder"   # kept for the programme, pointing at the placeholder
    DELETE = "delete"             # the rows go
    OWN = "own"                   # its own rule, in `_forget` (said in the comment)


@dataclass(frozen=True)
class UserColumn:
    table: str
    column: str
    section: str                  # the part of /mydata showing it (services/own_data.py)
    forget: Forget
    shows: tuple[str, ...] = ()   # the row's columns /mydata lists (the id column is implied)

    @property
    def key(self) -> str:
        return f"{self.table}.{self.column}"


_WHEN = ("created_at",)
USER_COLUMNS: tuple[UserColumn, ...] = (
    UserColumn("users", "id", "account", Forget.ROW,
               ("id", "name", "username", "language", "role", "status", "consent_at",
                "consent_declined_at", "created_at", "last_seen_at")),
    # An owner's enterprise stays for the programme; its contact fields are emptied and staff
    # are told, so they can ask the enterprise for a new contact.
    UserColumn("enterprises", "owner_id", "enterprises", Forget.OWN,
               ("enterprise_id", "sector", "province", "city", "worker_count", "contact_name",
                "phone", "join_code", "status", "proposed_name", "proposed_city",
                "created_at")),
    UserColumn("enterprises", "decided_by", "staff_actions", Forget.PLACEHOLDER,
               ("enterprise_id", "status", "decided_at")),
    # Ended, and kept under the placeholder: a round's rates count who it asked then.
    UserColumn("memberships", "user_id", "memberships", Forget.OWN,
               ("enterprise_id", "role", "since", "left_at")),
    UserColumn("admin_invites", "created_by", "invites", Forget.PLACEHOLDER,
               ("enterprise_id", "created_at", "used_at")),
    UserColumn("admin_invites", "used_by", "invites", Forget.PLACEHOLDER,
               ("enterprise_id", "used_at")),
    UserColumn("join_attempts", "user_id", "join_attempts", Forget.DELETE, ("at",)),
    UserColumn("user_drafts", "user_id", "drafts", Forget.DELETE, ("updated_at", "data")),
    UserColumn("broadcasts", "created_by", "staff_actions", Forget.PLACEHOLDER,
               ("created_at", "status", "text_id")),
    # Unsent rows are dropped; all keep their state for delivery counts, under the
    # placeholder, and a message that went to no one else loses its text.
    UserColumn("outbox", "recipient_id", "outbox", Forget.OWN,
               ("created_at", "state", "sent_at", "content_id")),
    UserColumn("trainer_assignments", "trainer_id", "trainer", Forget.DELETE,
               ("enterprise_id", "assigned_at")),
    UserColumn("trainer_assignments", "assigned_by", "staff_actions", Forget.PLACEHOLDER,
               ("enterprise_id", "assigned_at")),
    UserColumn("survey_rounds", "moved_by", "staff_actions", Forget.PLACEHOLDER,
               ("survey", "period", "moved_at")),
    # Answers stay, anonymous: a closed round's response gets a random ref (as every pulse
    # response gets at its close); one of a round still open the placeholder, so the
    # round's rates and the owner's totals at its close count it as before.
    UserColumn("survey_responses", "respondent_id", "responses", Forget.OWN,
               ("survey", "period", "kind", "status", "enterprise_id", "entered_as",
                "started_at", "finished_at")),
    UserColumn("workshops", "created_by", "staff_actions", Forget.PLACEHOLDER,
               ("module", "city", "starts_at", *_WHEN)),
    UserColumn("workshop_invites", "answered_by", "workshops", Forget.PLACEHOLDER,
               ("workshop_id", "enterprise_id", "answer", "answered_at")),
    UserColumn("workshop_participants", "recorded_by", "staff_actions", Forget.PLACEHOLDER,
               ("name", "attended", "recorded_at")),
    UserColumn("visits", "trainer_id", "visits", Forget.PLACEHOLDER,
               ("enterprise_id", "module", "starts_at", "status", "report_done",
                "report_next_steps")),
    UserColumn("visits", "created_by", "visits", Forget.PLACEHOLDER,
               ("enterprise_id", "module", "starts_at", "status")),
    UserColumn("visits", "reported_by", "visits", Forget.PLACEHOLDER,
               ("enterprise_id", "module", "reported_at")),
    UserColumn("tips", "created_by", "staff_actions", Forget.PLACEHOLDER,
               ("module", "text_id", *_WHEN)),
    UserColumn("tips", "edited_by", "staff_actions", Forget.PLACEHOLDER,
               ("module", "text_id", "edited_at")),
    UserColumn("tip_sends", "user_id", "tips", Forget.DELETE, ("tip_id", "via", "sent_at")),
    UserColumn("tip_feedback", "user_id", "tips", Forget.DELETE,
               ("tip_id", "useful", "answered_at")),
    UserColumn("tip_optouts", "user_id", "tips", Forget.DELETE, ("since",)),
)

# BigInteger columns that hold no user's id, and why.
NOT_USERS: Mapping[str, str] = {
    "group_chats.chat_id": "a group chat's id: the bot only says once that it works in "
                           "private chats",
    "outbox.message_id": "Telegram's id of a sent message, to edit it later",
}

# The order /mydata shows its parts in.
SECTIONS = ("account", "memberships", "enterprises", "responses", "workshops", "visits",
            "trainer", "tips", "invites", "join_attempts", "drafts", "outbox",
            "staff_actions")

Value = str | int | float | bool | Decimal | datetime | date | None


@dataclass
class Record:
    """One stored row about the user: where it comes from (`table.column`) and its fields
    as (column name, value); `more` is what it carries beside (answers, a message's text)."""

    source: str
    fields: list[tuple[str, Value]]
    more: list[tuple[str, Value]] = field(default_factory=list)


@dataclass
class OwnData:
    user_id: int
    sections: dict[str, list[Record]]
    enterprise_names: dict[int, str]
    modules: dict[int, list[int]]          # of the enterprises they own or administer
    unlinked_note: bool                    # pulse answers of closed rounds exist, unlinked

    def records(self, source: str) -> list[Record]:
        return [r for rs in self.sections.values() for r in rs if r.source == source]


def _table(name: str) -> Table:
    table = Base.metadata.tables[name]
    assert isinstance(table, Table)
    return table


async def collect(sessions: Sessions, user_id: int) -> OwnData | None:
    """Everything stored about `user_id`, read in one session; None without a user row."""
    async with sessions() as session:
        if await session.get(User, user_id) is None:
            return None
        sections: dict[str, list[Record]] = {name: [] for name in SECTIONS}
        enterprise_ids: set[int] = set()
        for column in USER_COLUMNS:
            table = _table(column.table)
            rows = (await session.execute(select(table).where(
                table.c[column.column] == user_id))).mappings().all()
            for row in rows:
                shown = [(name, row[name]) for name in column.shows if name != "enterprise_id"]
                if column.table == "enterprises":
                    shown.insert(0, ("enterprise_id", row["id"]))
                elif "enterprise_id" in column.shows:
                    shown.insert(0, ("enterprise_id", row["enterprise_id"]))
                enterprise_ids.update(v for k, v in shown if k == "enterprise_id"
                                      and isinstance(v, int))
                record = Record(column.key, shown)
                sections[column.section].append(record)
                await _more(session, column, row, record)
        # Enterprises they administer: the contact fields they see and may be asked about.
        administered = (await session.scalars(select(Enterprise).join(
            Membership, Membership.enterprise_id == Enterprise.id).where(
            Membership.user_id == user_id, Membership.left_at.is_(None),
            Membership.role == MemberRole.ADMIN))).all()
        for enterprise in administered:
            enterprise_ids.add(enterprise.id)
            sections["enterprises"].append(Record("admin", [
                ("enterprise_id", enterprise.id), ("contact_name", enterprise.contact_name),
                ("phone", enterprise.phone), ("status", enterprise.status.value)]))
        names = dict((await session.execute(select(Enterprise.id, Enterprise.name).where(
            Enterprise.id.in_(enterprise_ids)))).all()) if enterprise_ids else {}
        modules: dict[int, list[int]] = {}
        mine = [r.fields[0][1] for r in sections["enterprises"]]
        for enterprise_id, module in (await session.execute(
                select(ModuleInterest.enterprise_id, ModuleInterest.module).where(
                    ModuleInterest.enterprise_id.in_([i for i in mine if isinstance(i, int)]))
                .order_by(ModuleInterest.module))).all():
            modules.setdefault(enterprise_id, []).append(module)
        unlinked = await _pulse_of_closed_rounds(session, user_id)
    return OwnData(user_id, sections, names, modules, unlinked)


async def _more(session: AsyncSession, column: UserColumn, row: RowMapping,
                record: Record) -> None:
    """What a row carries beside its own fields: a response's answers, a message's text, the
    people an RSVP named, a tip's module."""
    if column.table == "survey_responses":
        answers = (await session.execute(select(
            SurveyAnswer.question, SurveyAnswer.raw, SurveyAnswer.choice, SurveyAnswer.skipped)
            .where(SurveyAnswer.response_id == row["id"]).order_by(
                SurveyAnswer.answered_at, SurveyAnswer.question))).all()
        # A typed answer as typed, a button's by its choice, "" for "not recorded".
        record.more = [(question, "" if skipped else (raw if raw is not None else choice))
                       for question, raw, choice, skipped in answers]
    elif column.table == "outbox":
        text = await session.scalar(select(OutboxContent.text).where(
            OutboxContent.id == row["content_id"]))
        record.fields = [f for f in record.fields if f[0] != "content_id"]
        record.more = [("text", text or "")]
    elif column.table == "workshop_invites":
        workshop = await session.get(Workshop, row["workshop_id"])
        record.fields = [f for f in record.fields if f[0] != "workshop_id"]
        if workshop is not None:
            record.fields += [("module", workshop.module), ("city", workshop.city),
                              ("starts_at", workshop.starts_at)]
        people = (await session.execute(select(
            WorkshopParticipant.name, WorkshopParticipant.sex, WorkshopParticipant.kind).where(
            WorkshopParticipant.invite_id == row["id"]).order_by(WorkshopParticipant.id))).all()
        record.more = [("participant", f"{name} ({sex}, {kind})") for name, sex, kind in people]
    elif column.table in ("tip_sends", "tip_feedback"):
        tip = await session.get(Tip, row["tip_id"])
        record.fields = [f for f in record.fields if f[0] != "tip_id"]
        if tip is not None:
            record.fields.insert(0, ("module", tip.module))


async def _pulse_of_closed_rounds(session: AsyncSession, user_id: int) -> bool:
    """Whether a closed pulse round asked the user (a worker of an enterprise while it was
    open): their answers to it, if any, were unlinked at its close and cannot be told apart
    any more, so /mydata says so instead of listing them."""
    asked = select(SurveyRound.id).join(Membership, and_(
        Membership.user_id == user_id, Membership.role == MemberRole.WORKER,
        Membership.since <= SurveyRound.closes_at,
        or_(Membership.left_at.is_(None), Membership.left_at >= SurveyRound.queued_at))).where(
        SurveyRound.survey == "pulse", SurveyRound.closed_at.is_not(None),
        SurveyRound.queued_at.is_not(None))
    return bool(await session.scalar(select(exists(asked))))


# --- /forget -----------------------------------------------------------------------------------

class Refusal(enum.Enum):
    UNKNOWN = "unknown"   # no row: nothing stored
    STAFF = "staff"       # staff decide for the programme: their role goes first
    TRAINER = "trainer"   # likewise a trainer's assignments and visits


@dataclass(frozen=True)
class Owned:
    """An enterprise the user owns, as /forget's staff notice names it."""

    enterprise_id: int
    name: str


@dataclass(frozen=True)
class Forgotten:
    placeholder: int
    enterprises: tuple[Owned, ...]
    dropped: int   # messages for them not sent, dropped


def refusal(user: User | None, *, in_staff_ids: bool) -> Refusal | None:
    if user is None:
        return Refusal.UNKNOWN
    if in_staff_ids or user.role is Role.STAFF:
        return Refusal.STAFF
    if user.role is Role.TRAINER:
        return Refusal.TRAINER
    return None


async def owned(sessions: Sessions, user_id: int) -> tuple[Owned, ...]:
    """The enterprises /forget would leave without their contact: the staff notice names
    them, rendered before the transaction."""
    async with sessions() as session:
        return await _owned(session, user_id)


async def _owned(session: AsyncSession, user_id: int) -> tuple[Owned, ...]:
    rows = (await session.execute(select(Enterprise.id, Enterprise.name).where(
        Enterprise.owner_id == user_id).order_by(Enterprise.id))).all()
    return tuple(Owned(i, n) for i, n in rows)


async def forget(sessions: Sessions, user_id: int, *, in_staff_ids: bool,
                 notice: outbox_db.Rendered | None, expected: tuple[Owned, ...],
                 fixed_staff: frozenset[int], now: datetime) -> Forgotten | Refusal:
    """Forget `user_id` in one transaction. `notice` tells staff the enterprises `expected`
    lost their contact; when the user owns others now, nothing is done (Stale)."""
    async with sessions() as session, session.begin():
        user = await session.get(User, user_id, with_for_update=True)
        if (refused := refusal(user, in_staff_ids=in_staff_ids)) is not None:
            return refused
        assert user is not None
        enterprises = await _owned(session, user_id)
        if enterprises != expected:
            raise Stale
        placeholder = await _placeholder(session, user, now)
        dropped = await _forget(session, user, placeholder, now)
        await session.execute(delete(User).where(User.id == user_id))
        if enterprises and notice is not None:
            staff = [s for s in await staff_ids(session, fixed_staff) if s != user_id]
            await outbox_db.enqueue_rendered(
                session, notice, group=f"forgotten:{placeholder}", key="contact", to=staff,
                now=now, priority=outbox_db.REMINDER)
    return Forgotten(placeholder, enterprises, dropped)


async def _placeholder(session: AsyncSession, user: User, now: datetime) -> int:
    """A row standing for who was forgotten: no name, username, consent or role, blocked so
    no message is ever queued to it; its id is random and negative, never a Telegram id."""
    while True:
        placeholder = -(secrets.randbelow(2 ** 62) + 1)
        if await session.get(User, placeholder) is None:
            break
    session.add(User(id=placeholder, name=None, username=None, language=user.language,
                     role=None, consent_at=None, consent_declined_at=None,
                     status=UserStatus.BLOCKED, created_at=user.created_at,
                     last_seen_at=user.created_at))
    await session.flush()
    return placeholder


async def _forget(session: AsyncSession, user: User, placeholder: int, now: datetime) -> int:
    """Every column of USER_COLUMNS, as its entry says; the number of messages dropped."""
    uid = user.id
    enterprises = [o.enterprise_id for o in await _owned(session, uid)]
    contacts = (await session.execute(select(Enterprise.contact_name, Enterprise.phone).where(
        Enterprise.id.in_(enterprises)))).all() if enterprises else []
    # What others' messages may say of them (a staff notice of their enrolment).
    words = {w for w in (user.name, user.username and f"@{user.username}",
                         *(c for pair in contacts for c in pair)) if w and len(w) >= 3}
    member_of = list((await session.scalars(select(Membership.enterprise_id).where(
        Membership.user_id == uid))).all())
    dropped = 0
    for column in USER_COLUMNS:
        table = _table(column.table)
        target = table.c[column.column]
        if column.forget is Forget.PLACEHOLDER:
            await session.execute(update(table).where(target == uid).values(
                {column.column: placeholder}))
        elif column.forget is Forget.DELETE:
            await session.execute(delete(table).where(target == uid))
        elif column.key == "enterprises.owner_id":
            await session.execute(update(Enterprise).where(Enterprise.owner_id == uid).values(
                owner_id=None, contact_name="", phone="", updated_at=now))
        elif column.key == "memberships.user_id":
            await session.execute(update(Membership).where(
                Membership.user_id == uid, Membership.left_at.is_(None)).values(left_at=now))
            await session.execute(update(Membership).where(Membership.user_id == uid).values(
                user_id=placeholder))
        elif column.key == "survey_responses.respondent_id":
            await _anonymise_responses(session, uid, placeholder)
        elif column.key == "outbox.recipient_id":
            dropped = await _forget_messages(session, uid, placeholder)
        elif column.forget is not Forget.ROW:
            raise AssertionError(f"no rule for {column.key}")
    if user.name and member_of:
        # Participants they named themselves, at their enterprises: no name any more; the
        # row stays for the attendance counts.
        invites = select(WorkshopInvite.id).where(WorkshopInvite.enterprise_id.in_(member_of))
        await session.execute(update(WorkshopParticipant).where(
            WorkshopParticipant.invite_id.in_(invites),
            func.lower(WorkshopParticipant.name) == user.name.lower()).values(name=""))
    await _scrub_contents(session, words)
    await delete_orphan_media(session, before=None)
    return dropped


async def _anonymise_responses(session: AsyncSession, uid: int, placeholder: int) -> None:
    still_open = select(SurveyRound.id).where(
        SurveyRound.survey == SurveyResponse.survey, SurveyRound.period == SurveyResponse.period,
        SurveyRound.closed_at.is_(None)).exists()
    await session.execute(update(SurveyResponse).where(
        SurveyResponse.respondent_id == uid, still_open).values(respondent_id=placeholder)
        .execution_options(synchronize_session=False))
    # As a round's close unlinks a pulse response (db/surveys._unlink): a random ref, and
    # times that keep only the day.
    responses = (await session.scalars(select(SurveyResponse).where(
        SurveyResponse.respondent_id == uid))).all()
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
    await session.flush()


async def _forget_messages(session: AsyncSession, uid: int, placeholder: int) -> int:
    dropped = affected(await session.execute(update(OutboxMessage).where(
        OutboxMessage.recipient_id == uid, OutboxMessage.state.in_(outbox_db.UNSENT)).values(
        state=OutboxState.SKIPPED, last_error="forgotten")
        .execution_options(synchronize_session=False)))
    # Texts that went to them alone (their approval, their reminders) are theirs: emptied.
    others = select(OutboxMessage.id).where(OutboxMessage.content_id == OutboxContent.id,
                                           OutboxMessage.recipient_id != uid).exists()
    theirs = select(OutboxMessage.content_id).where(OutboxMessage.recipient_id == uid)
    await session.execute(update(OutboxContent).where(
        OutboxContent.id.in_(theirs), ~others).values(text="", buttons=null(), media_id=None)
        .execution_options(synchronize_session=False))
    # The key named them (`tip:2026-W50:<id>`): the row's own id is unique too.
    await session.execute(update(OutboxMessage).where(OutboxMessage.recipient_id == uid).values(
        recipient_id=placeholder,
        dedup_key=literal("forgotten:") + cast(OutboxMessage.id, String))
        .execution_options(synchronize_session=False))
    return dropped


async def _scrub_contents(session: AsyncSession, words: set[str]) -> None:
    """Their name, username and enterprise contact out of messages to others (a staff
    notice of their enrolment names them)."""
    if not words:
        return
    forms = sorted({f for w in words for f in (w, html.escape(w))}, key=len, reverse=True)
    rows = (await session.scalars(select(OutboxContent).where(
        or_(*(OutboxContent.text.contains(f, autoescape=True) for f in forms))))).all()
    for content in rows:
        text = content.text
        for form in forms:
            text = text.replace(form, "…")
        content.text = text
    await session.flush()


async def delete_orphan_media(session: AsyncSession, *, before: datetime | None) -> int:
    """Stored files no message refers to any more (stored before `before`, when given)."""
    used = select(OutboxContent.id).where(OutboxContent.media_id == OutboxMedia.id).exists()
    where = [~used]
    if before is not None:
        where.append(OutboxMedia.created_at < before)
    return affected(await session.execute(delete(OutboxMedia).where(*where)
                                          .execution_options(synchronize_session=False)))


# --- retention ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Purged:
    contents: int
    media: int


async def purge_old_messages(sessions: Sessions, *, before: datetime) -> Purged:
    """What messages queued before `before` said (text, buttons, files) goes; their rows stay
    with recipient, state and times, so delivery counts do not change. A message some of
    whose rows are still to be sent keeps its text until they are done."""
    async with sessions() as session, session.begin():
        unsent = select(OutboxMessage.id).where(
            OutboxMessage.content_id == OutboxContent.id,
            OutboxMessage.state.in_(outbox_db.UNSENT)).exists()
        contents = affected(await session.execute(update(OutboxContent).where(
            OutboxContent.created_at < before, ~unsent,
            or_(OutboxContent.text != "", OutboxContent.media_id.is_not(None))).values(
            text="", buttons=null(), media_id=None)
            .execution_options(synchronize_session=False)))
        media = await delete_orphan_media(session, before=before)
    return Purged(contents, media)


