"""A month opened late on purpose, through the real Application: staff open it from /surveys
(or `score-bot survey open --late`), it asks only those who were members by the month's end,
its invitations say it comes late, and while it runs beside the current month every screen
says which month is which."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from chat.clock import FakeClock
from chat.context import services_of
from config.settings import Settings
from db.models import OutboxMessage, SurveyRound
from db.queries import surveys as survey_queries
from domain import survey_calendar as calendar
from jobs.survey_rounds import run_rounds
from sandbox import BotApiSandbox
from services.surveys import rounds
from tests import factories
from tests.conftest import STAFF_ID
from tests.harness import BotHarness

# Tuesday 8 December 2026, 10:00 WIB: November's rounds are open; October's never ran.
DEC_8 = datetime(2026, 12, 8, 3, 0, tzinfo=UTC)
OCT, SEP, NOV = date(2026, 10, 1), date(2026, 9, 1), date(2026, 11, 1)
OWNER, NEW_OWNER = 1001, 1002
OLD_WORKER, NEW_WORKER, NEW_PLACE_WORKER = 2001, 2002, 2003
LATE_BUTTON = "📂 Open a past month"


@pytest.fixture
async def late_bot(settings: Settings, sandbox: BotApiSandbox) -> AsyncIterator[BotHarness]:
    harness = BotHarness(settings, sandbox, clock=FakeClock(DEC_8))
    await harness.start()
    try:
        yield harness
    finally:
        await harness.stop()


async def _world(bot: BotHarness) -> None:
    """PT Lama, in the bot since September, with a worker of October's and one who joined
    last week; PT Baru, approved three days ago, with its worker."""
    await factories.staff(bot)
    lama = await factories.enterprise(bot, owner=OWNER, name="PT Lama", days_ago=90,
                                      owner_language="en")
    await factories.worker(bot, OLD_WORKER, lama, joined_days_ago=60, language="en")
    await factories.worker(bot, NEW_WORKER, lama, joined_days_ago=5, name="Budi")
    baru = await factories.enterprise(bot, owner=NEW_OWNER, name="PT Baru", days_ago=3)
    await factories.worker(bot, NEW_PLACE_WORKER, baru, joined_days_ago=2, name="Citra")


def _buttons(bot: BotHarness, chat_id: int, back: int = 1) -> list[str]:
    message = bot.sandbox.messages(chat_id)[-back]
    return [button["text"] for row in message.buttons for button in row]


async def _round(bot: BotHarness, survey: str, period: date) -> SurveyRound | None:
    async with bot.sessionmaker() as session:
        return await survey_queries.get_round(session, survey, period)


async def _invited(bot: BotHarness, round_: SurveyRound) -> set[int]:
    async with bot.sessionmaker() as session:
        return set((await session.scalars(select(OutboxMessage.recipient_id).where(
            OutboxMessage.dedup_key.like(f"{rounds.invite_group(round_)}:%")))).all())


async def test_staff_open_a_month_that_never_ran_from_surveys(late_bot: BotHarness) -> None:
    bot = late_bot
    await _world(bot)
    await bot.text(STAFF_ID, "/surveys")
    assert bot.last_text(STAFF_ID).startswith("There are no survey rounds yet.")
    assert _buttons(bot, STAFF_ID) == [LATE_BUTTON]
    await bot.press(STAFF_ID, LATE_BUTTON)
    assert bot.last_text(STAFF_ID).startswith("These months never had their round")
    # November is still running on its own dates: not offered.
    assert _buttons(bot, STAFF_ID) == [
        "KPI report, October 2026", "KPI report, September 2026",
        "Workers' survey, October 2026", "Workers' survey, September 2026"]
    await bot.press(STAFF_ID, "Workers' survey, October 2026")
    assert bot.last_text(STAFF_ID) == (
        "Open Workers' survey, October 2026 late, with these dates?\n"
        "Opens: Tuesday, 8 December 2026\n"
        "Reminder: Friday, 11 December 2026\n"
        "Closes: Tuesday, 15 December 2026\n\n"
        "Opened late on purpose: it asks the workers who were in the bot by the end of "
        "October 2026.\n"
        "It invites 1 worker now.\n"
        "The invitations go out at once. Where it is night (21:00 to 06:00), they go out at "
        "06:00 local time.")
    assert await _round(bot, "pulse", OCT) is None  # nothing recorded before the yes
    await bot.press(STAFF_ID, "✅ Yes, open it")
    assert bot.last_text(STAFF_ID) == ("Workers' survey, October 2026 is open until Tuesday, "
                                       "15 December 2026.\n1 invitation is queued.")
    assert bot.open_flow(STAFF_ID) is None
    october = await _round(bot, "pulse", OCT)
    assert october is not None and october.members_until == calendar.month_end(OCT)
    # Only who was a worker of an enterprise approved by the end of October.
    assert await _invited(bot, october) == {OLD_WORKER}
    await bot.delivered()
    invitation = bot.last_text(OLD_WORKER)
    assert "survey about your work in October" in invitation
    assert "This survey is asked late. Please answer about October" in invitation
    assert bot.sandbox.texts(NEW_WORKER) == []
    # Who joined since cannot answer it either, even by typing /survey.
    await bot.text(NEW_WORKER, "/survey")
    assert bot.open_flow(NEW_WORKER) is None and "Oktober" not in bot.last_text(NEW_WORKER)
    await bot.press(OLD_WORKER, "Start the survey")
    assert bot.open_flow(OLD_WORKER) == "survey"
    # The card says what the round is.
    await bot.text(STAFF_ID, "/surveys")
    cards = [text for text in bot.texts(STAFF_ID) if "Workers' survey, October 2026" in text]
    assert "Opened late on purpose: it asks the workers who were in the bot by the end of " \
        "October 2026." in cards[-1]
    # Of PT Lama's two workers, the round asked the one of October's.
    assert "PT Lama: 0 of 1 (0%)" in cards[-1]


async def test_the_late_kpi_report_asks_enterprises_approved_by_the_months_end(
        late_bot: BotHarness) -> None:
    bot = late_bot
    await _world(bot)
    await bot.text(STAFF_ID, "/surveys")
    await bot.press(STAFF_ID, LATE_BUTTON)
    await bot.press(STAFF_ID, "KPI report, October 2026")
    assert "It invites 1 owner or admin now." in bot.last_text(STAFF_ID)
    await bot.press(STAFF_ID, "✅ Yes, open it")
    october = await _round(bot, "kpi", OCT)
    assert october is not None and await _invited(bot, october) == {OWNER}
    await bot.delivered()
    assert "This report is asked late on purpose. Please give the numbers of October." in \
        bot.last_text(OWNER)
    assert bot.sandbox.texts(NEW_OWNER) == []
    # Staff's card counts the enterprises it asked: PT Baru was not there in October.
    await bot.text(STAFF_ID, "/surveys")
    card = next(text for text in bot.texts(STAFF_ID)
                if text.startswith("KPI report, October 2026 (open)"))
    assert "Answered: 0 of 1 enterprise (0%)" in card and "PT Baru" not in card


async def test_no_opens_nothing_and_an_old_month_button_opens_nothing_twice(
        late_bot: BotHarness) -> None:
    bot = late_bot
    await _world(bot)
    await bot.text(STAFF_ID, "/surveys")
    await bot.press(STAFF_ID, LATE_BUTTON)
    months = bot.sandbox.messages(STAFF_ID)[-1]
    await bot.press(STAFF_ID, "KPI report, September 2026")
    await bot.press(STAFF_ID, "✖ No")
    assert bot.last_text(STAFF_ID) == "Nothing was opened."
    assert await _round(bot, "kpi", SEP) is None
    # The month list of the ended run: its button opens nothing now.
    september = next(button["callback_data"] for row in months.buttons for button in row
                     if button["text"] == "KPI report, September 2026")
    bot.sandbox.press(STAFF_ID, september, message_id=months.message_id)
    await bot.settle()
    assert await _round(bot, "kpi", SEP) is None
    assert bot.open_flow(STAFF_ID) is None


async def test_the_month_is_opened_once_when_two_staff_confirm_it(
        late_bot: BotHarness) -> None:
    """Two staff confirm the same month: one opens it, the other hears it was opened."""
    bot = late_bot
    await _world(bot)
    other = 9002
    await factories.staff(bot, other, language="id")
    for staff, labels in ((STAFF_ID, (LATE_BUTTON, "KPI report, October 2026")),
                          (other, ("📂 Buka bulan yang terlewat", "Laporan KPI, Oktober 2026"))):
        await bot.text(staff, "/surveys")
        for label in labels:
            await bot.press(staff, label)
    await bot.press(STAFF_ID, "✅ Yes, open it")
    await bot.press(other, "✅ Ya, buka")
    assert bot.last_text(other) == ("Laporan KPI, Oktober 2026 sudah dibuka sementara itu. "
                                    "Tidak ada yang dikirim lagi.")
    october = await _round(bot, "kpi", OCT)
    assert october is not None and await _invited(bot, october) == {OWNER}


async def test_no_button_when_every_recent_month_ran(late_bot: BotHarness) -> None:
    bot = late_bot
    await _world(bot)
    async with bot.sessionmaker() as session, session.begin():
        for survey in ("kpi", "pulse"):
            for period in (SEP, OCT, NOV):
                await survey_queries.ensure_round(session, rounds.plan(survey, period),
                                                  now=DEC_8)
    await bot.text(STAFF_ID, "/surveys")
    assert LATE_BUTTON not in _buttons(bot, STAFF_ID)


async def test_only_staff_open_a_month_late(late_bot: BotHarness) -> None:
    bot = late_bot
    await _world(bot)
    signer = services_of(bot.app).signer  # type: ignore[arg-type]
    bot.sandbox.press(OWNER, signer.data(OWNER, "rlt"))
    await bot.settle()
    assert bot.open_flow(OWNER) is None
    assert bot.sandbox.callback_answers(OWNER)[-1].get("text") == \
        "This button is no longer active."
    async with bot.sessionmaker() as session:
        assert (await session.scalars(select(SurveyRound))).all() == []


async def test_two_months_open_say_which_month_each_is_for(late_bot: BotHarness) -> None:
    bot = late_bot
    await _world(bot)
    # November's rounds run on their own dates; October is opened late beside them.
    await run_rounds(services_of(bot.app))  # type: ignore[arg-type]
    for label in ("KPI report, October 2026", "Workers' survey, October 2026"):
        await bot.text(STAFF_ID, "/surveys")
        await bot.press(STAFF_ID, LATE_BUTTON)
        await bot.press(STAFF_ID, label)
        await bot.press(STAFF_ID, "✅ Yes, open it")
    await bot.delivered()
    # /survey: both months, each named.
    await bot.text(OLD_WORKER, "/survey")
    assert _buttons(bot, OLD_WORKER) == ["Workers' survey for November",
                                         "Workers' survey for October"]
    await bot.text(OLD_WORKER, "/cancel")
    await bot.text(OWNER, "/survey")
    assert _buttons(bot, OWNER) == ["KPI report for November", "KPI report for October"]
    await bot.text(OWNER, "/cancel")
    # /kpi: both running workers' surveys, each with its month and close.
    await bot.text(OWNER, "/kpi")
    said = "\n".join(bot.texts(OWNER)[-2:])
    assert "The workers' survey for October 2026 is running. Its results are shown after it " \
        "closes on Tuesday, 15 December 2026." in said
    assert "The workers' survey for November 2026 is running. Its results are shown after " \
        "it closes on Sunday, 20 December 2026." in said
    # /surveys: the late round's card beside the current one.
    await bot.text(STAFF_ID, "/surveys")
    titles = [text.split("\n")[0] for text in bot.texts(STAFF_ID)[-5:]]
    assert [t for t in titles if "2026 (" in t] == [
        "KPI report, November 2026 (open)", "KPI report, October 2026 (open)",
        "Workers' survey, November 2026 (open)", "Workers' survey, October 2026 (open)"]
