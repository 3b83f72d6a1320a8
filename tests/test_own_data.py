"""The users' own data (UU PDP No. 27/2022) through the real Application: every column that
refers to a user is declared (checked from the models), /mydata shows each of them, /forget
leaves nothing personal in any table while the totals stay, /start after it is a newcomer's;
staff are refused, "No" keeps everything; the retention job empties old messages and keeps
their delivery counts."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import JSON, BigInteger, String, Text, cast, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from chat.context import Services, services_of
from chat.menu import commands_for
from db import own_data, survey_stats
from db.models import (
    AdminInvite,
    Base,
    Broadcast,
    BroadcastStatus,
    Enterprise,
    EventStatus,
    JoinAttempt,
    MediaKind,
    OutboxContent,
    OutboxMedia,
    OutboxMessage,
    OutboxState,
    ResponseKind,
    ResponseStatus,
    Rsvp,
    SurveyAnswer,
    SurveyResponse,
    SurveyRound,
    Tip,
    TipFeedback,
    TipOptOut,
    TipSend,
    TrainerAssignment,
    User,
    UserDraft,
    Visit,
    Workshop,
    WorkshopInvite,
    WorkshopParticipant,
)
from db.queries import outbox as outbox_db
from db.results import Stale
from handlers.role_help import role_help
from jobs import retention
from tests import factories
from tests.conftest import STAFF_ID
from tests.harness import BotHarness
from tests.survey_helpers import open_round

OWNER, WORKER, OTHER = 1001, 2001, 2002
NAME, USERNAME, PHONE = "Sulastri Handayani", "sulastri_h", "+6281299998888"
ALL_YES = ["Sering", "Aman", "Selalu", "Ya", "Sudah dijalankan", "Tidak"]


def _svc(bot: BotHarness) -> Services:
    assert bot.app is not None
    return services_of(bot.app)


# --- completeness, from the models -------------------------------------------------------------

def _user_columns() -> set[str]:
    """Every column that may hold a user's id: a foreign key to users.id, or a BigInteger
    that is not a table's own autoincremented id."""
    found = set()
    for table in Base.metadata.sorted_tables:
        for column in table.columns:
            to_users = any(fk.target_fullname == "users.id" for fk in column.foreign_keys)
            to_others = any(fk.target_fullname != "users.id" for fk in column.foreign_keys)
            big = isinstance(column.type, BigInteger) and not to_others and not (
                column.primary_key and column.autoincrement is True)
            if to_users or big or (table.name == "users" and column.name == "id"):
                found.add(f"{table.name}.{column.name}")
    return found


def test_every_column_that_refers_to_a_user_is_declared() -> None:
    declared = {c.key for c in own_data.USER_COLUMNS}
    missing = _user_columns() - declared - set(own_data.NOT_USERS)
    assert not missing, f"add these to db/own_data.USER_COLUMNS (or NOT_USERS): {missing}"
    # Nothing declared that the models no longer have.
    existing = {f"{t.name}.{c.name}" for t in Base.metadata.sorted_tables for c in t.columns}
    assert declared <= existing and set(own_data.NOT_USERS) <= existing
    assert len(declared) == len(own_data.USER_COLUMNS)
    # Every shown field exists in its table, every section is shown.
    for declared_column in own_data.USER_COLUMNS:
        table = Base.metadata.tables[declared_column.table]
        assert {f for f in declared_column.shows if f != "enterprise_id"} <= set(table.c.keys())
        assert declared_column.section in own_data.SECTIONS
    # A user-looking name with the wrong type would slip past the walk: none has one.
    for table in Base.metadata.sorted_tables:
        for column in table.columns:
            if column.key == "claimed_by":
                continue  # the outbox sender holding a row, not a person
            if column.name.endswith("_by") or column.name in (
                    "user_id", "recipient_id", "respondent_id", "trainer_id", "owner_id"):
                assert isinstance(column.type, BigInteger), f"{table.name}.{column.name}"


# --- a world with the user in every table -------------------------------------------------------

