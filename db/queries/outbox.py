"""Queries of the durable outbox: queue, claim, record outcomes, count, cancel, drop, expire.

A message is a row per recipient pointing at a content row: what a message of a group (a
broadcast, a survey round, a workshop, a visit, an enrolment) says in one language: text,
buttons as what they mean, media. Content and media are stored once, however many rows use
them, so queueing 30,000 rows writes 30,000 small rows and no copies of the text or image.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from typing import cast as typed

from sqlalchemy import (
    Select,
    String,
    Table,
    and_,
    bindparam,
    case,
    cast,
    false,
    func,
    insert,
    literal,
    not_,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from db.dialect_insert import insert_for
from db.models import (
    MediaKind,
    OutboxContent,
    OutboxGroup,
    OutboxMedia,
    OutboxMessage,
    OutboxState,
    User,
    UserDraft,
    UserStatus,
)
from db.queries import zones
from db.results import affected
from db.types import UTCDateTime
from domain import quiet_hours
from domain.provinces import WIB

# Lower goes first. A staff notice must not wait behind a broadcast to 30,000 people.
URGENT = 10
REMINDER = 50
BULK = 100

# The kinds of group (a group key's first part) sent to many people at once, not about
# something of the recipient's own: broadcasts, and a survey round's invitations and
# reminders ("survey:<round>:v<n>:invite"); later weekly tips. Their rows never go out in
# the night of the recipient's zone, and wait while the recipient is in a conversation with
# the bot (docs/decisions/0010). Everything else goes at once: staff's notices of an
# enrolment to review, an owner's approval news, a trainer's assignment, "your report was
# replaced" ("survey-replaced:<id>" is a kind of its own, not "survey").
# Workshop and visit reminders wait too (PRODUCT.md: a reminder never breaks a conversation
# in progress); what they are about is days or hours ahead, and each expires at its start.
BULK_KINDS = frozenset({"broadcast", "survey", "tip", "workshop", "visit"})

UNSENT = (OutboxState.PENDING, OutboxState.SENDING)


@dataclass(frozen=True)
class Button:
    """What a button means. The channel encodes it per recipient when sending: on Telegram,
    callback data `kind|nonce|value` signed for that recipient (chat/buttons.py)."""

    text: str
    kind: str = ""
    value: str = ""
    nonce: str = "-"
    url: str | None = None

    def to_json(self) -> dict[str, str]:
        if self.url:
            return {"text": self.text, "url": self.url}
        return {"text": self.text, "kind": self.kind, "value": self.value, "nonce": self.nonce}

    @classmethod
    def from_json(cls, data: Mapping[str, str]) -> Button:
        return cls(text=data["text"], kind=data.get("kind", ""), value=data.get("value", ""),
                   nonce=data.get("nonce", "-"), url=data.get("url"))


@dataclass(frozen=True)
class Media:
    """A photo or a document to send with the text as its caption, or a venue (`Place`)."""

    kind: MediaKind
    data: bytes = field(repr=False)
    filename: str | None = None


@dataclass(frozen=True)
class Place:
    """A venue: a point on the map with its name and address (on Telegram, sendVenue).

    Stored as the media of a message of its own (MediaKind.VENUE), whose text is unused: a
    venue message has no caption."""

    latitude: float
    longitude: float
    title: str
    address: str

    def media(self) -> Media:
        data = json.dumps(dataclasses.asdict(self), ensure_ascii=False, sort_keys=True)
        return Media(MediaKind.VENUE, data.encode())

    @classmethod
    def of(cls, data: bytes) -> Place:
        fields = json.loads(data)
        return cls(float(fields["latitude"]), float(fields["longitude"]), str(fields["title"]),
                   str(fields["address"]))


@dataclass(frozen=True)
class Content:
    """One language's message."""

    text: str = ""
    parse_mode: str | None = "HTML"
    buttons: tuple[tuple[Button, ...], ...] = ()
    media: Media | None = None


# Who a message goes to: a SELECT of (user id, language), e.g. db.queries.audience.recipients(),
# any number of people in one INSERT ... SELECT; or (user id, language) pairs.
Recipients = Select[int, str] | Sequence[tuple[int, str | None]]


def broadcast_group(broadcast_id: int) -> str:
    return f"broadcast:{broadcast_id}"


