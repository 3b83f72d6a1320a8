"""Enterprises of the same name and city: only an approved one stops another person enrolling
it; an enrolment still waiting goes to staff beside the new one, and staff approve one."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from chat.context import services_of
from db.models import Enterprise, EnterpriseStatus
from db.queries import enterprises as enterprises_db
from services import enrolment_review
from tests import factories
from tests.conftest import OTHER_STAFF_ID, STAFF_ID
from tests.harness import BotHarness
from tests.journeys import answer_enrolment, enrol, enterprise_of, onboard

SQUATTER, OWNER = 1001, 1002


async def _count(bot: BotHarness) -> int:
    async with bot.sessionmaker() as session:
        return await session.scalar(select(func.count()).select_from(Enterprise)) or 0


async def _staff(bot: BotHarness) -> None:
    for staff in (STAFF_ID, OTHER_STAFF_ID):
        bot.sandbox.add_user(staff, f"Staff {staff}", language_code="en")
        await bot.text(staff, "/help")


def _card(bot: BotHarness, chat: int, contact: str) -> str:
    """The latest staff card of the enrolment whose contact is `contact`."""
    cards = [t for t in bot.texts(chat) if f"Contact: {contact}" in t]
    assert cards, f"no card for {contact}"
    return cards[-1]


async def test_a_waiting_enrolment_does_not_stop_the_real_owner(bot: BotHarness) -> None:
    await _staff(bot)
    squatted = await enrol(bot, SQUATTER, "en", company="PT Astra Komponen",
                           contact="Joko")
    # The real owner types the name a little differently: the same enterprise all the same.
    await onboard(bot, OWNER, "id")
    await answer_enrolment(bot, OWNER, "id", company="pt astra  komponen", city="bekasi",
                           contact="Budi Hartono")
    assert "Konfirmasi" in str(bot.sandbox.last_message(OWNER).buttons)
    await bot.press(OWNER, "Konfirmasi")
    assert "dikirim ke tim SCORE" in bot.last_text(OWNER)
    real = await enterprise_of(bot, OWNER)
    assert real.status == EnterpriseStatus.PENDING and await _count(bot) == 2
    # Staff's card of the new one names the other, which waits too.
    card = _card(bot, STAFF_ID, "Budi Hartono")
    assert f"No. {squatted.id}, of the same name and city, is also waiting" in card
    assert "Joko" in card and f"This is no. {real.id}" in card
    # /pending shows both, each naming the other.
    await bot.text(STAFF_ID, "/pending")
    assert f"No. {real.id}, of the same name and city" in _card(bot, STAFF_ID, "Joko")
    assert f"No. {squatted.id}, of the same name and city" in _card(bot, STAFF_ID,
                                                                     "Budi Hartono")
    # Staff approve the real one (the latest card); the other then cannot be approved.
    await bot.press(STAFF_ID, "Approve")
    assert (await enterprise_of(bot, OWNER)).status == EnterpriseStatus.APPROVED
    await bot.text(STAFF_ID, "/pending")
    card = _card(bot, STAFF_ID, "Joko")
    assert f"No. {real.id}, of the same name and city, is already approved" in card
    await bot.press(STAFF_ID, "Approve")
    answer = bot.sandbox.callback_answers(STAFF_ID)[-1].get("text") or ""
    assert f"Not approved: no. {real.id}" in answer
    assert (await enterprise_of(bot, SQUATTER)).status == EnterpriseStatus.PENDING
    # Rejecting it still works, and its owner hears why.
    await bot.press(STAFF_ID, "Reject")
    await bot.text(STAFF_ID, "Not the owner")
    assert (await enterprise_of(bot, SQUATTER)).status == EnterpriseStatus.REJECTED
    assert "Not the owner" in bot.last_text(SQUATTER)


async def test_a_rejected_enrolment_never_blocks(bot: BotHarness) -> None:
    await _staff(bot)
    await factories.enterprise(bot, owner=SQUATTER, name="PT Astra Komponen",
                               status="rejected")
    await enrol(bot, OWNER, "en", company="PT Astra Komponen", contact="Budi Hartono")
    assert "sent to the SCORE team" in bot.last_text(OWNER)
    assert await _count(bot) == 2
    # A rejected namesake tells staff nothing.
    assert "same name and city" not in _card(bot, STAFF_ID, "Budi Hartono")


async def test_an_approved_enterprise_blocks_and_says_what_next(bot: BotHarness) -> None:
    await factories.enterprise(bot, owner=SQUATTER, name="PT Astra Komponen")
    await onboard(bot, OWNER, "id")
    await bot.text(OWNER, "PT Astra Komponen")
    await bot.press(OWNER, "Suku cadang")
    await bot.text(OWNER, "jabar")
    await bot.text(OWNER, "Bekasi")
    said = bot.last_text(OWNER)
    assert said.startswith("PT Astra Komponen di Bekasi sudah terdaftar dan disetujui tim SCORE")
    assert "tidak disimpan" in said and "tautan undangan admin" in said
    assert "hubungi tim SCORE" in said and "/invite" not in said
    assert bot.open_flow(OWNER) is None and await _count(bot) == 1
    # The same in English.
    await onboard(bot, 1003, "en")
    await bot.text(1003, "PT Astra Komponen")
    await bot.press(1003, "Auto parts")
    await bot.text(1003, "West Java")
    await bot.text(1003, "Bekasi")
    said = bot.last_text(1003)
    assert "already enrolled and approved by the SCORE team" in said
    assert "contact the SCORE team" in said and bot.open_flow(1003) is None


async def test_approved_while_the_other_was_answering(bot: BotHarness) -> None:
    """Staff approve the waiting one before the second owner confirms: nothing is stored for
    them, and they hear why."""
    await _staff(bot)
    await enrol(bot, SQUATTER, "en", company="PT Astra Komponen")
    await onboard(bot, OWNER, "en")
    await answer_enrolment(bot, OWNER, "en", company="PT Astra Komponen")
    await bot.press(STAFF_ID, "Approve")
    await bot.press(OWNER, "Confirm")
    assert "already enrolled and approved" in bot.last_text(OWNER)
    assert bot.open_flow(OWNER) is None and await _count(bot) == 1


async def test_two_staff_approving_namesakes_at_once_one_wins(bot: BotHarness) -> None:
    await _staff(bot)
    await enrol(bot, SQUATTER, "en", company="PT Astra Komponen", contact="Joko")
    await enrol(bot, OWNER, "en", company="PT Astra Komponen", contact="Budi Hartono")
    # Each staff member presses Approve on a different card at the same moment.
    await bot.text(STAFF_ID, "/pending")  # the latest card is the second enrolment's
    await bot.text(OTHER_STAFF_ID, "/pending")
    joko = next(m for m in reversed(bot.sandbox.messages(OTHER_STAFF_ID))
                if "Contact: Joko" in (m.text or "") and m.buttons)
    bot.sandbox.press_button(STAFF_ID, "Approve")
    bot.sandbox.press(OTHER_STAFF_ID, joko.buttons[0][0]["callback_data"],
                      message_id=joko.message_id)
    await bot.settle()
    statuses = sorted([(await enterprise_of(bot, SQUATTER)).status.value,
                       (await enterprise_of(bot, OWNER)).status.value])
    assert statuses == ["approved", "pending"]
    answers = [a.get("text") or "" for a in bot.sandbox.callback_answers()]
    assert sum("Not approved" in a for a in answers) == 1


async def test_the_waiting_owner_updates_their_own_enrolment(bot: BotHarness) -> None:
    """The owner of one of two namesakes corrects it: their own is updated, not doubled."""
    await enrol(bot, SQUATTER, "en", company="PT Astra Komponen")
    await enrol(bot, OWNER, "en", company="PT Astra Komponen")
    await bot.text(OWNER, "/enrol")
    await bot.press(OWNER, "✏️ Workers")
    await bot.text(OWNER, "150")
    await bot.press(OWNER, "Confirm")
    assert (await enterprise_of(bot, OWNER)).worker_count == 150
    assert await _count(bot) == 2


async def test_a_rename_decided_as_a_namesake_is_approved_keeps_the_name(
        bot: BotHarness, monkeypatch: pytest.MonkeyPatch) -> None:
    """Staff approve a rename to "PT Dua" while another staff member approves an enrolment
    "PT Dua" in the same city: the database's unique index refuses the second; decided
    again, the rename is not applied (and staff are not shown an error)."""
    satu = await factories.enterprise(bot, owner=1001, name="PT Satu", owner_language="en")
    await factories.enterprise(bot, owner=1002, name="PT Dua")
    async with bot.sessionmaker() as session, session.begin():
        row = await session.get(Enterprise, satu.id)
        assert row is not None
        row.proposed_name, row.proposed_city = "PT Dua", "Bekasi"
    real, calls = enterprises_db.namesakes, []

    async def not_seen_yet(*args: object, **kwargs: object) -> list[Enterprise]:
        calls.append(args)  # the first decision runs before PT Dua's approval is visible
        return [] if len(calls) == 1 else await real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(enterprises_db, "namesakes", not_seen_yet)
    assert bot.app is not None
    decided = await enrolment_review.decide_change(services_of(bot.app), satu.id, approve=True)
    assert decided is not None and decided.name == "PT Satu"
    assert decided.proposed_name is None and len(calls) == 2
    await bot.settle()
    assert "kept the approved name" in bot.last_text(1001)  # the owner hears what stands


async def test_a_rename_to_a_waiting_enrolments_name_warns_staff(bot: BotHarness) -> None:
    await _staff(bot)
    await factories.enterprise(bot, owner=1001, name="PT Satu", owner_language="en")
    dua = await factories.enterprise(bot, owner=1002, name="PT Dua", status="pending")
    await bot.text(1001, "/enrol")
    await bot.press(1001, "✏️ Company")
    await bot.text(1001, "PT Dua")
    await bot.press(1001, "Confirm")
    await bot.settle()
    card = next(t for t in reversed(bot.texts(STAFF_ID)) if "Change to approve" in t)
    assert "PT Satu → PT Dua" in card
    assert (f"⚠️ No. {dua.id} is waiting under the proposed name in that city (contact: "
            f"Sari, +6281234567890). Once this change is approved, no. {dua.id} cannot be "
            "approved.") in card
