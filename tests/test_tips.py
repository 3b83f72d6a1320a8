"""Good-practice tips through the real Application: /tip without repeats until all are seen,
for the user's modules and audience; feedback stored and changed; the weekly tip on and off,
through the outbox on the clock (the survey's first days, a restart, a bot that was down);
staff-only /tips admin (adding, editing, retiring, the most and least useful); an upgrade of
the shipped library that keeps staff's edits; the library itself."""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from chat.clock import FakeClock
from chat.context import Services, services_of
from config.settings import Settings
from db.models import SurveyRound, Tip, TipFeedback, TipOptOut, TipSend
from domain import tip_rules
from domain.tip_rules import MANAGER, WORKER, ShippedTip, TipError
from sandbox import BotApiSandbox
from services import tips as tip_service
from tests import factories
from tests.conftest import STAFF_ID
from tests.harness import BotHarness

# Monday 7 December 2026, 12.00 WIB: the weekly tip is due at 19.30 WIB (12:30 UTC), 19.30
# WITA (11:30 UTC).
START = datetime(2026, 12, 7, 5, 0, tzinfo=UTC)
OWNER, WORKER_ID, OTHER_WORKER, BALI_OWNER = 1001, 2001, 2002, 1002


@pytest.fixture
async def tip_bot(settings: Settings, sandbox: BotApiSandbox) -> AsyncIterator[BotHarness]:
    harness = BotHarness(settings, sandbox, clock=FakeClock(START))
    await harness.start()
    try:
        yield harness
    finally:
        await harness.stop()


def _svc(bot: BotHarness) -> Services:
    assert bot.app is not None
    return services_of(bot.app)


def _clock(bot: BotHarness) -> FakeClock:
    clock = _svc(bot).clock
    assert isinstance(clock, FakeClock)
    return clock


async def _at(bot: BotHarness, moment: datetime) -> int:
    """The clock at `moment`, the weekly job's run, the outbox's delivery."""
    clock = _clock(bot)
    clock.advance((moment - clock.now()).total_seconds())
    queued = await tip_service.run_weekly(_svc(bot))
    await bot.delivered()
    return queued


async def _sends(bot: BotHarness, user_id: int) -> list[Tip]:
    async with bot.sessionmaker() as session:
        return list(await session.scalars(select(Tip).join(TipSend, TipSend.tip_id == Tip.id)
                                          .where(TipSend.user_id == user_id)
                                          .order_by(TipSend.id)))


async def _world(bot: BotHarness) -> None:
    maju = await factories.enterprise(bot, owner=OWNER, modules=(2,), owner_language="en")
    await factories.worker(bot, WORKER_ID, maju, language="en")


# --- /tip ----------------------------------------------------------------------------------

async def test_a_worker_gets_worker_tips_of_the_modules_without_repeats(
        tip_bot: BotHarness) -> None:
    bot = tip_bot
    await _world(bot)
    shipped = [t for t in tip_rules.library() if t.module == 2 and t.audience == WORKER]
    await bot.text(WORKER_ID, "/tip")
    assert "Tip · Quality Management" in bot.replies(WORKER_ID)[0]
    for _ in range(len(shipped)):
        await bot.press(WORKER_ID, "Another tip")
    got = await _sends(bot, WORKER_ID)
    assert {(t.module, t.audience) for t in got} == {(2, WORKER)}
    first_round = [t.key or "" for t in got[:len(shipped)]]
    # Every worker tip of module 2 once, then the library starts over in the same order.
    assert sorted(first_round) == sorted(t.key for t in shipped)
    assert got[len(shipped)].key == first_round[0]
    # What the worker read is the tip's own words.
    text = dict(zip([t.key for t in tip_rules.library()], tip_rules.library(), strict=True))[
        got[-1].key or ""].text["en"]
    assert text in bot.last_text(WORKER_ID)


async def test_an_owner_gets_manager_tips_of_the_enterprises_modules(
        tip_bot: BotHarness) -> None:
    bot = tip_bot
    await factories.enterprise(bot, owner=OWNER, modules=(3, 5), owner_language="en")
    await bot.text(OWNER, "/tip")
    for _ in range(4):
        await bot.press(OWNER, "Another tip")
    got = await _sends(bot, OWNER)
    assert len(got) == 5 and len({t.id for t in got}) == 5
    assert {t.audience for t in got} == {MANAGER}
    assert {t.module for t in got} <= {3, 5}