def group_kind(key: str) -> str:
    return key.split(":", 1)[0][:32]


async def _ensure_group(session: AsyncSession, key: str, now: datetime,
                        bulk: bool | None = None) -> None:
    kind = group_kind(key)
    await session.execute(insert_for(session)(OutboxGroup).values(
        key=key, kind=kind, bulk=kind in BULK_KINDS if bulk is None else bulk, created_at=now)
        .on_conflict_do_nothing(index_elements=["key"]))


@dataclass(frozen=True)
class OpenGroup:
    id: int
    bulk: bool  # its rows wait for daytime and for the end of a conversation


async def open_group(session: AsyncSession, key: str, *, now: datetime,
                     bulk: bool | None = None) -> OpenGroup | None:
    """The group, created on first use (bulk as its kind says, unless `bulk` says otherwise:
    an urgent broadcast is not); None when it was cancelled."""
    await _ensure_group(session, key, now, bulk)
    # FOR SHARE on PostgreSQL: a cancel being committed right now is waited for, so rows are
    # not added to a group that has just been cancelled.
    row = (await session.execute(select(OutboxGroup.id, OutboxGroup.bulk,
                                        OutboxGroup.cancelled_at)
                                 .where(OutboxGroup.key == key)
                                 .with_for_update(read=True))).one()
    return None if row.cancelled_at is not None else OpenGroup(row.id, row.bulk)


async def _media_id(session: AsyncSession, media: Media, now: datetime) -> int:
    # Hashing a multi-megabyte export takes milliseconds: off the event loop.
    digest = await asyncio.to_thread(lambda: hashlib.sha256(media.data).hexdigest())
    stored = select(OutboxMedia.id).where(OutboxMedia.sha256 == digest,
                                          OutboxMedia.kind == media.kind)
    # The same file queued again (a poster resent) reuses the row, and its channel reference.
    if (media_id := await session.scalar(stored)) is not None:
        return media_id
    await session.execute(insert_for(session)(OutboxMedia).values(
        kind=media.kind, sha256=digest, filename=media.filename, data=media.data,
        created_at=now).on_conflict_do_nothing(index_elements=["sha256", "kind"]))
    return (await session.scalar(stored))  # type: ignore[return-value]


async def _content_ids(session: AsyncSession, contents: Mapping[str, Content], group_id: int,
                       now: datetime) -> dict[str, int]:
    """One content row per distinct content: languages that read the same share it."""
    ids: dict[Content, int] = {}
    by_language: dict[str, int] = {}
    for language, content in contents.items():
        if content not in ids:
            media_id = await _media_id(session, content.media, now) if content.media else None
            buttons = [[b.to_json() for b in row] for row in content.buttons] or None
            ids[content] = (await session.execute(insert(OutboxContent).values(
                group_id=group_id, text=content.text, parse_mode=content.parse_mode,
                buttons=buttons, media_id=media_id, created_at=now)
                .returning(OutboxContent.id))).scalar_one()
        by_language[language] = ids[content]
    return by_language


def _on_conflict(statement: Any, revive: str | None) -> Any:
    """A row of the same key is left as it is; with `revive`, one dropped for that reason
    before it was ever sent (and not held by a sender when it was dropped, so it is not on
    its way) is queued again as the new one."""
    if revive is None:
        return statement.on_conflict_do_nothing(index_elements=["dedup_key"])
    table = OutboxMessage.__table__
    new = statement.excluded
    return statement.on_conflict_do_update(
        index_elements=["dedup_key"],
        set_={"content_id": new.content_id, "priority": new.priority, "state": new.state,
              "attempts": new.attempts, "next_attempt_at": new.next_attempt_at,
              "expires_at": new.expires_at, "created_at": new.created_at,
              "last_error": None},
        where=and_(table.c.state == OutboxState.SKIPPED, table.c.last_error == revive,
                   table.c.lease_until.is_(None), table.c.sent_at.is_(None)))