async def _world(bot: BotHarness) -> Enterprise:
    """The owner, in every table that can refer to a user; two workers, one answering the
    open pulse round."""
    await factories.staff(bot)
    await factories.user(bot, OWNER, name=NAME, username=USERNAME, role="owner")
    maju = await factories.enterprise(bot, owner=OWNER)
    other = await factories.enterprise(bot, owner=1002, name="PT Lain", decided_by=OWNER)
    await factories.worker(bot, WORKER, maju)
    await factories.worker(bot, OTHER, maju)
    await open_round(bot, "pulse")
    await bot.press(WORKER, "Mulai survei")
    for label in ALL_YES:
        await bot.press(WORKER, label)
    now = bot.clock.now()
    async with bot.sessionmaker() as session, session.begin():
        row = await session.get(Enterprise, maju.id)
        assert row is not None
        row.phone = PHONE
        session.add_all([
            AdminInvite(token="tok1", enterprise_id=maju.id, created_by=OWNER, created_at=now),
            AdminInvite(token="tok2", enterprise_id=other.id, created_by=1002, created_at=now,
                        used_by=OWNER, used_at=now),
            JoinAttempt(user_id=OWNER, at=now),
            UserDraft(user_id=OWNER, data={"note": NAME}, updated_at=now),
            Broadcast(created_by=OWNER, text_id="Halo", audience={}, urgent=False,
                      status=BroadcastStatus.QUEUED, send_at=now, created_at=now),
            TrainerAssignment(trainer_id=OWNER, enterprise_id=other.id, assigned_by=OWNER,
                              assigned_at=now),
        ])
        round_ = await session.scalar(select(SurveyRound).where(SurveyRound.survey == "pulse"))
        assert round_ is not None
        round_.moved_by = OWNER
        # Last month's KPI report, of a round long closed.
        kpi = SurveyResponse(survey="kpi", period=date(2026, 10, 1), kind=ResponseKind.MONTHLY,
                             status=ResponseStatus.FINAL, enterprise_id=maju.id,
                             respondent_id=OWNER, entered_as="owner", started_at=now,
                             updated_at=now, finished_at=now)
        session.add(kpi)
        workshop = Workshop(module=1, province="JB", city="Bekasi", venue="Aula", days=2,
                            starts_at=now + timedelta(days=20), status=EventStatus.SCHEDULED,
                            created_by=OWNER, created_at=now, updated_at=now)
        tip = Tip(module=1, audience="manager", text_id="Tip", text_en="Tip", created_by=OWNER,
                  edited_by=OWNER, created_at=now, updated_at=now, edited_at=now)
        session.add_all([workshop, tip])
        await session.flush()
        session.add(SurveyAnswer(response_id=kpi.id, question="headcount", raw="120",
                                 number=Decimal(120), answered_at=now))
        invite = WorkshopInvite(workshop_id=workshop.id, enterprise_id=maju.id, invited_at=now,
                                answer=Rsvp.ATTEND, answered_by=OWNER, answered_at=now)
        session.add(invite)
        await session.flush()
        session.add_all([
            WorkshopParticipant(invite_id=invite.id, name=NAME, sex="f", kind="manager",
                                attended=True, recorded_by=OWNER, recorded_at=now),
            WorkshopParticipant(invite_id=invite.id, name="Joko", sex="m", kind="worker"),
            Visit(enterprise_id=maju.id, trainer_id=OWNER, module=1, starts_at=now,
                  status=EventStatus.DONE, created_by=OWNER, created_at=now, updated_at=now,
                  report_done="5S", reported_by=OWNER, reported_at=now),
            TipSend(user_id=OWNER, tip_id=tip.id, via="asked", sent_at=now),
            TipFeedback(user_id=OWNER, tip_id=tip.id, useful=True, answered_at=now),
            TipOptOut(user_id=OWNER, since=now),
        ])
        # A message waiting for them, and a staff notice that names them.
        await outbox_db.enqueue(session, group="enrolment:1", key="news", recipients=[
            (OWNER, "id")], contents={"id": outbox_db.Content(f"Halo {NAME}", None, (), None)},
            fallback="id", now=now, at=now + timedelta(days=1))
        await outbox_db.enqueue(session, group="enrolment:1", key="staff", recipients=[
            (STAFF_ID, "en")], contents={"en": outbox_db.Content(
                f"New: {NAME} (@{USERNAME}), {PHONE}", None, (), None)},
            fallback="en", now=now)
    await bot.delivered()
    return maju


