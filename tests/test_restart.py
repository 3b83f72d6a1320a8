"""Conversation state survives restarts, clean and hard; drafts expire after 14 days."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update

from db.models import UserDraft
from jobs.drafts import purge_drafts
from tests.harness import BotHarness
from tests.journeys import enterprise_of, onboard

# Draft expiry, the join lock, scheduled sends: `make test-dates` runs these at several instants.
pytestmark = pytest.mark.dates

OWNER = 1001


@pytest.mark.parametrize("hard", [False, True], ids=["sigterm", "sigkill"])
async def test_restart_mid_enrolment_continues_at_same_step(bot: BotHarness, hard: bool) -> None:
    await onboard(bot, OWNER, "en")
    await bot.text(OWNER, "PT Tahan Banting")
    await bot.press(OWNER, "Auto parts")
    await bot.text(OWNER, "Jawa Timur")
    await bot.restart(hard=hard)
    await bot.text(OWNER, "Surabaya")
    assert "How many workers" in bot.last_text(OWNER)
    await bot.text(OWNER, "90")
    await bot.text(OWNER, "Budi")
    await bot.text(OWNER, "081234567890")
    await bot.press(OWNER, "2.")
    await bot.press(OWNER, "Done")
    await bot.press(OWNER, "Confirm")
    enterprise = await enterprise_of(bot, OWNER)
    assert (enterprise.name, enterprise.province, enterprise.city) == (
        "PT Tahan Banting", "JI", "Surabaya")


async def test_state_is_committed_right_after_each_update(bot: BotHarness) -> None:
    await onboard(bot, OWNER, "en")
    await bot.text(OWNER, "PT Cepat")
    async with bot.sessionmaker() as session:
        draft = await session.get(UserDraft, OWNER)
    assert draft is not None and draft.data["flow"]["step"] == "e_sector"
    assert draft.data["flow"]["data"]["enrol"]["name"] == "PT Cepat"


async def test_buttons_keep_working_after_restart(bot: BotHarness) -> None:
    await onboard(bot, OWNER, "en")
    await bot.text(OWNER, "PT Tombol")
    await bot.restart(hard=True)
    await bot.press(OWNER, "Auto parts")
    assert "province" in bot.last_text(OWNER)


async def test_draft_is_deleted_on_cancel_and_after_14_days(bot: BotHarness) -> None:
    await onboard(bot, OWNER, "en")
    await bot.text(OWNER, "PT Lama")
    await bot.text(OWNER, "/cancel")
    async with bot.sessionmaker() as session:
        assert await session.get(UserDraft, OWNER) is None

    await bot.text(OWNER, "/enrol")
    await bot.text(OWNER, "PT Lupa")
    async with bot.sessionmaker() as session, session.begin():
        old = bot.clock.now() - timedelta(days=15)
        await session.execute(update(UserDraft).values(updated_at=old))
    assert bot.app is not None
    await purge_drafts(bot.app)
    async with bot.sessionmaker() as session:
        assert await session.get(UserDraft, OWNER) is None
    assert "enrol" not in bot.draft(OWNER)
    # The conversation in memory still waited for the sector: a note leads the answer to
    # what they sent now, which is handled as usual (here: /help shows the menu).
    await bot.text(OWNER, "/help")
    said = bot.last_text(OWNER)
    assert said.startswith("The question left unanswered for 14 days was closed.\n\n")
    assert "/start" in said and "deleted" not in said
    await bot.text(OWNER, "/help")
    assert "14 days" not in bot.last_text(OWNER)  # said once
    await bot.text(OWNER, "/enrol")
    assert "name of your company" in bot.last_text(OWNER)


async def test_a_draft_without_an_open_question_goes_quietly(bot: BotHarness) -> None:
    """A draft with nothing open (a finished or cancelled conversation's leftovers) is
    deleted at 14 days without telling anyone anything."""
    await onboard(bot, OWNER, "en")
    await bot.text(OWNER, "/cancel")
    async with bot.sessionmaker() as session, session.begin():
        session.add(UserDraft(user_id=OWNER, data={"lang_note": 1},
                              updated_at=bot.clock.now() - timedelta(days=15)))
    assert bot.app is not None
    await purge_drafts(bot.app)
    await bot.text(OWNER, "/help")
    assert "14 days" not in bot.last_text(OWNER)