async def enqueue(session: AsyncSession, *, group: str, key: str, recipients: Recipients,
                  contents: Mapping[str, Content], fallback: str, now: datetime,
                  at: datetime | None = None, expires_at: datetime | None = None,
                  priority: int = BULK, revive: str | None = None,
                  bulk: bool | None = None) -> int:
    """Queue one message per recipient, in their language; the number of rows added (or,
    with `revive`, queued again).

    `contents` maps a language to its message; recipients whose language has none get
    `contents[fallback]`. Each row's deduplication key is `key:<recipient id>`: a message
    already queued under it is left as it is, unless it was dropped with the reason
    `revive` before it was sent (someone who left and is a recipient again). `at` is when
    to send (default now), `now` is when it was queued. Nothing is queued into a cancelled
    group.

    A bulk group's rows (`BULK_KINDS`, unless `bulk` says otherwise when the group is made)
    due in the night of their recipient's zone are due at 06.00 there instead
    (domain/quiet_hours.py).
    """
    if not isinstance(recipients, Select) and not recipients:
        return 0
    opened = await open_group(session, group, now=now, bulk=bulk)
    if opened is None:
        return 0
    content_ids = await _content_ids(session, contents, opened.id, now)
    fallback_id = content_ids[fallback]
    at = at or now
    times = quiet_hours.send_times(at) if opened.bulk else dict.fromkeys(quiet_hours.ZONES, at)
    insert_ = insert_for(session)
    if isinstance(recipients, Select):
        who = recipients.subquery()
        others = [(who.c.language == language, literal(cid))
                  for language, cid in content_ids.items() if cid != fallback_id]
        content = case(*others, else_=literal(fallback_id)) if others else literal(fallback_id)
        source = select(
            literal(f"{key}:") + cast(who.c.id, String), who.c.id, content,
            literal(priority), literal(OutboxState.PENDING.value), literal(0),
            zones.send_time(who.c.id, times), literal(expires_at, UTCDateTime()),
            literal(now, UTCDateTime()),
        ).where(true())  # SQLite parses ON CONFLICT after a SELECT only with a WHERE
        result = await session.execute(_on_conflict(insert_(OutboxMessage).from_select(
            ["dedup_key", "recipient_id", "content_id", "priority", "state", "attempts",
             "next_attempt_at", "expires_at", "created_at"], source), revive))
        return affected(result)
    zone_of = await zones.zones_of(session, (u for u, _ in recipients)) \
        if len(set(times.values())) > 1 else {}
    rows = [dict(dedup_key=f"{key}:{user_id}", recipient_id=user_id,
                 content_id=content_ids.get(language or "", fallback_id), priority=priority,
                 state=OutboxState.PENDING, attempts=0,
                 next_attempt_at=times[zone_of.get(user_id, WIB)],
                 expires_at=expires_at, created_at=now) for user_id, language in recipients]
    table = OutboxMessage.__table__
    # An executemany with RETURNING: SQLAlchemy sends it as multi-row INSERTs (one compiled
    # statement), and the returned ids count what was added (asyncpg has no rowcount here).
    result = await session.execute(
        _on_conflict(insert_(table), revive).returning(table.c.id), rows)
    return len(result.all())


@dataclass(frozen=True)
class Rendered:
    """A message in every language, rendered before the transaction that queues it
    (chat/notify.rendered): a use case then decides inside its transaction to whom, under
    which key, and queues it with what it stores, in the same commit."""

    contents: Mapping[str, Content]
    fallback: str


@dataclass(frozen=True)
class Outgoing:
    """A message and its recipients, as data (chat/notify.prepare): a use case queues it with
    what it stores, in the same commit, and a reader of the use case sees everything it
    commits."""

    group: str
    key: str
    to: Select[int, str] | tuple[int, ...]
    message: Rendered
    at: datetime | None = None
    expires_at: datetime | None = None
    priority: int = BULK
    revive: str | None = None


async def enqueue_outgoing(session: AsyncSession, outgoing: Outgoing, *, now: datetime) -> int:
    """Queue `outgoing` in the caller's transaction; the number of rows added."""
    return await enqueue_rendered(
        session, outgoing.message, group=outgoing.group, key=outgoing.key, to=outgoing.to,
        now=now, at=outgoing.at, expires_at=outgoing.expires_at, priority=outgoing.priority,
        revive=outgoing.revive)