async def _count(session: AsyncSession, key: str, value: int) -> int:
    table_name, column = key.split(".")
    table = Base.metadata.tables[table_name]
    return await session.scalar(select(func.count()).select_from(table).where(
        table.c[column] == value)) or 0


# --- /mydata -----------------------------------------------------------------------------------

async def test_mydata_shows_every_column_that_refers_to_the_user(survey_bot: BotHarness) -> None:
    bot = survey_bot
    await _world(bot)
    data = await own_data.collect(bot.sessionmaker, OWNER)
    assert data is not None
    async with bot.sessionmaker() as session:
        for column in own_data.USER_COLUMNS:
            stored = await _count(session, column.key, OWNER)
            assert stored, f"the test's world has no {column.key}"
            assert len(data.records(column.key)) == stored, column.key

    await bot.text(OWNER, "/mydata")
    message = bot.sandbox.messages(OWNER)[-2]
    assert "Semua rincian ada di berkas" in (message.text or "")
    document = bot.sandbox.last_message(OWNER)
    assert document.document_name == "score-mydata.txt" and document.document is not None
    text = document.document.decode()
    for shown in (NAME, USERNAME, PHONE, "PT Maju Jaya", "PT Lain", "Joko", "5S", "120",
                  "Halo", "Akun", "Perusahaan yang Bapak/Ibu miliki"):
        assert shown in text, shown
    assert "/forget" in text


async def test_a_workers_mydata_fits_in_a_message_and_says_what_is_unlinked(
        survey_bot: BotHarness) -> None:
    bot = survey_bot
    await _world(bot)
    await bot.text(WORKER, "/mydata")
    [reply] = bot.replies(WORKER)
    assert "Ani" in reply and "PT Maju Jaya" in reply
    # Each answer under its question's label, a button's answer in words.
    assert "Atasan mendengarkan usulan: Sering" in reply
    assert "Survei pekerja bulan November 2026" in reply
    # The open round's answers are still linked; none of a closed round yet.
    assert "dipisahkan" not in reply
    async with bot.sessionmaker() as session, session.begin():
        round_ = await session.scalar(select(SurveyRound).where(SurveyRound.survey == "pulse"))
        assert round_ is not None
        round_.closed_at = bot.clock.now()
        await session.execute(update(SurveyResponse).values(respondent_id=None))
    await bot.text(WORKER, "/mydata")
    [reply] = bot.replies(WORKER)
    assert "Atasan mendengarkan usulan" not in reply and "dipisahkan" in reply


# --- /forget -----------------------------------------------------------------------------------

async def _totals(bot: BotHarness) -> tuple[object, ...]:
    async with bot.sessionmaker() as session:
        round_id = await session.scalar(select(SurveyRound.id).where(
            SurveyRound.survey == "pulse"))
        responses = Counter((await session.execute(select(
            SurveyResponse.survey, SurveyResponse.enterprise_id, SurveyResponse.status))).all())
        answers = Counter((await session.execute(select(
            SurveyAnswer.question, SurveyAnswer.choice, SurveyAnswer.raw))).all())
        # Every message stays counted (the staff notice of /forget is new).
        deliveries = await session.scalar(select(func.count()).select_from(OutboxMessage).where(
            ~OutboxMessage.dedup_key.startswith("contact:")))
        participants = Counter((await session.execute(select(
            WorkshopParticipant.sex, WorkshopParticipant.kind,
            WorkshopParticipant.attended))).all())
        members = await session.scalar(select(func.count()).select_from(
            Base.metadata.tables["memberships"]))
    assert round_id is not None
    tallies = await survey_stats.round_tallies(bot.sessionmaker, round_id)
    assert tallies is not None
    return (responses, answers, deliveries, participants, members,
            [(t.enterprise_id, t.tally) for t in tallies.enterprises])