async def test_someone_without_a_role_is_told_when_tips_come(tip_bot: BotHarness) -> None:
    bot = tip_bot
    await factories.user(bot, 3001, language="en")
    await bot.text(3001, "/tip")
    assert bot.replies(3001) == ["Tips come once you have enrolled your enterprise or joined "
                                 "it. Type /help to see the menu."]
    assert await _sends(bot, 3001) == []


async def test_feedback_is_stored_once_per_tip_and_can_change(tip_bot: BotHarness) -> None:
    bot = tip_bot
    await _world(bot)
    await bot.text(WORKER_ID, "/tip")
    await bot.press(WORKER_ID, "👍 Useful")
    assert bot.sandbox.callback_answers(WORKER_ID)[-1]["text"] == "Thank you. Noted as useful."
    await bot.press(WORKER_ID, "👎 Not useful")
    async with bot.sessionmaker() as session:
        rows = (await session.scalars(select(TipFeedback))).all()
    [tip] = await _sends(bot, WORKER_ID)
    assert [(r.user_id, r.tip_id, r.useful) for r in rows] == [(WORKER_ID, tip.id, False)]
    # A tip they never received (a button signed for them, but not sent): nothing stored.
    signer = _svc(bot).signer
    bot.sandbox.press(WORKER_ID, signer.data(WORKER_ID, tip_service.FEEDBACK, f"{tip.id + 1}.1"))
    await bot.settle()
    assert bot.sandbox.callback_answers(WORKER_ID)[-1]["text"] == \
        "This button is no longer active."
    async with bot.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(TipFeedback)) == 1


async def test_help_lists_the_tip_commands_by_role(tip_bot: BotHarness) -> None:
    bot = tip_bot
    await _world(bot)
    await factories.staff(bot)
    await bot.text(WORKER_ID, "/help")
    assert "/tip – a good-practice tip" in bot.replies(WORKER_ID)[0]
    assert "/tips admin" not in bot.replies(WORKER_ID)[0]
    await bot.text(STAFF_ID, "/help")
    assert "/tips admin – tips" in bot.replies(STAFF_ID)[0]


# --- the weekly tip ------------------------------------------------------------------------

async def test_tips_off_and_on(tip_bot: BotHarness) -> None:
    bot = tip_bot
    await _world(bot)
    await bot.text(WORKER_ID, "/tips")
    assert bot.replies(WORKER_ID)[0].startswith("The weekly tip comes on Mondays at 19:30.")
    await bot.text(WORKER_ID, "/tips off")
    assert bot.replies(WORKER_ID)[0].startswith("The weekly tip is off.")
    async with bot.sessionmaker() as session:
        assert await session.get(TipOptOut, WORKER_ID) is not None
    # Off: Monday evening brings the owner's tip, not the worker's.
    assert await _at(bot, datetime(2026, 12, 7, 12, 30, tzinfo=UTC)) == 1
    assert bot.sandbox.texts(WORKER_ID)[-1].startswith("The weekly tip is off.")
    await bot.text(WORKER_ID, "/tips on")
    assert bot.replies(WORKER_ID) == ["The weekly tip is on. It comes on Mondays at 19:30."]
    async with bot.sessionmaker() as session:
        assert await session.get(TipOptOut, WORKER_ID) is None
    # On again within the week's catch-up: the job's next run sends it.
    assert await _at(bot, datetime(2026, 12, 7, 12, 35, tzinfo=UTC)) == 1
    assert "Tip of the week" in bot.sandbox.texts(WORKER_ID)[-1]