async def enqueue_rendered(session: AsyncSession, message: Rendered, *, group: str, key: str,
                           to: int | Iterable[int] | Select[int, str], now: datetime,
                           at: datetime | None = None, expires_at: datetime | None = None,
                           priority: int = BULK, revive: str | None = None) -> int:
    """Queue a rendered message for everyone in `to` in the caller's transaction, each in
    their language (`enqueue`); the number of rows added."""
    recipients: Recipients
    if isinstance(to, Select):
        recipients = to
    else:
        ids = [to] if isinstance(to, int) else list(to)
        known = await languages_of(session, ids)
        recipients = [(user_id, known.get(user_id)) for user_id in ids]
    return await enqueue(
        session, group=group, key=key, recipients=recipients, contents=message.contents,
        fallback=message.fallback, now=now, at=at, expires_at=expires_at, priority=priority,
        revive=revive)


async def languages_of(session: AsyncSession, user_ids: Iterable[int]) -> dict[int, str]:
    ids = sorted(set(user_ids))
    if not ids:
        return {}
    rows = await session.execute(select(User.id, User.language).where(User.id.in_(ids)))
    return {user_id: language for user_id, language in rows}


# --- the sender's side -------------------------------------------------------------------------


@dataclass(frozen=True)
class StoredContent:
    """A content row as the sender needs it: the media's bytes are read only to upload."""

    group_id: int
    cancelled: bool  # its group was cancelled when the rows were claimed
    text: str
    parse_mode: str | None
    buttons: tuple[tuple[Button, ...], ...]
    media_id: int | None
    media_kind: MediaKind | None
    media_filename: str | None
    media_ref: str | None
    # A venue's data, read with the content (a few bytes): nothing to upload, and a venue
    # waits for the earlier messages of its group to its recipient (`waiting_behind`).
    place: Place | None = None

    @property
    def uploads(self) -> bool:
        """Whether its media is a file the channel must be given once."""
        return self.media_id is not None and self.place is None


async def contents_of(session: AsyncSession, ids: Iterable[int]) -> dict[int, StoredContent]:
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    rows = await session.execute(
        select(OutboxContent.id, OutboxContent.group_id, OutboxGroup.cancelled_at,
               OutboxContent.text, OutboxContent.parse_mode, OutboxContent.buttons,
               OutboxContent.media_id, OutboxMedia.kind, OutboxMedia.filename,
               OutboxMedia.file_ref,
               case((OutboxMedia.kind == MediaKind.VENUE, OutboxMedia.data)).label("place"))
        .join(OutboxGroup, OutboxGroup.id == OutboxContent.group_id)
        .outerjoin(OutboxMedia, OutboxMedia.id == OutboxContent.media_id)
        .where(OutboxContent.id.in_(wanted)))
    return {r.id: StoredContent(
        r.group_id, r.cancelled_at is not None, r.text, r.parse_mode,
        tuple(tuple(Button.from_json(b) for b in row) for row in (r.buttons or ())),
        r.media_id, r.kind, r.filename, r.file_ref,
        Place.of(r.place) if r.place is not None else None) for r in rows}


async def waiting_behind(session: AsyncSession, row_ids: Iterable[int]) -> set[int]:
    """Of these rows, those whose recipient has an earlier message of the same group not
    sent yet: a venue goes after the invitation it belongs to, whatever delayed that one
    (another recipient uploading its calendar file, the pace of one chat, a claim split
    between two batches)."""
    wanted = sorted(set(row_ids))
    if not wanted:
        return set()
    later_content = aliased(OutboxContent)
    earlier, earlier_content = aliased(OutboxMessage), aliased(OutboxContent)
    before = (select(earlier.id)
              .join(earlier_content, earlier_content.id == earlier.content_id)
              .where(earlier.recipient_id == OutboxMessage.recipient_id,
                     earlier.id < OutboxMessage.id,
                     earlier_content.group_id == later_content.group_id,
                     earlier.state.in_(UNSENT)))
    rows = await session.scalars(
        select(OutboxMessage.id)
        .join(later_content, later_content.id == OutboxMessage.content_id)
        .where(OutboxMessage.id.in_(wanted), before.exists()))
    return set(rows)


async def media_data(session: AsyncSession, media_id: int) -> bytes:
    return (await session.scalar(select(OutboxMedia.data)
                                 .where(OutboxMedia.id == media_id)))  # type: ignore[return-value]


