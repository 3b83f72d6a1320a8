"""Staff's /stats through the real Application: the numbers against rows made in the
database (enterprises, people, survey rounds, workshops, visits, broadcasts), in both
languages, the chart as a PNG, an empty programme, and nobody else may ask."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from PIL import Image

from chat.i18n import use_locale
from chat.menu import commands_for
from db.broadcasts import confirm_broadcast
from db.models import (
    EventStatus,
    ResponseKind,
    ResponseStatus,
    Rsvp,
    SurveyResponse,
    User,
    UserStatus,
    Visit,
    Workshop,
    WorkshopInvite,
    WorkshopParticipant,
)
from db.programme_stats import People, read
from db.queries import surveys as survey_queries
from db.queries.audience import Audience
from domain.programme_stats import StateCounts, StatsChart, StatsWords, months_around
from rendering.programme_chart import build_figure, chart_height, draw
from services import programme_stats as words
from services.surveys import rounds
from tests import factories
from tests.conftest import OTHER_STAFF_ID, STAFF_ID
from tests.harness import BotHarness
from tests.survey_helpers import NOW

NOV = date(2026, 11, 1)
DEC_1 = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)  # 09.00 WIB, before NOW
DEC_15 = datetime(2026, 12, 15, 2, 0, tzinfo=UTC)
NOV_10 = datetime(2026, 11, 10, 2, 0, tzinfo=UTC)
OCT_10 = datetime(2026, 10, 10, 2, 0, tzinfo=UTC)  # two months ago: counted nowhere


def test_months_are_counted_in_wib() -> None:
    # 30 November 18.00 UTC is already 1 December in Jakarta.
    this, last = months_around(datetime(2026, 11, 30, 18, 0, tzinfo=UTC))
    assert (this.first, last.first) == (date(2026, 12, 1), date(2026, 11, 1))
    assert this.start == datetime(2026, 11, 30, 17, 0, tzinfo=UTC) == last.end
    january, december = months_around(datetime(2027, 1, 5, tzinfo=UTC))
    assert (january.first, december.first) == (date(2027, 1, 1), date(2026, 12, 1))


async def _final(bot: BotHarness, survey: str, enterprise_id: int, respondent: int) -> None:
    async with bot.sessionmaker() as session, session.begin():
        session.add(SurveyResponse(
            survey=survey, period=NOV, kind=ResponseKind.MONTHLY, status=ResponseStatus.FINAL,
            enterprise_id=enterprise_id, respondent_id=respondent,
            entered_as="worker" if survey == "pulse" else "owner", started_at=NOW,
            updated_at=NOW, finished_at=NOW))


async def _workshop(bot: BotHarness, starts_at: datetime, *,
                    status: EventStatus = EventStatus.SCHEDULED,
                    invites: tuple[tuple[int, Rsvp | None, list[tuple[str, bool | None]]], ...] = ()
                    ) -> None:
    """A workshop; `invites`: (enterprise, answer, [(sex, attended), ...])."""
    async with bot.sessionmaker() as session, session.begin():
        workshop = Workshop(module=1, province="JB", city="Bekasi", venue="Balai", days=1,
                            starts_at=starts_at, status=status, created_by=STAFF_ID,
                            created_at=NOW, updated_at=NOW)
        session.add(workshop)
        await session.flush()
        for enterprise_id, answer, people in invites:
            invite = WorkshopInvite(workshop_id=workshop.id, enterprise_id=enterprise_id,
                                    invited_at=NOW, answer=answer)
            session.add(invite)
            await session.flush()
            for i, (sex, attended) in enumerate(people):
                session.add(WorkshopParticipant(invite_id=invite.id, name=f"Orang {i}",
                                                sex=sex, kind="worker", attended=attended))


async def _visit(bot: BotHarness, enterprise_id: int, trainer: int, starts_at: datetime,
                 status: EventStatus = EventStatus.SCHEDULED) -> None:
    async with bot.sessionmaker() as session, session.begin():
        session.add(Visit(enterprise_id=enterprise_id, trainer_id=trainer, module=1,
                          starts_at=starts_at, status=status, created_by=STAFF_ID,
                          created_at=NOW, updated_at=NOW))


async def _programme(bot: BotHarness) -> None:
    """Five enterprises in three provinces and three states, their people, November's
    rounds, workshops and visits this month and last, and two broadcasts."""
    alpha = await factories.enterprise(bot, owner=1001, name="PT Alpha", province="JK",
                                       modules=(1, 2))
    beta = await factories.enterprise(bot, owner=1002, name="PT Beta", modules=(1,))
    await factories.enterprise(bot, owner=1003, name="PT Gamma", status="pending",
                               modules=(1, 5))
    await factories.enterprise(bot, owner=1004, name="PT Delta", status="rejected",
                               modules=(5,))
    eta = await factories.enterprise(bot, owner=1005, name="PT Eta", province="JT",
                                     modules=(2,))
    for worker in (2001, 2002):
        await factories.worker(bot, worker, alpha)
    await factories.worker(bot, 2003, beta)
    await factories.worker(bot, 2004, beta, left=True)  # left: not linked, still a worker
    await factories.worker(bot, 2005, beta, blocked=True)  # linked, but blocked the bot
    await factories.user(bot, 3001, role="trainer")
    await factories.user(bot, 3002)  # agreed, no role yet
    await factories.staff(bot)
    await factories.staff(bot, OTHER_STAFF_ID, language="id")
    # November's rounds: Alpha reported the KPIs; one of the four workers asked answered.
    async with bot.sessionmaker() as session, session.begin():
        for survey in ("kpi", "pulse"):
            await survey_queries.ensure_round(session, rounds.plan(survey, NOV), now=NOW)
    await _final(bot, "kpi", alpha.id, 1001)
    await _final(bot, "pulse", alpha.id, 2001)
    # Workshops: December one held, one coming, one cancelled; November one held.
    await _workshop(bot, DEC_1, invites=(
        (alpha.id, Rsvp.ATTEND, [("f", True), ("m", True), ("f", False)]),
        (beta.id, Rsvp.DECLINE, []), (eta.id, None, [])))
    await _workshop(bot, DEC_15, invites=((beta.id, Rsvp.ATTEND, [("m", None)]),))
    await _workshop(bot, DEC_15, status=EventStatus.CANCELLED,
                    invites=((alpha.id, Rsvp.ATTEND, [("f", None)]),))
    await _workshop(bot, NOV_10, invites=((alpha.id, Rsvp.ATTEND, [("m", True)]),))
    await _workshop(bot, OCT_10)
    # Visits: December one done, one past but not reported, one coming; November one
    # cancelled.
    await _visit(bot, alpha.id, 3001, DEC_1, EventStatus.DONE)
    await _visit(bot, beta.id, 3001, DEC_1 + timedelta(hours=3))
    await _visit(bot, beta.id, 3001, DEC_15)
    await _visit(bot, alpha.id, 3001, NOV_10, EventStatus.CANCELLED)
    # Broadcasts: one to the owners (Delta's owner blocked the bot before, Eta's blocks it
    # now), sent;
    # a later one only scheduled.
    await factories.user(bot, 1004, role="owner", blocked=True)
    bot.sandbox.fail("sendMessage", chat_id=1005, error_code=403,
                     description="Forbidden: bot was blocked by the user")
    await confirm_broadcast(bot.sessionmaker, created_by=STAFF_ID, text_id="Halo pemilik",
                            text_en=None, audience=Audience(roles=["owner"]), send_at=NOW,
                            now=NOW, staff_ids=bot.settings.staff_ids)
    await bot.delivered()
    await confirm_broadcast(bot.sessionmaker, created_by=STAFF_ID, text_id="Nanti",
                            text_en=None, audience=Audience(), send_at=NOW + timedelta(days=3),
                            now=NOW, staff_ids=bot.settings.staff_ids)


async def test_stats_counts_the_programme(survey_bot: BotHarness) -> None:
    bot = survey_bot
    await _programme(bot)
    # Someone who used /forget: an anonymous placeholder, blocked, no role. Nobody to count.
    async with bot.sessionmaker() as session, session.begin():
        session.add(User(id=-424242, language="id", status=UserStatus.BLOCKED,
                         created_at=NOW, last_seen_at=NOW))
    await bot.text(STAFF_ID, "/stats")
    text = "\n".join(bot.replies(STAFF_ID)[:-1])
    assert text.startswith("SCORE in numbers, Wednesday, 2 December 2026\n")
    assert ("Enterprises\n5 enterprises enrolled: 3 approved · 1 waiting · 1 rejected\n"
            "Jakarta: 1 approved\nWest Java: 1 approved · 1 waiting · 1 rejected\n"
            "Central Java: 1 approved\n") in text
    assert ("By module of interest\n1. Workplace Cooperation: 2 approved · 1 waiting\n"
            "2. Quality Management: 2 approved\n"
            "5. Occupational Safety and Health: 1 waiting · 1 rejected\n") in text
    assert ("People\n4 workers linked to an enterprise (in 2 enterprises)\n"
            "Owner: 3 active · 2 blocked the bot\nWorker: 4 active · 1 blocked the bot\n"
            "Trainer: 1 active\nStaff: 2 active\nNo role yet: 1 active\n") in text
    assert ("Survey response, latest rounds\n"
            "KPI report, November 2026: 1 of 3 enterprises (33%)\n"
            "Workers' survey, November 2026: 1 of 4 workers (25%)\n") in text
    assert ("Workshops\nDecember 2026: 1 held · 1 coming · 1 cancelled\n"
            "4 enterprises invited: 2 attending · 1 declined · 1 not answered\n"
            "4 people named (2 women), 2 attended\n"
            "November 2026: 1 held\n"
            "1 enterprise invited: 1 attending · 0 declined · 0 not answered\n"
            "1 person named (0 women), 1 attended\n") in text
    assert ("Consulting visits\nDecember 2026: 1 done · 1 not reported · 1 coming\n"
            "November 2026: 1 cancelled\n") in text
    assert ("Latest broadcasts\n#2 · 5 December 2026: not sent yet\n"
            "#1 · 2 December 2026: 4 recipients · 3 sent · 0 waiting · 1 not delivered"
            ) in text
    photo = bot.sandbox.last_message(STAFF_ID)
    assert photo.photo is not None
    image = Image.open(io.BytesIO(photo.photo))
    assert image.format == "PNG" and image.size[0] == 1080
    assert "Enterprises per province" in (photo.text or "")

    # In Indonesian, numbers and months in Indonesian.
    await bot.text(OTHER_STAFF_ID, "/stats")
    text_id = "\n".join(bot.replies(OTHER_STAFF_ID)[:-1])
    assert text_id.startswith("SCORE dalam angka, Rabu, 2 Desember 2026\n")
    assert "5 perusahaan terdaftar: 3 disetujui · 1 menunggu · 1 ditolak" in text_id
    assert "Jawa Barat: 1 disetujui · 1 menunggu · 1 ditolak" in text_id
    assert "Laporan KPI, November 2026: 1 dari 3 perusahaan (33%)" in text_id
    assert "Desember 2026: 1 terlaksana · 1 akan datang · 1 dibatalkan" in text_id
    assert bot.sandbox.last_message(OTHER_STAFF_ID).photo is not None


async def test_large_numbers_through_babel(survey_bot: BotHarness) -> None:
    """Thousands are grouped as the reader writes them: 1.250 / 1,250."""
    bot = survey_bot
    stats = await read(bot.sessionmaker, now=NOW, staff_ids=frozenset())
    stats.people["worker"] = People(1250, 3)
    with use_locale("id"):
        assert "Pekerja: 1.250 aktif · 3 memblokir bot" in words.stats_text(stats)
    with use_locale("en"):
        assert "Worker: 1,250 active · 3 blocked the bot" in words.stats_text(stats)


async def test_an_empty_programme(survey_bot: BotHarness) -> None:
    bot = survey_bot
    await factories.staff(bot)
    photos = len(bot.sandbox.calls_of("sendPhoto"))
    await bot.text(STAFF_ID, "/stats")
    text = "\n".join(bot.replies(STAFF_ID))
    assert "No enterprise has enrolled yet." in text
    assert "0 workers linked to an enterprise\nStaff: 1 active" in text
    assert "No survey round yet." in text
    assert "December 2026: none\nNovember 2026: none" in text
    assert "No broadcasts yet." in text
    assert len(bot.sandbox.calls_of("sendPhoto")) == photos  # nothing to draw


async def test_stats_is_for_staff_only(survey_bot: BotHarness) -> None:
    bot = survey_bot
    maju = await factories.enterprise(bot, owner=1001, owner_language="en")
    await factories.worker(bot, 2001, maju, language="en")
    await factories.user(bot, 3001, role="trainer", language="en")
    photos = len(bot.sandbox.calls_of("sendPhoto"))
    for user in (1001, 2001, 3001):
        await bot.text(user, "/stats")
        assert bot.last_text(user).startswith("I do not know that command.")
    assert len(bot.sandbox.calls_of("sendPhoto")) == photos


async def test_stats_is_in_the_staff_help_and_menu(survey_bot: BotHarness) -> None:
    bot = survey_bot
    await factories.staff(bot)
    await bot.text(STAFF_ID, "/help")
    assert "/stats – the programme in numbers, with a chart" in bot.last_text(STAFF_ID)
    assert "stats" in [c.command for c in commands_for("staff", "en")]
    assert "stats" not in [c.command for c in commands_for("owner", "en")]


def test_the_chart_shows_each_province_by_state_and_each_rate() -> None:
    chart = StatsChart([("DKI Jakarta", StateCounts(1, 0, 0)),
                        ("Jawa Barat", StateCounts(1250, 3, 1))],
                       [("Laporan KPI, November 2026", Decimal(1) / 3),
                        ("Survei pekerja, November 2026", None)])
    words = StatsWords("SCORE dalam angka", "Perusahaan per provinsi",
                       {"approved": "Disetujui", "pending": "Menunggu", "rejected": "Ditolak"},
                       "Jawaban survei", "id")
    figure = build_figure(chart, words)
    texts = {t.get_text() for ax in figure.axes for t in ax.texts}
    assert {" 1", " 1.254", " 33%", " –"} <= texts  # totals and shares through Babel
    legend = figure.axes[0].get_legend()
    assert legend is not None
    assert [t.get_text() for t in legend.get_texts()] == ["Disetujui", "Menunggu", "Ditolak"]
    image = Image.open(io.BytesIO(draw(chart, words)))
    assert image.format == "PNG" and image.size == (1080, chart_height(chart))