async def _personal_anywhere(bot: BotHarness, user_id: int, words: tuple[str, ...]
                             ) -> list[str]:
    """Where the user's id is in a user column, or one of `words` in any text of any table."""
    found = []
    async with bot.sessionmaker() as session:
        for declared in own_data.USER_COLUMNS:
            if await _count(session, declared.key, user_id):
                found.append(declared.key)
        for table in Base.metadata.sorted_tables:
            for column in table.columns:
                if not isinstance(column.type, String | Text | JSON):
                    continue
                text = cast(column, Text()) if isinstance(column.type, JSON) else column
                for word in words:
                    if await session.scalar(select(func.count()).select_from(table).where(
                            text.contains(word))):
                        found.append(f"{table.name}.{column.name}: {word}")
    return found


async def test_forget_leaves_nothing_personal_and_the_totals_stay(survey_bot: BotHarness) -> None:
    bot = survey_bot
    maju = await _world(bot)
    before = await _totals(bot)
    assert await _personal_anywhere(bot, OWNER, (NAME, USERNAME, PHONE))

    await bot.text(OWNER, "/forget")
    question = bot.last_text(OWNER)
    assert "tetap dalam program SCORE" in question and "/mydata" in question
    await bot.press(OWNER, "Ya, hapus data saya")
    assert "sudah dihapus" in bot.last_text(OWNER)
    await bot.text(WORKER, "/forget")
    await bot.press(WORKER, "Ya, hapus data saya")

    for user_id in (OWNER, WORKER):
        assert await _personal_anywhere(bot, user_id, (NAME, USERNAME, PHONE)) == []
    assert await _totals(bot) == before
    async with bot.sessionmaker() as session:
        enterprise = await session.get(Enterprise, maju.id)
        assert enterprise is not None and enterprise.owner_id is None
        assert (enterprise.contact_name, enterprise.phone) == ("", "")
        placeholders = (await session.scalars(select(User).where(User.id < 0))).all()
        assert len(placeholders) == 2
        assert all(p.name is None and p.username is None and p.consent_at is None
                   and p.role is None for p in placeholders)
        kpi = await session.scalar(select(SurveyResponse).where(SurveyResponse.survey == "kpi"))
        assert kpi is not None and kpi.respondent_id is None and kpi.respondent_ref
        # Only the day is kept of when it was answered, as at a round's close.
        assert kpi.finished_at is not None and (kpi.finished_at.hour,
                                                kpi.finished_at.minute) == (0, 0)
        # The waiting message is dropped, not sent; the one to staff was sent before.
        states = Counter((await session.execute(select(OutboxMessage.state).where(
            OutboxMessage.recipient_id < 0))).scalars())
        assert states[OutboxState.SKIPPED] >= 1
    # Staff are told, so they can ask the enterprise for a new contact.
    assert "PT Maju Jaya" in bot.last_text(STAFF_ID)
    assert "new contact person" in bot.last_text(STAFF_ID)

    # /start: a newcomer, asked for the language and consent again.
    await bot.text(OWNER, "/start")
    assert "bahasa" in bot.last_text(OWNER).lower()
    async with bot.sessionmaker() as session:
        user = await session.get(User, OWNER)
    assert user is not None and user.consent_at is None and user.name is None
    assert user.role is None


async def test_no_keeps_everything_and_staff_are_refused(survey_bot: BotHarness) -> None:
    bot = survey_bot
    await _world(bot)
    await bot.text(OWNER, "/forget")
    await bot.press(OWNER, "Tidak, simpan data saya")
    assert "tidak ada yang dihapus" in bot.last_text(OWNER)
    async with bot.sessionmaker() as session:
        assert (await session.get(User, OWNER)) is not None
    await bot.text(STAFF_ID, "/forget")
    assert "/staff" in bot.last_text(STAFF_ID) and bot.open_flow(STAFF_ID) is None
    async with bot.sessionmaker() as session:
        assert (await session.get(User, STAFF_ID)) is not None
    await factories.user(bot, 4001, role="trainer", language="en")
    await bot.text(4001, "/forget")
    assert "take your trainer role away" in bot.last_text(4001)
    async with bot.sessionmaker() as session:
        assert (await session.get(User, 4001)) is not None