async def set_media_refs(session: AsyncSession, refs: Mapping[int, str]) -> None:
    """The channel now has these files: later messages send the reference, not the bytes."""
    table = typed(Table, OutboxMedia.__table__)
    if refs:
        await session.execute(
            update(table).where(table.c.id == bindparam("media"), table.c.file_ref.is_(None))
            .values(file_ref=bindparam("ref")),
            [{"media": media_id, "ref": ref} for media_id, ref in refs.items()])


def _due(now: datetime) -> Any:
    # A "sending" row whose lease ran out belonged to a sender that died: due again.
    return or_(and_(OutboxMessage.state == OutboxState.PENDING,
                    OutboxMessage.next_attempt_at <= now),
               and_(OutboxMessage.state == OutboxState.SENDING,
                    OutboxMessage.lease_until < now))


def held_for_conversation(now: datetime) -> Any:
    """A due row of a bulk group whose recipient is in the middle of a conversation (their
    draft's open flow touched within the last ten minutes) waits, for two hours at most
    since it became due. Other rows, other recipients' and this recipient's notices, are
    claimed meanwhile. Both subqueries are uncorrelated (a few people are in a conversation
    at any moment; a group has a few contents), so the claim stays one cheap statement."""
    in_conversation = select(UserDraft.user_id).where(
        UserDraft.flow_at > now - quiet_hours.CONVERSATION_IDLE)
    return and_(OutboxMessage.next_attempt_at <= now,
                OutboxMessage.next_attempt_at > now - quiet_hours.CONVERSATION_WAIT_AT_MOST,
                OutboxMessage.recipient_id.in_(in_conversation),
                OutboxMessage.content_id.in_(_bulk_contents()))


def held_for_night(now: datetime) -> Any:
    """A row of a bulk group to someone in whose zone it is night now (21.00-06.00) waits
    for 06.00 there, however it became due then: queued for the morning, but the bot was
    down; held for a conversation into the evening; retried after an error. What is queued
    already avoids the night (`send_times`); this is the check at the moment of sending."""
    night = quiet_hours.night_zones(now)
    if not night:
        return false()
    return and_(OutboxMessage.content_id.in_(_bulk_contents()),
                # Past its expiry it is not sent at all: the claim marks it expired.
                or_(OutboxMessage.expires_at.is_(None), OutboxMessage.expires_at > now),
                or_(*(zones.lives_in(OutboxMessage.recipient_id, zone) for zone in night)))


def held(now: datetime) -> Any:
    """Rows due but not to be sent now: a conversation or the night is waited for."""
    return or_(held_for_conversation(now), held_for_night(now))


def _bulk_contents() -> Any:
    return select(OutboxContent.id).join(
        OutboxGroup, OutboxGroup.id == OutboxContent.group_id).where(OutboxGroup.bulk)


def _sendable(now: datetime) -> Any:
    return and_(_due(now), not_(held(now)))


async def claim_due(session: AsyncSession, *, now: datetime, limit: int, lease: timedelta,
                    skip_locked: bool, owner: str) -> list[OutboxMessage]:
    """Mark up to `limit` due rows as being sent by `owner`, until the lease ends; rows held
    for their recipient's conversation (`held_for_conversation`) stay where they are."""
    due = (select(OutboxMessage.id).where(_sendable(now))
           .order_by(OutboxMessage.priority, OutboxMessage.id).limit(limit))
    if skip_locked:
        due = due.with_for_update(skip_locked=True)
    result = await session.scalars(
        update(OutboxMessage).where(OutboxMessage.id.in_(due.scalar_subquery()))
        .values(state=OutboxState.SENDING, lease_until=now + lease, claimed_by=owner)
        .returning(OutboxMessage)
        .execution_options(synchronize_session=False))
    return sorted(result.all(), key=lambda r: (r.priority, r.id))


async def release_all_claims(session: AsyncSession) -> int:
    """The one sender starting up: rows left "sending" by a dead sender are due at once."""
    result = await session.execute(
        update(OutboxMessage).where(OutboxMessage.state == OutboxState.SENDING)
        .values(state=OutboxState.PENDING, lease_until=None, claimed_by=None)
        .execution_options(synchronize_session=False))
    return affected(result)