async def test_the_weekly_tip_goes_on_monday_evening_in_each_zone_once(
        tip_bot: BotHarness) -> None:
    bot = tip_bot
    await _world(bot)
    await factories.enterprise(bot, owner=BALI_OWNER, name="CV Bali Logam", province="BA",
                               city="Denpasar", modules=(5,), owner_language="en")
    assert await _at(bot, datetime(2026, 12, 7, 11, 29, tzinfo=UTC)) == 0  # 19.29 WITA
    assert await _at(bot, datetime(2026, 12, 7, 11, 30, tzinfo=UTC)) == 1  # 19.30 WITA
    assert "Tip of the week · Occupational Safety and Health" in \
        bot.sandbox.texts(BALI_OWNER)[-1]
    assert bot.sandbox.texts(WORKER_ID) == []
    assert await _at(bot, datetime(2026, 12, 7, 12, 30, tzinfo=UTC)) == 2  # 19.30 WIB
    assert "Type /tips off to stop the weekly tip." in bot.sandbox.texts(WORKER_ID)[-1]
    # The job again, and after a restart: nothing twice.
    assert await _at(bot, datetime(2026, 12, 7, 12, 40, tzinfo=UTC)) == 0
    await bot.restart(hard=True)
    assert await _at(bot, datetime(2026, 12, 7, 13, 0, tzinfo=UTC)) == 0
    assert len(bot.sandbox.texts(WORKER_ID)) == 1
    async with bot.sessionmaker() as session:
        weeks = (await session.execute(select(TipSend.user_id, TipSend.week))).all()
    assert sorted(weeks) == [(OWNER, "2026-W50"), (BALI_OWNER, "2026-W50"),
                             (WORKER_ID, "2026-W50")]
    # Its buttons work like /tip's.
    await bot.press(WORKER_ID, "👍 Useful")
    async with bot.sessionmaker() as session:
        assert await session.scalar(select(TipFeedback.useful)) is True
    # Next Monday: another tip.
    assert await _at(bot, datetime(2026, 12, 14, 12, 30, tzinfo=UTC)) == 3
    first, second = await _sends(bot, WORKER_ID)
    assert first.id != second.id


async def test_a_bot_down_at_the_moment_sends_the_weeks_tip_late_within_two_days(
        tip_bot: BotHarness) -> None:
    bot = tip_bot
    await _world(bot)
    # Down from Monday noon until Tuesday 22.00 WIB: that night's rows wait for 06.00.
    assert await _at(bot, datetime(2026, 12, 8, 15, 0, tzinfo=UTC)) == 2
    assert bot.sandbox.texts(WORKER_ID) == []
    await _at(bot, datetime(2026, 12, 8, 23, 0, tzinfo=UTC))  # 06.00 WIB
    assert "Tip of the week" in bot.sandbox.texts(WORKER_ID)[-1]
    # Down for the whole of the next week's window: that week is skipped.
    assert await _at(bot, datetime(2026, 12, 16, 13, 0, tzinfo=UTC)) == 0


async def test_no_weekly_tip_for_workers_in_a_surveys_first_three_days(
        tip_bot: BotHarness) -> None:
    bot = tip_bot
    await _world(bot)
    async with bot.sessionmaker() as session, session.begin():
        # The workers' survey opened on Saturday 5 December (a moved round).
        session.add(SurveyRound(survey="pulse", period=date(2026, 11, 1),
                                opens_on=date(2026, 12, 5), reminder_on=date(2026, 12, 10),
                                closes_on=date(2026, 12, 20),
                                closes_at=datetime(2026, 12, 20, 16, 59, tzinfo=UTC),
                                version=0, queued_at=START - timedelta(days=2),
                                created_at=START))
    assert await _at(bot, datetime(2026, 12, 7, 12, 30, tzinfo=UTC)) == 1
    assert bot.sandbox.texts(WORKER_ID) == []
    assert "Tip of the week" in bot.sandbox.texts(OWNER)[-1]
    assert await _at(bot, datetime(2026, 12, 8, 12, 30, tzinfo=UTC)) == 0  # still skipped
    assert await _at(bot, datetime(2026, 12, 14, 12, 30, tzinfo=UTC)) == 2
    assert "Tip of the week" in bot.sandbox.texts(WORKER_ID)[-1]


# --- /tips admin ---------------------------------------------------------------------------

async def test_tips_admin_is_for_staff_only(tip_bot: BotHarness,
                                            caplog: pytest.LogCaptureFixture) -> None:
    bot = tip_bot
    await _world(bot)
    for user in (WORKER_ID, OWNER):
        await bot.text(user, "/tips admin")
        assert bot.replies(user)[0].startswith("I do not know that command.")
        assert bot.open_flow(user) is None
    signer = _svc(bot).signer
    async with bot.sessionmaker() as session:
        before = await session.scalar(select(func.count()).select_from(Tip))
    with caplog.at_level(logging.WARNING):
        # Staff buttons signed for the worker: refused by the role check.
        for kind, value in (("tam", "add"), ("tac", "retire"), ("tanm", "2")):
            bot.sandbox.press(WORKER_ID, signer.data(WORKER_ID, kind, value, "abcdef"))
        await bot.settle()
    assert f"staff action /tips admin from non-staff user={WORKER_ID}" in caplog.text
    assert caplog.text.count("staff button t") == 3
    assert bot.open_flow(WORKER_ID) is None
    async with bot.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(Tip)) == before
        assert await session.scalar(select(func.count()).where(Tip.retired_at.is_not(None))
                                    .select_from(Tip)) == 0


