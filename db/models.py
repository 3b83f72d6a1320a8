"""The database schema. Every change here needs an Alembic migration (`make migration`)."""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy import text as sql
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from db.types import Amount, UTCDateTime
from domain.roles import Role as Role  # re-exported: with the other enums of the columns

# Same constraint names on SQLite and PostgreSQL, so migrations can refer to them.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UserStatus(str, enum.Enum):
    ACTIVE = "active"
    BLOCKED = "blocked"


class EnterpriseStatus(str, enum.Enum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class MemberRole(str, enum.Enum):
    OWNER = "owner"
    ADMIN = "admin"
    WORKER = "worker"


def _enum(cls: type[enum.Enum], name: str) -> Enum:
    # Stored as plain strings with a CHECK: no native PG enum to migrate when a value is added.
    return Enum(cls, name=name, native_enum=False, values_callable=lambda e: [m.value for m in e],
                length=16, create_constraint=True)


class User(Base):
    """A Telegram user. Before consent only `id` and `language` are kept."""

    __tablename__ = "users"

    # Telegram ids are 64-bit and given by Telegram: never autoincrement.
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    name: Mapped[str | None] = mapped_column(String(200))
    username: Mapped[str | None] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(8))
    # The role the user chose (owner/worker) or was given (admin/trainer/staff).
    role: Mapped[Role | None] = mapped_column(_enum(Role, "role"))
    consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    consent_declined_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    status: Mapped[UserStatus] = mapped_column(_enum(UserStatus, "user_status"),
                                               default=UserStatus.ACTIVE)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Enterprise(Base):
    __tablename__ = "enterprises"
    __table_args__ = (
        # One approved enterprise per name and city (the keys are the lower-cased,
        # space-folded forms). Enrolments still waiting may share them: someone who does not
        # own the company must not keep its owner out, so staff decide which one is real
        # (domain/namesakes.py).
        Index("uq_enterprises_approved_name_city", "name_key", "city_key", unique=True,
              postgresql_where=sql("status = 'approved'"),
              sqlite_where=sql("status = 'approved'")),
        Index("ix_enterprises_name_city", "name_key", "city_key"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200))
    name_key: Mapped[str] = mapped_column(String(200))
    sector: Mapped[str] = mapped_column(String(32))
    sector_other: Mapped[str | None] = mapped_column(String(200))
    province: Mapped[str] = mapped_column(String(4))
    city: Mapped[str] = mapped_column(String(200))
    city_key: Mapped[str] = mapped_column(String(200))
    worker_count: Mapped[int] = mapped_column(Integer)
    contact_name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str] = mapped_column(String(20))
    join_code: Mapped[str | None] = mapped_column(String(16), unique=True)
    status: Mapped[EnterpriseStatus] = mapped_column(
        _enum(EnterpriseStatus, "enterprise_status"), default=EnterpriseStatus.PENDING)
    owner_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("users.id",
                                                                        ondelete="SET NULL"))
    decided_by: Mapped[int | None] = mapped_column(BigInteger)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reject_reason: Mapped[str | None] = mapped_column(Text)
    # An approved enterprise's new name, city or province waits here for staff; until they
    # decide, the approved values (and the join code's poster) stay as they are.
    proposed_name: Mapped[str | None] = mapped_column(String(200))
    proposed_city: Mapped[str | None] = mapped_column(String(200))
    proposed_province: Mapped[str | None] = mapped_column(String(4))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Membership(Base):
    """Who belongs to which enterprise, and in which capacity; history is kept via `left_at`."""

    __tablename__ = "memberships"
    __table_args__ = (Index("ix_memberships_user_active", "user_id", "left_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("users.id", ondelete="CASCADE"))
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id", ondelete="CASCADE"),
                                               index=True)
    role: Mapped[MemberRole] = mapped_column(_enum(MemberRole, "member_role"))
    since: Mapped[datetime] = mapped_column(UTCDateTime())
    left_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ModuleInterest(Base):
    __tablename__ = "module_interests"

    enterprise_id: Mapped[int] = mapped_column(
        ForeignKey("enterprises.id", ondelete="CASCADE"), primary_key=True)
    module: Mapped[int] = mapped_column(SmallInteger, primary_key=True)


class AdminInvite(Base):
    """A one-time link an owner gives to an enterprise admin (HRD, QC, K3)."""

    __tablename__ = "admin_invites"

    token: Mapped[str] = mapped_column(String(48), primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id", ondelete="CASCADE"))
    created_by: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_by: Mapped[int | None] = mapped_column(BigInteger)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class RetiredJoinCode(Base):
    """A join code an owner replaced: typed later (from an old poster), it is recognised and
    the worker told to ask for the new one, instead of being counted as a guess."""

    __tablename__ = "retired_join_codes"

    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id", ondelete="CASCADE"))
    retired_at: Mapped[datetime] = mapped_column(UTCDateTime())


class JoinAttempt(Base):
    """A wrong join code, kept for an hour to refuse guessing."""

    __tablename__ = "join_attempts"
    __table_args__ = (Index("ix_join_attempts_user_at", "user_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(BigInteger)
    at: Mapped[datetime] = mapped_column(UTCDateTime())


class UserDraft(Base):
    """A user's half-written answers (PTB user_data). Deleted on cancel, confirm, or at 14 days."""

    __tablename__ = "user_drafts"
    # Only drafts with an open flow: the outbox asks who is in a conversation right now.
    __table_args__ = (Index("ix_user_drafts_flow_at", "flow_at",
                            postgresql_where=sql("flow_at IS NOT NULL"),
                            sqlite_where=sql("flow_at IS NOT NULL")),)

    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # When the user last did something in the draft's open flow (bot/persistence.py writes it
    # at most a minute late); None without an open flow. A bulk message waits while it is
    # recent (db/queries/outbox.py, docs/decisions/0010).
    flow_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class AppSecret(Base):
    """Secrets the bot generates for itself, e.g. the key that signs button data."""

    __tablename__ = "app_secrets"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[str] = mapped_column(String(128))


class GroupChat(Base):
    """A group the bot was added to and told, once, that it works only in private chats."""

    __tablename__ = "group_chats"

    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    told_at: Mapped[datetime] = mapped_column(UTCDateTime())


class OutboxState(str, enum.Enum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    SKIPPED = "skipped"
    EXPIRED = "expired"  # not sent by its expiry time, so never sent


class MediaKind(str, enum.Enum):
    PHOTO = "photo"
    DOCUMENT = "document"
    # A place on the map (a workshop's venue): its data is the point, name and address as
    # JSON (db.queries.outbox.Place), sent as a message of its own with no text.
    VENUE = "venue"


class BroadcastStatus(str, enum.Enum):
    SCHEDULED = "scheduled"
    QUEUED = "queued"
    CANCELLED = "cancelled"


# 64-bit ids on PostgreSQL; SQLite only autoincrements an INTEGER primary key.
BigId = BigInteger().with_variant(Integer, "sqlite")


class Broadcast(Base):
    """A workplace-practice message from staff to a segment of users."""

    __tablename__ = "broadcasts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    created_by: Mapped[int] = mapped_column(BigInteger)
    text_id: Mapped[str] = mapped_column(Text)
    text_en: Mapped[str | None] = mapped_column(Text)
    audience: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[BroadcastStatus] = mapped_column(_enum(BroadcastStatus, "broadcast_status"))
    send_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Staff chose to send it at night too, and into conversations: not held for the morning
    # nor for someone answering a survey (docs/decisions/0010).
    urgent: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sql("false"))
    recipient_count: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    queued_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class OutboxGroup(Base):
    """What messages belong to: a broadcast, a survey round, a workshop, a visit, an enrolment.

    Staff see counts per group. A cancelled group skips its unsent rows and takes no new ones.
    """

    __tablename__ = "outbox_groups"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    # "broadcast:12", "enrolment:7": the kind, a colon, what in that kind.
    key: Mapped[str] = mapped_column(String(120), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    # Sent to many people at once, not about something of theirs (a broadcast, a round's
    # invitations): its rows wait while their recipient is in a conversation
    # (db/queries/outbox.py BULK_KINDS, docs/decisions/0010).
    bulk: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sql("false"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class OutboxMedia(Base):
    """A photo, document or venue, stored once however many messages carry it."""

    __tablename__ = "outbox_media"
    __table_args__ = (UniqueConstraint("sha256", "kind", name="uq_outbox_media_sha256_kind"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    kind: Mapped[MediaKind] = mapped_column(_enum(MediaKind, "media_kind"))
    sha256: Mapped[str] = mapped_column(String(64))
    filename: Mapped[str | None] = mapped_column(String(200))
    # Deferred: the sender reads the bytes only for the one upload the channel needs.
    data: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    # The channel's own id of the uploaded file (Telegram's file_id): later messages send it
    # instead of the bytes.
    file_ref: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class OutboxContent(Base):
    """What a message of a group says in one language, shared by every recipient who reads
    that language.

    Buttons are stored as what they mean ({"text", "kind", "value", "nonce"} or {"text",
    "url"}); the channel encodes them for each recipient when sending (Telegram: signed
    callback data). The group is here rather than on each row: a row then has one foreign key
    to check, which keeps queueing 30,000 of them as fast as before.
    """

    __tablename__ = "outbox_contents"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("outbox_groups.id", ondelete="CASCADE"),
                                          index=True)
    text: Mapped[str] = mapped_column(Text)  # the caption when there is media
    parse_mode: Mapped[str | None] = mapped_column(String(16))
    buttons: Mapped[list[list[dict[str, str]]] | None] = mapped_column(JSON)
    media_id: Mapped[int | None] = mapped_column(ForeignKey("outbox_media.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class OutboxMessage(Base):
    """One message to one recipient, sent by jobs/outbox.py at Telegram's pace.

    The row is the message's whole life: pending until claimed, sending while a sender holds
    its lease (a lease that runs out means the sender died: the row is due again), then sent,
    failed (with the reason), skipped (recipient blocked the bot, group cancelled, dropped
    for this recipient) or expired (not sent by `expires_at`).
    """

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_due", "state", "next_attempt_at"),
        Index("ix_outbox_content_state", "content_id", "state"),
        # Only rows that can expire, so the expiry sweep reads a small index.
        Index("ix_outbox_expiry", "expires_at",
              postgresql_where=sql("expires_at IS NOT NULL"),
              sqlite_where=sql("expires_at IS NOT NULL")),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    # The same logical message can never be queued twice for one person.
    dedup_key: Mapped[str] = mapped_column(String(120), unique=True)
    recipient_id: Mapped[int] = mapped_column(BigInteger, index=True)
    # What it says, and through that the group it belongs to.
    content_id: Mapped[int] = mapped_column(ForeignKey("outbox_contents.id",
                                                       ondelete="CASCADE"))
    priority: Mapped[int] = mapped_column(SmallInteger, default=100)
    state: Mapped[OutboxState] = mapped_column(_enum(OutboxState, "outbox_state"),
                                               default=OutboxState.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # A reminder "one hour before" must never arrive late: not sent by then, never sent.
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Which sender holds the claim: a sender that lost the lock must not finish another's rows.
    claimed_by: Mapped[str | None] = mapped_column(String(32))
    last_error: Mapped[str | None] = mapped_column(String(300))
    # Kept so that a message can be edited later (a staff notice after the decision).
    message_id: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())  # queued at
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class StallAlert(Base):
    """When staff were last told that the outbox is stuck, so they are told once per stall."""

    __tablename__ = "stall_alerts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    alerted_at: Mapped[datetime] = mapped_column(UTCDateTime())
    oldest_due_at: Mapped[datetime] = mapped_column(UTCDateTime())


class TrainerAssignment(Base):
    """A trainer assigned by staff to an enterprise: they may enter or check its KPI report
    during a visit, and enter its baseline."""

    __tablename__ = "trainer_assignments"

    trainer_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("users.id", ondelete="CASCADE"),
                                            primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id", ondelete="CASCADE"),
                                               primary_key=True, index=True)
    assigned_by: Mapped[int] = mapped_column(BigInteger)
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime())


class SurveyRound(Base):
    """One month's round of one survey: when it opens, reminds and closes (local dates, the
    same in every zone), and whether its invitations were queued.

    `version` goes up when staff move the round: it is part of the outbox keys, so the
    invitations of the new dates are queued although those of the old ones were.
    """

    __tablename__ = "survey_rounds"
    __table_args__ = (UniqueConstraint("survey", "period"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    survey: Mapped[str] = mapped_column(String(16))
    period: Mapped[date] = mapped_column(Date)  # the first day of the month asked about
    opens_on: Mapped[date] = mapped_column(Date)
    reminder_on: Mapped[date] = mapped_column(Date)
    closes_on: Mapped[date] = mapped_column(Date)
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime())
    version: Mapped[int] = mapped_column(SmallInteger, default=0)
    queued_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    moved_by: Mapped[int | None] = mapped_column(BigInteger)
    moved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # A month opened late on purpose (staff run October in December) asks only those who were
    # members of an enterprise approved before this moment, the month's end: not whoever
    # joined since. None: whoever is a member while the round is open.
    members_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class PulseRelease(Base):
    """What an enterprise may read of a closed pulse round, released once and kept: noisy
    counts of its eligible workers' answers (domain/owner_totals.py). Staff read the exact
    answers; this is only what owners and admins see."""

    __tablename__ = "pulse_releases"
    __table_args__ = (UniqueConstraint("round_id", "enterprise_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("survey_rounds.id", ondelete="CASCADE"))
    enterprise_id: Mapped[int] = mapped_column(
        ForeignKey("enterprises.id", ondelete="CASCADE"), index=True)
    responses: Mapped[int] = mapped_column(Integer)        # noisy
    exact_responses: Mapped[int] = mapped_column(Integer)  # of eligible workers
    # Its workers in the bot when the round opened (whom the round asked), not today's.
    members: Mapped[int] = mapped_column(Integer)
    # {"question": {"choice": noisy count}}
    counts: Mapped[dict[str, dict[str, int]]] = mapped_column(JSON)
    epsilon: Mapped[float] = mapped_column(Float)
    released_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ResponseKind(str, enum.Enum):
    MONTHLY = "monthly"
    BASELINE = "baseline"  # before training, at the intake visit: not a monthly report


class ResponseStatus(str, enum.Enum):
    OPEN = "open"          # being answered: the answers so far are kept
    FINAL = "final"        # finished (and, for the KPI report, confirmed)
    REPLACED = "replaced"  # answered again before the close: the later one counts


class SurveyResponse(Base):
    """One person's answers to one survey for one month: a worker's pulse, or an
    enterprise's KPI report (by its owner, an admin or its trainer)."""

    __tablename__ = "survey_responses"
    __table_args__ = (
        Index("ix_survey_responses_subject", "survey", "period", "enterprise_id", "status"),
        # Who finished a month's survey, per person: queueing a round again (a moved round)
        # looks this up for each invitee. Without it SQLite walks the month's responses for
        # every one of them (20 minutes for 30,000 workers, docs/benchmarks.md).
        Index("ix_survey_responses_respondent", "respondent_id", "survey", "period"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    survey: Mapped[str] = mapped_column(String(16))
    period: Mapped[date] = mapped_column(Date)
    kind: Mapped[ResponseKind] = mapped_column(_enum(ResponseKind, "response_kind"))
    status: Mapped[ResponseStatus] = mapped_column(_enum(ResponseStatus, "response_status"),
                                                   default=ResponseStatus.OPEN)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id", ondelete="CASCADE"))
    # Who answered; emptied when they ask to be forgotten, the anonymous answers stay, and
    # for a worker's pulse when its round closes (db/surveys.close_round): no one can resume
    # it then, and nothing may link it to the worker any more.
    respondent_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("users.id", ondelete="SET NULL"))
    # A pulse response unlinked at the close: a random id, new for each response of each
    # round, so responses stay distinct without naming anyone.
    respondent_ref: Mapped[str | None] = mapped_column(String(16))
    entered_as: Mapped[str] = mapped_column(String(16))  # owner, admin, trainer or worker
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class SurveyAnswer(Base):
    """One answer as it was given: the raw text, the value read from it, and when."""

    __tablename__ = "survey_answers"

    response_id: Mapped[int] = mapped_column(
        ForeignKey("survey_responses.id", ondelete="CASCADE"), primary_key=True)
    question: Mapped[str] = mapped_column(String(40), primary_key=True)
    raw: Mapped[str | None] = mapped_column(Text)
    number: Mapped[Decimal | None] = mapped_column(Amount())
    percent: Mapped[bool] = mapped_column(Boolean, default=False)
    choice: Mapped[str | None] = mapped_column(String(40))
    skipped: Mapped[bool] = mapped_column(Boolean, default=False)  # "not recorded", "prefer not"
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime())


class EventStatus(str, enum.Enum):
    SCHEDULED = "scheduled"
    DONE = "done"            # a visit that happened (reported)
    CANCELLED = "cancelled"


class Workshop(Base):
    """A module's classroom workshop in a city, for the enterprises of its province that are
    interested in the module (PRODUCT.md, "How SCORE training runs"). `version` goes up when
    staff change its date: its reminders are planned again under the new version."""

    __tablename__ = "workshops"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    module: Mapped[int] = mapped_column(SmallInteger)
    province: Mapped[str] = mapped_column(String(4))
    city: Mapped[str] = mapped_column(String(200))
    venue: Mapped[str] = mapped_column(Text)  # the address as staff wrote it
    venue_lat: Mapped[float | None] = mapped_column(Float)
    venue_lon: Mapped[float | None] = mapped_column(Float)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    days: Mapped[int] = mapped_column(SmallInteger)
    notes_id: Mapped[str | None] = mapped_column(Text)
    notes_en: Mapped[str | None] = mapped_column(Text)
    status: Mapped[EventStatus] = mapped_column(_enum(EventStatus, "event_status"))
    version: Mapped[int] = mapped_column(SmallInteger, default=0)
    created_by: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Rsvp(str, enum.Enum):
    ATTEND = "attend"
    DECLINE = "decline"


class WorkshopInvite(Base):
    """One enterprise invited to a workshop, and its answer (None: not answered yet)."""

    __tablename__ = "workshop_invites"
    __table_args__ = (UniqueConstraint("workshop_id", "enterprise_id",
                                       name="uq_workshop_invites_workshop_enterprise"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    workshop_id: Mapped[int] = mapped_column(ForeignKey("workshops.id", ondelete="CASCADE"),
                                             index=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id", ondelete="CASCADE"),
                                               index=True)
    invited_at: Mapped[datetime] = mapped_column(UTCDateTime())
    answer: Mapped[Rsvp | None] = mapped_column(_enum(Rsvp, "rsvp"))
    answered_by: Mapped[int | None] = mapped_column(BigInteger)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class WorkshopParticipant(Base):
    """Someone an enterprise names as coming to a workshop, and whether they came."""

    __tablename__ = "workshop_participants"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    invite_id: Mapped[int] = mapped_column(ForeignKey("workshop_invites.id", ondelete="CASCADE"),
                                           index=True)
    name: Mapped[str] = mapped_column(String(200))
    sex: Mapped[str] = mapped_column(String(1))     # "f", "m"
    kind: Mapped[str] = mapped_column(String(8))    # "manager", "worker"
    attended: Mapped[bool | None] = mapped_column(Boolean)
    recorded_by: Mapped[int | None] = mapped_column(BigInteger)
    recorded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Visit(Base):
    """A trainer's consulting visit to an enterprise for a module, and its report."""

    __tablename__ = "visits"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id", ondelete="CASCADE"),
                                               index=True)
    trainer_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("users.id"), index=True)
    module: Mapped[int] = mapped_column(SmallInteger)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[EventStatus] = mapped_column(_enum(EventStatus, "event_status"))
    version: Mapped[int] = mapped_column(SmallInteger, default=0)
    created_by: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # The report, once the trainer says it happened.
    report_done: Mapped[str | None] = mapped_column(Text)
    report_next_steps: Mapped[str | None] = mapped_column(Text)
    eit_met: Mapped[bool | None] = mapped_column(Boolean)  # the improvement team met since
    reported_by: Mapped[int | None] = mapped_column(BigInteger)
    reported_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class EventReminder(Base):
    """A message about a workshop or a visit, due at a moment (domain/event_schedule.py):
    rows derived from the event, queued through the outbox by jobs/event_reminders.py when
    due, so a restart loses and repeats nothing. Moving the event replans its rows under a
    new `version` (which is part of the outbox keys); cancelling it deletes those not queued.
    """

    __tablename__ = "event_reminders"
    __table_args__ = (
        UniqueConstraint("event", "event_id", "version", "kind",
                         name="uq_event_reminders_event_kind"),
        Index("ix_event_reminders_due", "queued_at", "due_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    event: Mapped[str] = mapped_column(String(16))  # "workshop", "visit"
    event_id: Mapped[int] = mapped_column(Integer)
    version: Mapped[int] = mapped_column(SmallInteger)
    kind: Mapped[str] = mapped_column(String(16))   # domain/event_schedule.py's kinds
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    queued_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # How many messages it queued (0: nobody to tell, or the event had begun).
    queued: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Tip(Base):
    """A good-practice tip for one SCORE module and audience, in both languages. Shipped
    tips (domain/tips/*.toml) carry their stable `key` and are refreshed at start while
    staff have not edited them (`edited_at`); staff's own tips have no key. A retired tip is
    kept (what was sent, its feedback) but no longer given out."""

    __tablename__ = "tips"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str | None] = mapped_column(String(40), unique=True)
    module: Mapped[int] = mapped_column(SmallInteger)
    audience: Mapped[str] = mapped_column(String(8))  # domain/tip_rules.AUDIENCES
    text_id: Mapped[str] = mapped_column(Text)
    text_en: Mapped[str] = mapped_column(Text)
    created_by: Mapped[int | None] = mapped_column(BigInteger)  # None: shipped
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    edited_by: Mapped[int | None] = mapped_column(BigInteger)
    edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class TipSend(Base):
    """A tip someone received: asked for with /tip, or the weekly one (`week`, "2026-W50",
    one per person and week; the outbox row's key says the same)."""

    __tablename__ = "tip_sends"
    __table_args__ = (UniqueConstraint("user_id", "week", name="uq_tip_sends_user_week"),
                      Index("ix_tip_sends_user_tip", "user_id", "tip_id"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("users.id", ondelete="CASCADE"))
    tip_id: Mapped[int] = mapped_column(ForeignKey("tips.id", ondelete="CASCADE"), index=True)
    via: Mapped[str] = mapped_column(String(8))  # "asked", "weekly"
    week: Mapped[str | None] = mapped_column(String(10))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime())


class TipFeedback(Base):
    """Whether someone found a tip useful: one answer per person and tip, changeable."""

    __tablename__ = "tip_feedback"

    user_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("users.id", ondelete="CASCADE"),
                                         primary_key=True)
    tip_id: Mapped[int] = mapped_column(ForeignKey("tips.id", ondelete="CASCADE"),
                                        primary_key=True, index=True)
    useful: Mapped[bool] = mapped_column(Boolean)
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime())


class TipOptOut(Base):
    """Someone who turned the weekly tip off (/tips off); /tips on deletes the row."""

    __tablename__ = "tip_optouts"

    user_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("users.id", ondelete="CASCADE"),
                                         primary_key=True, autoincrement=False)
    since: Mapped[datetime] = mapped_column(UTCDateTime())