async def expire_overdue(session: AsyncSession, now: datetime) -> int:
    """Pending rows past their expiry time will never be sent: say so."""
    result = await session.execute(
        update(OutboxMessage).where(OutboxMessage.expires_at <= now,
                                    OutboxMessage.state == OutboxState.PENDING)
        .values(state=OutboxState.EXPIRED)
        .execution_options(synchronize_session=False))
    return affected(result)


async def blocked_among(session: AsyncSession, user_ids: Iterable[int]) -> set[int]:
    ids = sorted(set(user_ids))
    if not ids:
        return set()
    return set(await session.scalars(select(User.id).where(
        User.id.in_(ids), User.status == UserStatus.BLOCKED)))


async def record(session: AsyncSession, changes: Sequence[dict[str, Any]], *,
                 owner: str) -> None:
    """Apply outcomes by primary key, many rows per statement.

    A message that was sent is recorded as sent whatever happened meanwhile. Any other
    outcome applies only while the row is still ours (claimed by `owner`): a group
    cancelled during the request must not come back as pending, nor a row that another
    sender took over.
    """
    groups: dict[tuple[bool, tuple[str, ...]], list[dict[str, Any]]] = {}
    for change in changes:
        columns = tuple(sorted(k for k in change if k != "id"))
        sent = change.get("state") == OutboxState.SENT
        groups.setdefault((sent, columns), []).append(change)
    # Core, not ORM: an executemany with extra criteria.
    table = typed(Table, OutboxMessage.__table__)
    for (sent, columns), rows in groups.items():
        statement = update(table).where(table.c.id == bindparam("row_id"))
        if not sent:
            statement = statement.where(table.c.state == OutboxState.SENDING,
                                        table.c.claimed_by == owner)
        statement = statement.values({c: bindparam(f"v_{c}") for c in columns})
        params = [{"row_id": r["id"], **{f"v_{c}": r[c] for c in columns}} for r in rows]
        await session.execute(statement, params)


async def still_claimed(session: AsyncSession, row_ids: Sequence[int], owner: str) -> set[int]:
    """Which of these claimed rows are still ours to send (not cancelled, not taken over)."""
    if not row_ids:
        return set()
    return set(await session.scalars(select(OutboxMessage.id).where(
        OutboxMessage.id.in_(list(row_ids)), OutboxMessage.state == OutboxState.SENDING,
        OutboxMessage.claimed_by == owner)))


async def cancelled_groups(session: AsyncSession, ids: Iterable[int]) -> set[int]:
    wanted = sorted(set(ids))
    if not wanted:
        return set()
    return set(await session.scalars(select(OutboxGroup.id).where(
        OutboxGroup.id.in_(wanted), OutboxGroup.cancelled_at.is_not(None))))


async def next_due_at(session: AsyncSession, now: datetime) -> datetime | None:
    """When the next row becomes due: a retry or a deferred message, or a lapsing lease.
    A row held for a conversation is left out: when the conversation ends or goes quiet is
    not known ahead, so the sender's poll finds it (else it would seem due now, always)."""
    pending = await session.scalar(select(func.min(OutboxMessage.next_attempt_at)).where(
        OutboxMessage.state == OutboxState.PENDING, not_(held(now))))
    leased = await session.scalar(select(func.min(OutboxMessage.lease_until)).where(
        OutboxMessage.state == OutboxState.SENDING))
    times = [t for t in (pending, leased) if t is not None]
    if await session.scalar(select(OutboxMessage.id).where(
            OutboxMessage.state == OutboxState.PENDING, OutboxMessage.next_attempt_at <= now,
            held_for_night(now)).limit(1)) is not None:
        # Held for the night: due again when the first of those nights ends.
        times.append(min(quiet_hours.outside_quiet_hours(now, zone)
                         for zone in quiet_hours.night_zones(now)))
    return min(times) if times else None


async def mark_blocked(session: AsyncSession, user_ids: Iterable[int]) -> None:
    ids = sorted(set(user_ids))
    if ids:
        await session.execute(update(User).where(User.id.in_(ids))
                              .values(status=UserStatus.BLOCKED)
                              .execution_options(synchronize_session=False))


# --- groups: counts, cancel, drop, what was sent -----------------------------------------------