TIP_ID = ("Sebelum mulai shift, periksa lampu indikator mesin dan catat yang mati di buku "
          "mesin. Minggu ini, minta kepala regu membaca buku itu setiap Jumat.")
TIP_EN = ("Before the shift starts, check the machine's indicator lamps and note any that are "
          "out in the machine book. This week, ask the team leader to read it every Friday.")


async def test_staff_add_edit_and_retire_a_tip(tip_bot: BotHarness) -> None:
    bot = tip_bot
    await _world(bot)
    await factories.staff(bot)
    await bot.text(STAFF_ID, "/tips admin")
    assert "Most useful:" in bot.replies(STAFF_ID)[0]
    await bot.press(STAFF_ID, "➕ Add a tip")
    await bot.press(STAFF_ID, "Quality Management")
    await bot.press(STAFF_ID, "Workers")
    await bot.text(STAFF_ID, "Terlalu pendek.")
    assert bot.replies(STAFF_ID)[0].startswith("That is too short for a tip")
    await bot.text(STAFF_ID, TIP_ID)
    await bot.text(STAFF_ID, TIP_EN)
    assert bot.replies(STAFF_ID)[0].startswith("Saved. The tip is in use from now on.")
    async with bot.sessionmaker() as session:
        added = await session.scalar(select(Tip).where(Tip.created_by == STAFF_ID))
    assert added is not None and added.key is None
    assert (added.module, added.audience, added.text_id) == (2, WORKER, TIP_ID)
    # Edited: the new English text is stored.
    await bot.press(STAFF_ID, "Change the English text")
    await bot.text(STAFF_ID, TIP_EN + " Thank them for it.")
    assert bot.replies(STAFF_ID)[0].startswith("Saved.")
    # Retired: no longer given to the workers of module 2.
    await bot.press(STAFF_ID, "Retire it")
    async with bot.sessionmaker() as session:
        row = await session.get(Tip, added.id)
        assert row is not None and row.retired_at is not None
        assert row.text_en.endswith("Thank them for it.")
    for _ in range(6):
        await bot.text(WORKER_ID, "/tip")
    assert added.id not in {t.id for t in await _sends(bot, WORKER_ID)}
    # Brought back: it is given out again (the worker has seen every other one).
    await bot.press(STAFF_ID, "Bring it back")
    await bot.text(WORKER_ID, "/tip")
    assert (await _sends(bot, WORKER_ID))[-1].id == added.id
    await bot.text(STAFF_ID, "/cancel")
    assert bot.open_flow(STAFF_ID) is None


async def test_staff_see_the_most_and_least_useful_tips(tip_bot: BotHarness) -> None:
    bot = tip_bot
    maju = await factories.enterprise(bot, owner=OWNER, modules=(2,), owner_language="en")
    workers = range(2001, 2005)
    for worker in workers:
        await factories.worker(bot, worker, maju, language="en")
        await bot.text(worker, "/tip")
    got = {w: (await _sends(bot, w))[0] for w in workers}
    for worker in workers:
        await bot.press(worker, "👍 Useful" if worker != 2004 else "👎 Not useful")
    await factories.staff(bot)
    await bot.text(STAFF_ID, "/tips admin")
    menu = bot.replies(STAFF_ID)[0]
    most, least = menu.split("Least useful:")
    assert "1 useful, 0 not useful, received 1 times" in most
    assert got[2004].text_en[:40] in least
    assert "0 useful, 1 not useful" in least


