"""The use cases of good-practice tips: loading the shipped library, giving someone their
next tip, their feedback, the weekly tip's batches and their queueing, and staff's edits.
Each owns its transaction; the queries are in db/queries/tips.py."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Tip, TipOptOut, TipSend
from db.queries import outbox as outbox_db
from db.queries import tips as tips_db
from db.queries import zones
from db.queries.tips import Loaded, Reader
from db.session import Sessions
from domain.tip_rules import (
    SURVEY_QUIET_DAYS,
    WORKER,
    Candidate,
    ShippedTip,
    audience_of,
    next_tip,
    survey_just_opened,
)

ASKED, WEEKLY = "asked", "weekly"


@dataclass(frozen=True)
class TipText:
    id: int
    key: str | None
    module: int
    audience: str
    text_id: str
    text_en: str
    retired: bool
    edited: bool

    def text(self, language: str) -> str:
        return self.text_id if language == "id" else self.text_en


def _text(row: Tip) -> TipText:
    return TipText(row.id, row.key, row.module, row.audience, row.text_id, row.text_en,
                   row.retired_at is not None, row.edited_at is not None)


async def load_shipped(sessions: Sessions, shipped: Sequence[ShippedTip], *,
                       now: datetime) -> Loaded:
    async with sessions() as session, session.begin():
        return await tips_db.load_shipped(session, shipped, now=now)


async def next_for(sessions: Sessions, user_id: int, role: str | None, *,
                   now: datetime) -> TipText | None:
    """The tip this user gets now (/tip), recorded as received; None when the library has
    none for their modules and audience."""
    async with sessions() as session, session.begin():
        modules = (await tips_db.modules_of(session, [user_id]))[user_id]
        candidates = await tips_db.candidates(session, modules, audience_of(role))
        history = (await tips_db.last_sent(session, [user_id])).get(user_id, {})
        chosen = next_tip(candidates, history, user_id)
        if chosen is None:
            return None
        await tips_db.record_send(session, user_id, chosen.id, via=ASKED, now=now)
        row = await session.get(Tip, chosen.id)
        assert row is not None
        return _text(row)


async def give_feedback(sessions: Sessions, user_id: int, tip_id: int, useful: bool, *,
                        now: datetime) -> bool:
    """Store "useful" or "not useful" (replacing an earlier answer); False when the user
    never received that tip."""
    async with sessions() as session, session.begin():
        if not await tips_db.was_sent(session, user_id, tip_id):
            return False
        await tips_db.set_feedback(session, user_id, tip_id, useful, now=now)
        return True


async def weekly_off(sessions: Sessions, user_id: int) -> bool:
    async with sessions() as session:
        return await tips_db.weekly_off(session, user_id)


async def set_weekly(sessions: Sessions, user_id: int, on: bool, *, now: datetime) -> None:
    async with sessions() as session, session.begin():
        await tips_db.set_weekly(session, user_id, on, now=now)


# --- the weekly tip ------------------------------------------------------------------------

@dataclass(frozen=True)
class WeeklyBatch:
    picks: Mapping[int, TipText]  # user id -> the tip they get
    last_id: int | None           # where the next batch starts; None: this was the last


async def weekly_batch(sessions: Sessions, *, week: str, zone: str, day: date,
                       staff_ids: frozenset[int], after: int = 0,
                       limit: int = 500) -> WeeklyBatch:
    """This week's tip for one batch of readers in `zone` (`day`: the Monday there). Workers
    get none while a pulse survey is in its first days: one message at a time is enough."""
    async with sessions() as session:
        readers = await tips_db.weekly_readers(session, week, staff_ids=staff_ids, after=after,
                                               limit=limit)
        last_id = readers[-1].user_id if len(readers) == limit else None
        in_zone = await zones.zones_of(session, [r.user_id for r in readers])
        readers = [r for r in readers if in_zone[r.user_id] == zone]
        openings = await tips_db.pulse_openings(
            session, day - timedelta(days=SURVEY_QUIET_DAYS - 1), day)
        if survey_just_opened(openings, day):
            readers = [r for r in readers if audience_of(r.role) != WORKER]
        picks = await _picks(session, readers)
        rows = {t.id: _text(t) for t in await session.scalars(
            select(Tip).where(Tip.id.in_(sorted(set(picks.values())))))}
    return WeeklyBatch({user_id: rows[tip_id] for user_id, tip_id in picks.items()}, last_id)


async def _picks(session: AsyncSession, readers: Sequence[Reader]) -> dict[int, int]:
    ids = [r.user_id for r in readers]
    modules = await tips_db.modules_of(session, ids)
    history = await tips_db.last_sent(session, ids)
    pool: dict[tuple[frozenset[int], str], list[Candidate]] = {}
    picks: dict[int, int] = {}
    for reader in readers:
        wanted = (frozenset(modules[reader.user_id]), audience_of(reader.role))
        if wanted not in pool:
            pool[wanted] = await tips_db.candidates(session, wanted[0], wanted[1])
        chosen = next_tip(pool[wanted], history.get(reader.user_id, {}), reader.user_id)
        if chosen is not None:
            picks[reader.user_id] = chosen.id
    return picks


def weekly_group(week: str) -> str:
    """The outbox group of a week's tips: kind "tip", bulk (db/queries/outbox.BULK_KINDS)."""
    return f"tip:{week}"