async def test_help_menu_and_privacy_name_mydata_and_forget(survey_bot: BotHarness) -> None:
    bot = survey_bot
    await factories.worker(bot, WORKER, await factories.enterprise(bot, owner=OWNER),
                           language="en")
    await bot.text(WORKER, "/help")
    assert "/mydata" in bot.last_text(WORKER) and "/forget" in bot.last_text(WORKER)
    for role in (None, "owner", "admin", "worker", "trainer", "staff"):
        assert {"mydata", "forget"} <= {c.command for c in commands_for(role, "id")}
        assert "/forget" in role_help(role)
    await bot.text(WORKER, "/privacy")
    assert "180 days" in bot.last_text(WORKER) and "/forget deletes it" in bot.last_text(WORKER)


# --- retention ---------------------------------------------------------------------------------

async def test_retention_empties_old_messages_and_keeps_the_counts(
        survey_bot: BotHarness) -> None:
    bot = survey_bot
    await factories.staff(bot)
    now = bot.clock.now()
    old = now - timedelta(days=181)
    async with bot.sessionmaker() as session, session.begin():
        media = OutboxMedia(kind=MediaKind.DOCUMENT, sha256="a" * 64, filename="x.png",
                            data=b"png", created_at=old)
        session.add(media)
        await session.flush()
        for text, created, state, media_id in (("old sent", old, OutboxState.SENT, media.id),
                                              ("old waiting", old, OutboxState.PENDING, None),
                                              ("new sent", now, OutboxState.SENT, None)):
            await outbox_db.enqueue(session, group=f"g:{text}", key=text, recipients=[
                (STAFF_ID, "en")], contents={"en": outbox_db.Content(text, None, (), None)},
                fallback="en", now=created, at=now + timedelta(days=9))
            content = await session.scalar(select(OutboxContent).where(
                OutboxContent.text == text))
            assert content is not None
            content.media_id = media_id
            await session.execute(update(OutboxMessage).where(
                OutboxMessage.content_id == content.id).values(state=state))
    purged = await retention.purge(_svc(bot))
    assert (purged.contents, purged.media) == (1, 1)
    async with bot.sessionmaker() as session:
        texts = set((await session.scalars(select(OutboxContent.text))).all())
        rows = (await session.execute(select(OutboxMessage.state, OutboxMessage.recipient_id)
                                      )).all()
        assert await session.scalar(select(func.count()).select_from(OutboxMedia)) == 0
    assert texts == {"", "old waiting", "new sent"}
    assert len(rows) == 3  # every delivery still counted
    assert (await retention.purge(_svc(bot))).contents == 0  # once


async def test_an_owner_of_two_enterprises_staff_hear_of_both(survey_bot: BotHarness) -> None:
    bot = survey_bot
    await factories.staff(bot)
    maju = await factories.enterprise(bot, owner=OWNER)
    await bot.text(OWNER, "/forget")
    # Approved after the question was asked: the Yes names it too (rendered at the Yes).
    await factories.enterprise(bot, owner=OWNER, name="PT Baru Sekali", city="Bogor")
    # What was rendered before the transaction no longer fits: nothing is done.
    with pytest.raises(Stale):
        await own_data.forget(bot.sessionmaker, OWNER, in_staff_ids=False, notice=None,
                              expected=(own_data.Owned(maju.id, maju.name),),
                              fixed_staff=frozenset(), now=bot.clock.now())
    await bot.press(OWNER, "Ya, hapus data saya")
    notice = bot.last_text(STAFF_ID)
    assert "PT Maju Jaya" in notice and "PT Baru Sekali" in notice
    async with bot.sessionmaker() as session:
        assert not (await session.scalars(select(Enterprise).where(
            Enterprise.phone != ""))).all()