async def test_an_upgrade_keeps_staff_edits_and_adds_new_shipped_tips(
        tip_bot: BotHarness, monkeypatch: pytest.MonkeyPatch) -> None:
    bot = tip_bot
    await factories.staff(bot)
    shipped = tip_rules.library()
    first = shipped[0]
    # Staff edit the first shipped tip of module 1 (the list shows it first).
    await bot.text(STAFF_ID, "/tips admin")
    await bot.press(STAFF_ID, "Workplace Cooperation (9)")
    await bot.text(STAFF_ID, "1")
    await bot.press(STAFF_ID, "Change the English text")
    await bot.text(STAFF_ID, TIP_EN)
    async with bot.sessionmaker() as session:
        edited = await session.scalar(select(Tip).where(Tip.text_en == TIP_EN))
        assert edited is not None and edited.key is not None
        total = await session.scalar(select(func.count()).select_from(Tip))
    # The next release changes the texts of the edited tip and of another, adds one.
    other = next(t for t in shipped if t.key != edited.key)
    new = ShippedTip("m1-new-one", 1, WORKER, {"id": TIP_ID, "en": TIP_EN})

    def changed(tip: ShippedTip) -> ShippedTip:
        if tip.key in (edited.key, other.key):
            return replace(tip, text={"id": tip.text["id"], "en": tip.text["en"] + " New."})
        return tip

    upgraded = (*(changed(t) for t in shipped), new)
    monkeypatch.setattr(tip_rules, "library", lambda: upgraded)
    for _ in range(2):  # loaded twice: the second load changes nothing
        await tip_service.load_library(_svc(bot))
    async with bot.sessionmaker() as session:
        rows = {t.key: t for t in await session.scalars(select(Tip))}
    assert len(rows) == (total or 0) + 1
    assert rows[edited.key].text_en == TIP_EN           # staff's words stay
    assert rows[other.key].text_en.endswith(" New.")     # not edited: the new words
    assert rows["m1-new-one"].text_id == TIP_ID
    assert first.key in rows


# --- the library ---------------------------------------------------------------------------

def test_the_library_has_enough_tips_for_every_module_and_audience() -> None:
    tips = tip_rules.library()
    assert len(tips) >= 40
    for module in (1, 2, 3, 4, 5):
        of_module = [t for t in tips if t.module == module]
        assert len(of_module) >= 8
        assert {t.audience for t in of_module} == {WORKER, MANAGER}
    # Workers are addressed as Anda, managers as Bapak/Ibu (LANGUAGE.md); a question a
    # manager is to ask workers is quoted.
    for tip in tips:
        said = re.sub(r'"[^"]*"', "", tip.text["id"])
        assert "Bapak/Ibu" not in said or tip.audience == MANAGER, tip.key
        assert "Anda" not in said or tip.audience == WORKER, tip.key


@pytest.mark.parametrize(("raw", "error"), [
    ({"module": 7, "tip": []}, "module"),
    ({"module": 1}, r"no \[\[tip"),
    ({"module": 1, "tip": [{"key": "Bad Key", "audience": WORKER, "id": "x", "en": "x"}]},
     "bad key"),
    ({"module": 1, "tip": [{"key": "m1-a", "audience": "boss", "id": "x" * 200,
                            "en": "x" * 200}]}, "audience"),
    ({"module": 1, "tip": [{"key": "m1-a", "audience": WORKER, "id": "x" * 200}]},
     "no text in en"),
    ({"module": 1, "tip": [{"key": "m1-a", "audience": WORKER, "id": "short",
                            "en": "x" * 200}]}, "too short"),
    ({"module": 1, "tip": [{"key": "m1-a", "audience": WORKER, "id": "x" * 200,
                            "en": "x" * 200, "title": "?"}]}, "unknown fields"),
])
def test_a_malformed_tip_file_does_not_load(raw: dict[str, object], error: str) -> None:
    with pytest.raises(TipError, match=error):
        tip_rules.parse(raw, "broken.toml")


def test_the_next_tip_is_one_not_seen_then_the_oldest() -> None:
    candidates = [tip_rules.Candidate(i, f"k{i}") for i in range(1, 4)]
    at = datetime(2026, 12, 1, tzinfo=UTC)
    seen: dict[int, datetime] = {}
    order = []
    for step in range(3):
        chosen = tip_rules.next_tip(candidates, seen, 42)
        assert chosen is not None and chosen.id not in seen
        seen[chosen.id] = at + timedelta(minutes=step)
        order.append(chosen.id)
    again = tip_rules.next_tip(candidates, seen, 42)
    assert again is not None and again.id == order[0]
    assert tip_rules.next_tip([], {}, 42) is None