@dataclass
class Counts:
    sent: int = 0
    pending: int = 0
    skipped: int = 0
    failed: int = 0
    expired: int = 0
    failed_by_reason: dict[str, int] | None = None

    @property
    def total(self) -> int:
        return self.sent + self.pending + self.skipped + self.failed + self.expired


def _in_group(key: str) -> Any:
    """Rows of the group: those whose content belongs to it."""
    return OutboxMessage.content_id.in_(
        select(OutboxContent.id).join(OutboxGroup, OutboxGroup.id == OutboxContent.group_id)
        .where(OutboxGroup.key == key))


async def group_counts(session: AsyncSession, group: str) -> Counts:
    rows = await session.execute(
        select(OutboxMessage.state, OutboxMessage.last_error, func.count())
        .where(_in_group(group))
        .group_by(OutboxMessage.state, OutboxMessage.last_error))
    counts = Counts(failed_by_reason={})
    for state, error, n in rows:
        if state == OutboxState.SENT:
            counts.sent += n
        elif state in UNSENT:
            counts.pending += n
        elif state == OutboxState.SKIPPED:
            counts.skipped += n
        elif state == OutboxState.EXPIRED:
            counts.expired += n
        else:
            counts.failed += n
            assert counts.failed_by_reason is not None
            reason = error or "unknown"
            counts.failed_by_reason[reason] = counts.failed_by_reason.get(reason, 0) + n
    return counts


async def broadcast_counts(session: AsyncSession, broadcast_id: int) -> Counts:
    return await group_counts(session, broadcast_group(broadcast_id))


async def cancel_group(session: AsyncSession, group: str, *, now: datetime) -> int:
    """Cancel a group: what was not sent is skipped (claimed rows too: the sender re-checks
    them before sending), nothing can be added later; what was sent stays recorded."""
    await _ensure_group(session, group, now)
    await session.execute(update(OutboxGroup).where(OutboxGroup.key == group,
                                                    OutboxGroup.cancelled_at.is_(None))
                          .values(cancelled_at=now))
    return await drop_unsent(session, group, reason="cancelled")


async def drop_unsent(session: AsyncSession, group: str, *, recipient_id: int | None = None,
                      reason: str) -> int:
    """Skip the group's rows not sent yet, all of them or one recipient's (a reminder for
    someone who has answered meanwhile); the group itself goes on."""
    where = [_in_group(group), OutboxMessage.state.in_(UNSENT)]
    if recipient_id is not None:
        where.append(OutboxMessage.recipient_id == recipient_id)
    result = await session.execute(
        update(OutboxMessage).where(*where)
        .values(state=OutboxState.SKIPPED, last_error=reason)
        .execution_options(synchronize_session=False))
    return affected(result)


async def sent_messages(session: AsyncSession, group: str) -> list[tuple[int, int]]:
    """(recipient id, message id) of what the group delivered: for editing it later."""
    rows = await session.execute(
        select(OutboxMessage.recipient_id, OutboxMessage.message_id)
        .where(_in_group(group), OutboxMessage.state == OutboxState.SENT,
               OutboxMessage.message_id.is_not(None))
        .order_by(OutboxMessage.id))
    return [(recipient, message) for recipient, message in rows if message is not None]


# --- the stall watch -----------------------------------------------------------------------------


async def oldest_due(session: AsyncSession, now: datetime) -> datetime | None:
    """Since when the longest-waiting due message waits (a lapsed claim counts too); one
    held for its recipient's conversation is not stuck."""
    pending = await session.scalar(select(func.min(OutboxMessage.next_attempt_at)).where(
        OutboxMessage.state == OutboxState.PENDING, OutboxMessage.next_attempt_at <= now,
        not_(held(now))))
    lapsed = await session.scalar(select(func.min(OutboxMessage.next_attempt_at)).where(
        OutboxMessage.state == OutboxState.SENDING, OutboxMessage.lease_until < now))
    times = [t for t in (pending, lapsed) if t is not None]
    return min(times) if times else None


async def count_due(session: AsyncSession, now: datetime) -> int:
    return await session.scalar(select(func.count()).select_from(OutboxMessage).where(
        _sendable(now))) or 0


async def last_sent(session: AsyncSession) -> datetime | None:
    return await session.scalar(select(func.max(OutboxMessage.sent_at)))