async def queue_weekly(sessions: Sessions, picks: Mapping[int, int],
                       messages: Mapping[int, outbox_db.Rendered], *, week: str,
                       at: datetime, expires_at: datetime, now: datetime) -> int:
    """Queue each reader's tip (`picks`: user id -> tip id; `messages`: tip id -> the
    message) and record it as received, in one transaction. Who turned the weekly tip off
    or got this week's meanwhile is left out; the number queued."""
    async with sessions() as session, session.begin():
        ids = sorted(picks)
        done = set(await session.scalars(select(TipSend.user_id).where(
            TipSend.week == week, TipSend.user_id.in_(ids))))
        done |= set(await session.scalars(select(TipOptOut.user_id).where(
            TipOptOut.user_id.in_(ids))))
        by_tip: dict[int, list[int]] = defaultdict(list)
        for user_id in ids:
            if user_id not in done:
                by_tip[picks[user_id]].append(user_id)
        queued = 0
        for tip_id, user_ids in by_tip.items():
            for user_id in user_ids:
                await tips_db.record_send(session, user_id, tip_id, via=WEEKLY, week=week,
                                          now=now)
            queued += await outbox_db.enqueue_rendered(
                session, messages[tip_id], group=weekly_group(week), key=f"tip:{week}",
                to=user_ids, now=now, at=at, expires_at=expires_at)
        return queued


# --- staff ---------------------------------------------------------------------------------

async def tips_of_module(sessions: Sessions, module: int) -> list[TipText]:
    async with sessions() as session:
        return [_text(t) for t in await tips_db.tips_of_module(session, module)]


async def get_tip(sessions: Sessions, tip_id: int) -> TipText | None:
    async with sessions() as session:
        row = await session.get(Tip, tip_id)
        return _text(row) if row is not None else None


async def add_tip(sessions: Sessions, *, module: int, audience: str, text_id: str,
                  text_en: str, staff_id: int, now: datetime) -> TipText:
    async with sessions() as session, session.begin():
        row = Tip(module=module, audience=audience, text_id=text_id, text_en=text_en,
                  created_by=staff_id, created_at=now, updated_at=now)
        session.add(row)
        await session.flush()
        return _text(row)


async def edit_text(sessions: Sessions, tip_id: int, language: str, text: str, *,
                    staff_id: int, now: datetime) -> TipText | None:
    """Staff's new text: a shipped tip edited so keeps it over later upgrades."""
    async with sessions() as session, session.begin():
        row = await session.get(Tip, tip_id)
        if row is None:
            return None
        if language == "id":
            row.text_id = text
        else:
            row.text_en = text
        row.edited_by, row.edited_at, row.updated_at = staff_id, now, now
        return _text(row)


async def set_retired(sessions: Sessions, tip_id: int, retired: bool, *,
                      now: datetime) -> TipText | None:
    async with sessions() as session, session.begin():
        row = await session.get(Tip, tip_id)
        if row is None:
            return None
        # Not an edit of the text: an upgrade still refreshes a retired shipped tip's words.
        row.retired_at = now if retired else None
        row.updated_at = now
        return _text(row)


@dataclass(frozen=True)
class Rated:
    tip: TipText
    sent: int        # times received
    useful: int      # people who found it useful
    not_useful: int


@dataclass(frozen=True)
class Overview:
    in_use: Mapping[int, int]  # module -> tips in use
    most_useful: list[Rated]
    least_useful: list[Rated]


async def overview(sessions: Sessions, top: int = 3) -> Overview:
    """What staff see first in /tips admin: the tips in use per module, and the most and
    least useful tips by their readers' answers (a tip in one list is not in the other)."""
    async with sessions() as session:
        counts = await tips_db.library_counts(session)
        rated = [Rated(_text(u.tip), u.sent, u.useful, u.not_useful)
                 for u in await tips_db.usefulness(session)]
    best = sorted((r for r in rated if r.useful > r.not_useful),
                  key=lambda r: (-r.useful, r.not_useful, r.tip.id))[:top]
    worst = sorted((r for r in rated if r not in best and r.not_useful),
                   key=lambda r: (-r.not_useful, r.useful, r.tip.id))[:top]
    return Overview(counts, best, worst)
