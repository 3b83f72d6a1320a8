"""SME enrolment end to end: both languages, edits, approval, rejection, duplicates."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import func, select

from chat.clock import FakeClock
from chat.context import services_of
from db import review as review_db
from db.models import (
    Enterprise,
    EnterpriseStatus,
    MemberRole,
    Membership,
    ModuleInterest,
    User,
    UserDraft,
)
from db.review import NameApproved
from services import enrolment_review
from tests import factories
from tests.conftest import OTHER_STAFF_ID, STAFF_ID
from tests.harness import BotHarness
from tests.journeys import answer_enrolment, enrol, enterprise_of, onboard

OWNER = 1001
OWNER2 = 1002


async def _count(bot: BotHarness, model: type) -> int:
    async with bot.sessionmaker() as session:
        return await session.scalar(select(func.count()).select_from(model)) or 0


async def _open_staff_chats(bot: BotHarness) -> None:
    for staff in (STAFF_ID, OTHER_STAFF_ID):
        bot.sandbox.add_user(staff, f"Staff {staff}", language_code="en")
        await bot.text(staff, "/help")


async def test_enrolment_in_indonesian_stores_pending_and_tells_staff(bot: BotHarness) -> None:
    await _open_staff_chats(bot)
    enterprise = await enrol(bot, OWNER, "id")
    assert enterprise.status == EnterpriseStatus.PENDING
    assert enterprise.name == "PT Maju Jaya" and enterprise.province == "JB"
    assert enterprise.city == "Bekasi" and enterprise.worker_count == 120
    assert enterprise.phone == "+6281234567890" and enterprise.join_code is None
    async with bot.sessionmaker() as session:
        modules = list(await session.scalars(select(ModuleInterest.module)))
        member = await session.scalar(select(Membership))
        owner = await session.get(User, OWNER)
    assert sorted(modules) == [1, 5]
    assert member is not None and member.role == MemberRole.OWNER
    assert owner is not None and owner.role is not None and owner.role.value == "owner"
    assert "SCORE" in bot.last_text(OWNER)
    for staff in (STAFF_ID, OTHER_STAFF_ID):
        notice = bot.sandbox.last_message(staff)
        assert "PT Maju Jaya" in (notice.text or "")
        assert {b["text"] for row in notice.buttons for b in row} >= {"✅ Approve", "❌ Reject"}
    # The draft is gone once confirmed.
    assert bot.app is not None and "enrol" not in bot.draft(OWNER)


async def test_enrolment_in_english_with_typed_province_and_note_on_size(bot: BotHarness) -> None:
    await onboard(bot, OWNER, "en")
    assert "name of your company" in bot.last_text(OWNER)
    await answer_enrolment(bot, OWNER, "en", province="central java", workers="1.200",
                           phone="+62 21 555 1234")
    texts = "\n".join(bot.texts(OWNER))
    assert "designed for enterprises with 50 to 200" in texts
    summary = bot.last_text(OWNER)
    assert "Central Java" in summary and "1,200" in summary and "+62215551234" in summary
    await bot.press(OWNER, "Confirm")
    enterprise = await enterprise_of(bot, OWNER)
    assert enterprise.province == "JT" and enterprise.worker_count == 1200


async def test_province_by_pages_and_ambiguous_name(bot: BotHarness) -> None:
    await onboard(bot, OWNER, "en")
    await bot.text(OWNER, "PT Papua Baru")
    await bot.press(OWNER, "Auto parts")
    await bot.press(OWNER, "More")
    await bot.press(OWNER, "More")
    await bot.press(OWNER, "Previous")
    await bot.text(OWNER, "papua")
    assert "Which one" in bot.last_text(OWNER)
    await bot.press(OWNER, "South Papua")
    assert "city" in bot.last_text(OWNER)
    assert bot.app is not None
    assert bot.draft(OWNER)["enrol"]["province"] == "PS"


async def test_edit_from_summary_returns_to_summary(bot: BotHarness) -> None:
    await onboard(bot, OWNER, "en")
    await answer_enrolment(bot, OWNER, "en")
    await bot.press(OWNER, "✏️ Workers")
    await bot.text(OWNER, "80")
    assert "Workers: 80" in bot.last_text(OWNER)
    await bot.press(OWNER, "✏️ Sector")
    await bot.press(OWNER, "Other")
    await bot.text(OWNER, "Pembuatan baut")
    assert "Sector: Pembuatan baut" in bot.last_text(OWNER)
    await bot.press(OWNER, "✏️ Modules")
    await bot.press(OWNER, "3.")
    await bot.press(OWNER, "Done")
    assert "Productivity through Cleaner Production" in bot.last_text(OWNER)
    await bot.press(OWNER, "Confirm")
    enterprise = await enterprise_of(bot, OWNER)
    assert enterprise.worker_count == 80 and enterprise.sector == "other"
    assert enterprise.sector_other == "Pembuatan baut"


async def test_approval_sends_code_link_and_poster_and_tells_other_staff(bot: BotHarness) -> None:
    await _open_staff_chats(bot)
    await enrol(bot, OWNER, "id")
    await bot.press(STAFF_ID, "Approve")
    enterprise = await enterprise_of(bot, OWNER)
    assert enterprise.status == EnterpriseStatus.APPROVED and enterprise.decided_by == STAFF_ID
    assert enterprise.join_code and len(enterprise.join_code) == 6
    messages = bot.sandbox.messages(OWNER)
    assert any(enterprise.join_code in (m.text or "") and
               f"t.me/{bot.sandbox.username}?start=join-{enterprise.join_code}" in (m.text or "")
               for m in messages)
    poster = messages[-1]
    # A file, not a photo: Telegram would recompress a photo into a JPEG.
    assert poster.document and poster.document.startswith(b"\x89PNG")
    assert poster.document_name == f"SCORE-{enterprise.join_code}.png"
    other = bot.sandbox.last_message(OTHER_STAFF_ID)
    assert "Approved by Staff 9001" in (other.text or "") and not other.buttons
    # A second decision is answered, not applied.
    bot.sandbox.press(OTHER_STAFF_ID, other_data := _data(bot, OTHER_STAFF_ID, "Reject"))
    await bot.settle()
    assert other_data
    answers = bot.sandbox.callback_answers(OTHER_STAFF_ID)
    assert "Already decided" in (answers[-1].get("text") or "")
    assert (await enterprise_of(bot, OWNER)).status == EnterpriseStatus.APPROVED


def _data(bot: BotHarness, user_id: int, label: str) -> str:
    """Callback data of a button the bot once sent to this user (edits may have removed it)."""
    for call in reversed(bot.sandbox.calls_of("sendMessage")):
        if call.params.get("chat_id") != user_id:
            continue
        markup = call.params.get("reply_markup") or {}
        for row in markup.get("inline_keyboard", []):
            for button in row:
                if label in button["text"]:
                    return button["callback_data"]
    raise LookupError(label)


async def test_rejection_asks_reason_and_tells_owner(bot: BotHarness) -> None:
    await _open_staff_chats(bot)
    await enrol(bot, OWNER, "en")
    await bot.press(STAFF_ID, "Reject")
    assert "Why" in bot.last_text(STAFF_ID)
    bot.sandbox.send_photo(STAFF_ID)
    await bot.settle()
    assert "Please write why PT Maju Jaya is rejected" in bot.last_text(STAFF_ID)
    await bot.text(STAFF_ID, "x" * 600)
    assert bot.last_text(STAFF_ID) == (
        "That is too long: at most 500 characters, please. Type /cancel to stop.")
    await bot.text(STAFF_ID, "Not a manufacturer")
    enterprise = await enterprise_of(bot, OWNER)
    assert enterprise.status == EnterpriseStatus.REJECTED
    assert enterprise.reject_reason == "Not a manufacturer"
    assert "Not a manufacturer" in bot.last_text(OWNER)
    assert "Rejected by" in bot.last_text(OTHER_STAFF_ID)
    # The owner corrects it: /enrol offers the stored data, confirming sends it back to staff.
    await bot.text(OWNER, "/enrol")
    assert "PT Maju Jaya" in bot.last_text(OWNER)
    await bot.press(OWNER, "Confirm")
    assert (await enterprise_of(bot, OWNER)).status == EnterpriseStatus.PENDING
    assert await _count(bot, Enterprise) == 1


async def test_enrol_again_offers_update(bot: BotHarness) -> None:
    await enrol(bot, OWNER, "en")
    await bot.text(OWNER, "/enrol")
    assert "already enrolled" in "\n".join(bot.texts(OWNER)[-2:])
    await bot.press(OWNER, "✏️ City")
    await bot.text(OWNER, "Karawang")
    await bot.press(OWNER, "Confirm")
    assert (await enterprise_of(bot, OWNER)).city == "Karawang"
    assert await _count(bot, Enterprise) == 1


async def test_same_name_in_same_city_is_not_created_twice(bot: BotHarness) -> None:
    await _open_staff_chats(bot)
    await enrol(bot, OWNER, "en")
    await bot.press(STAFF_ID, "Approve")
    await onboard(bot, OWNER2, "en")
    await bot.text(OWNER2, "pt  maju jaya")
    await bot.press(OWNER2, "Auto parts")
    await bot.text(OWNER2, "West Java")
    await bot.text(OWNER2, "bekasi")
    assert "already enrolled and approved" in bot.last_text(OWNER2)
    assert "admin invite link" in bot.last_text(OWNER2)
    assert await _count(bot, Enterprise) == 1


async def test_non_staff_cannot_approve_even_with_a_signed_button(bot: BotHarness) -> None:
    await enrol(bot, OWNER, "en")
    # The owner forges an approve button for the enterprise.
    signer = services_of(bot.app).signer  # type: ignore[arg-type]
    enterprise = await enterprise_of(bot, OWNER)
    bot.sandbox.press(OWNER, signer.data(OWNER, "apr", str(enterprise.id)))
    await bot.settle()
    assert (await enterprise_of(bot, OWNER)).status == EnterpriseStatus.PENDING


async def test_two_owners_enrol_at_once(bot: BotHarness) -> None:

    await asyncio.gather(enrol(bot, OWNER, "id", company="PT Satu"),
                         enrol(bot, OWNER2, "en", company="PT Dua", city="Semarang",
                               province="jateng"))
    one, two = await enterprise_of(bot, OWNER), await enterprise_of(bot, OWNER2)
    assert (one.name, one.city) == ("PT Satu", "Bekasi")
    assert (two.name, two.city, two.province) == ("PT Dua", "Semarang", "JT")



async def test_two_staff_deciding_at_once_one_wins(bot: BotHarness) -> None:
    await _open_staff_chats(bot)
    await enrol(bot, OWNER, "en")
    bot.sandbox.press_button(STAFF_ID, "Approve")
    bot.sandbox.press_button(OTHER_STAFF_ID, "Approve")
    await bot.settle()
    enterprise = await enterprise_of(bot, OWNER)
    assert enterprise.status == EnterpriseStatus.APPROVED
    codes = [m.text for m in bot.sandbox.messages(OWNER) if m.text and "Join code" in m.text]
    assert enterprise.join_code is not None
    assert len(codes) == 1 and enterprise.join_code in codes[0]
    answers = [a.get("text") or "" for a in bot.sandbox.callback_answers()]
    assert sum("Already decided" in a for a in answers) == 1


async def test_confirm_is_atomic_with_the_draft(bot: BotHarness) -> None:
    """Killed after the enterprise was stored but before the state was: no half state."""
    await onboard(bot, OWNER, "en")
    await answer_enrolment(bot, OWNER, "en")
    assert bot.app is not None and bot.app.persistence is not None

    async def lost(*_args: object) -> None:
        return None

    bot.app.persistence.commit = lost  # type: ignore[attr-defined]
    await bot.press(OWNER, "Confirm")
    await bot.restart(hard=True)
    async with bot.sessionmaker() as session:
        assert await session.get(UserDraft, OWNER) is None
    await bot.press(OWNER, "Confirm")
    assert "no longer active" in (bot.sandbox.callback_answers(OWNER)[-1].get("text") or "")
    assert await _count(bot, Enterprise) == 1
    # Enrolling the same name again from scratch updates it instead of refusing the owner.
    await bot.text(OWNER, "/enrol")
    assert "already enrolled" in "\n".join(bot.texts(OWNER)[-2:])


async def test_names_with_html_characters_are_shown_as_written(bot: BotHarness) -> None:
    await _open_staff_chats(bot)
    await enrol(bot, OWNER, "en", company="PT A<B & Sons")
    assert "PT A<B & Sons" in (bot.sandbox.last_message(STAFF_ID).text or "")
    await bot.press(STAFF_ID, "Approve")
    assert any("PT A<B & Sons" in t for t in bot.texts(OWNER))
    code = (await enterprise_of(bot, OWNER)).join_code
    await onboard(bot, 2001, "en", role="worker")
    await bot.text(2001, code or "")
    assert "PT A<B & Sons" in bot.last_text(2001)


async def test_reject_on_another_enrolment_switches_and_commands_are_not_reasons(
        bot: BotHarness) -> None:
    await _open_staff_chats(bot)
    await enrol(bot, OWNER, "en", company="PT Satu")
    await enrol(bot, OWNER2, "en", company="PT Dua")
    first = [m for m in bot.sandbox.messages(STAFF_ID) if "PT Satu" in (m.text or "")][0]
    second = [m for m in bot.sandbox.messages(STAFF_ID) if "PT Dua" in (m.text or "")][0]
    bot.sandbox.press(STAFF_ID, first.buttons[0][1]["callback_data"], message_id=first.message_id)
    await bot.settle()
    bot.sandbox.press(STAFF_ID, second.buttons[0][1]["callback_data"],
                      message_id=second.message_id)
    await bot.settle()
    assert "PT Dua" in bot.last_text(STAFF_ID)
    await bot.text(STAFF_ID, "/help")
    assert "PT Dua" in bot.last_text(STAFF_ID) and "/cancel" in bot.last_text(STAFF_ID)
    await bot.text(STAFF_ID, "Duplicate enrolment")
    assert (await enterprise_of(bot, OWNER2)).status == EnterpriseStatus.REJECTED
    assert (await enterprise_of(bot, OWNER)).status == EnterpriseStatus.PENDING


async def test_a_rejected_owner_is_told_why_and_how_to_resubmit(bot: BotHarness) -> None:
    await _open_staff_chats(bot)
    await enrol(bot, OWNER, "en")
    await bot.press(STAFF_ID, "Reject")
    await bot.text(STAFF_ID, "Please give the full company name")
    for command in ("/code", "/invite"):
        await bot.text(OWNER, command)
        text = bot.last_text(OWNER)
        assert "did not approve" in text and "Please give the full company name" in text
        assert "/enrol" in text and "waiting for approval" not in text


async def test_approving_from_pending_edits_that_card(bot: BotHarness) -> None:
    await _open_staff_chats(bot)
    await enrol(bot, OWNER, "en", company="PT Kartu")
    await bot.text(STAFF_ID, "/pending")
    card = bot.sandbox.last_message(STAFF_ID)
    assert "PT Kartu" in (card.text or "") and card.buttons
    bot.sandbox.press(STAFF_ID, card.buttons[0][0]["callback_data"], message_id=card.message_id)
    await bot.settle()
    edited = next(m for m in bot.sandbox.messages(STAFF_ID) if m.message_id == card.message_id)
    assert "Approved by Staff 9001" in (edited.text or "") and not edited.buttons


async def test_the_owners_news_is_retried_when_telegram_refuses_it(bot: BotHarness,
                                                                   clock: FakeClock) -> None:
    await _open_staff_chats(bot)
    await enrol(bot, OWNER, "en")
    bot.sandbox.fail("sendMessage", chat_id=OWNER, error_code=502, description="Bad Gateway")
    await bot.press(STAFF_ID, "Approve")
    assert not any("Good news" in t for t in bot.texts(OWNER))
    clock.advance(3)  # the sender's back-off after a 502: two seconds
    await bot.settle()
    assert any(m.document for m in bot.sandbox.messages(OWNER))
    code = (await enterprise_of(bot, OWNER)).join_code
    assert code is not None
    texts = "\n".join(bot.texts(OWNER))
    assert "Good news" in texts and f"<b>{code}</b>" not in texts and code in texts


async def test_an_approved_owners_new_name_waits_for_staff(bot: BotHarness) -> None:
    await _open_staff_chats(bot)
    await enrol(bot, OWNER, "en", company="PT Lama")
    await bot.press(STAFF_ID, "Approve")
    code = (await enterprise_of(bot, OWNER)).join_code
    await bot.text(OWNER, "/enrol")
    await bot.press(OWNER, "✏️ Company")
    await bot.text(OWNER, "PT Baru")
    await bot.press(OWNER, "✏️ Contact")
    await bot.text(OWNER, "Budi Santoso")
    await bot.press(OWNER, "Confirm")
    assert "goes to the SCORE team for approval" in bot.last_text(OWNER)
    enterprise = await enterprise_of(bot, OWNER)
    # Contact at once; the name waits, and the code keeps working.
    assert (enterprise.name, enterprise.contact_name) == ("PT Lama", "Budi Santoso")
    assert enterprise.proposed_name == "PT Baru" and enterprise.join_code == code
    notice = bot.sandbox.last_message(STAFF_ID)
    assert "PT Lama → PT Baru" in (notice.text or "")
    # Rejected: kept as approved, the owner is told.
    bot.sandbox.press(STAFF_ID, notice.buttons[0][1]["callback_data"], message_id=notice.message_id)
    await bot.settle()
    enterprise = await enterprise_of(bot, OWNER)
    assert enterprise.name == "PT Lama" and enterprise.proposed_name is None
    assert "kept the approved name" in bot.last_text(OWNER)
    # Proposed again and approved: applied.
    await bot.text(OWNER, "/enrol")
    await bot.press(OWNER, "✏️ Company")
    await bot.text(OWNER, "PT Baru")
    await bot.press(OWNER, "Confirm")
    await bot.press(STAFF_ID, "Approve")
    enterprise = await enterprise_of(bot, OWNER)
    assert enterprise.name == "PT Baru" and enterprise.join_code == code
    assert "approved the new details of PT Baru" in bot.last_text(OWNER)


# --- workers and admins who want to enrol their own enterprise ------------------------------
async def test_a_wrong_tap_on_worker_does_not_lock_out_enrolling(bot: BotHarness) -> None:
    """Pressed "Employee" at the role question, joined nothing: /enrol works after /cancel."""
    await onboard(bot, OWNER, "en", role="worker")
    assert "join code" in bot.last_text(OWNER)
    await bot.text(OWNER, "/cancel")
    await bot.text(OWNER, "/enrol")
    assert "name of your company" in bot.last_text(OWNER)
    await answer_enrolment(bot, OWNER, "en")
    await bot.press(OWNER, "Confirm")
    assert (await enterprise_of(bot, OWNER)).status == EnterpriseStatus.PENDING
    async with bot.sessionmaker() as session:
        owner = await session.get(User, OWNER)
    assert owner is not None and owner.role is not None and owner.role.value == "owner"


async def test_a_worker_hears_how_to_enrol_their_own_enterprise(bot: BotHarness) -> None:
    place = await factories.enterprise(bot, owner=OWNER)
    await factories.worker(bot, 2001, place, language="id")
    await bot.text(2001, "/enrol")
    said = bot.last_text(2001)
    assert said == ("Anda terdaftar sebagai pekerja di PT Maju Jaya. Jika Anda sudah tidak "
                    "bekerja di sana dan ingin mendaftarkan perusahaan Anda sendiri, ketik "
                    "/leave dulu, lalu /enrol.")
    assert bot.open_flow(2001) is None
    # Doing as told: /leave, then /enrol starts the enrolment.
    await bot.text(2001, "/leave")
    await bot.press(2001, "Saya sudah tidak bekerja di sini")
    await bot.text(2001, "/enrol")
    assert "Apa nama perusahaan" in bot.last_text(2001)
    await answer_enrolment(bot, 2001, "id", company="PT Usaha Sendiri")
    await bot.press(2001, "Konfirmasi")
    mine = await enterprise_of(bot, 2001)
    assert mine.name == "PT Usaha Sendiri" and mine.status == EnterpriseStatus.PENDING


async def test_an_admin_hears_how_to_enrol_their_own_enterprise(bot: BotHarness) -> None:
    place = await factories.enterprise(bot, owner=OWNER)
    await factories.worker(bot, 2002, place, role="admin", language="en")
    await bot.text(2002, "/enrol")
    assert bot.last_text(2002) == ("You are registered as an admin of PT Maju Jaya. To enrol "
                                   "your own enterprise, please send /leave first, then /enrol.")
    assert bot.open_flow(2002) is None


async def test_the_owners_news_names_the_enterprise_as_it_is_when_approved(
        bot: BotHarness, monkeypatch: pytest.MonkeyPatch) -> None:
    """The news is rendered before the decision's transaction; a name changed in between
    (the owner editing the enrolment) makes the decision render it again: no news with the
    old name, and the news is queued once."""
    await _open_staff_chats(bot)
    await enrol(bot, OWNER, "en")
    real, calls = review_db.news_basis, []

    async def rendered_before_a_rename(*args: Any) -> tuple[str, str] | None:
        calls.append(args)
        found = await real(*args)
        return ("PT Nama Lama", found[1]) if found and len(calls) == 1 else found

    monkeypatch.setattr(review_db, "news_basis", rendered_before_a_rename)
    await bot.press(STAFF_ID, "Approve")
    enterprise = await enterprise_of(bot, OWNER)
    assert enterprise.status == EnterpriseStatus.APPROVED and len(calls) == 2
    texts = [m.text or "" for m in bot.sandbox.messages(OWNER)]
    assert not any("PT Nama Lama" in t for t in texts)
    assert sum(f"Good news: {enterprise.name} is approved" in t for t in texts) == 1
    assert sum(enterprise.join_code in t for t in texts if enterprise.join_code) == 1


async def test_a_pending_enrolment_with_a_kept_join_code_can_be_rejected(
        bot: BotHarness) -> None:
    """Approved once (it has a code on its poster), then pending again: rejecting it needs
    no code, and the owner is told why."""
    enterprise = await factories.enterprise(bot, owner=OWNER, code="K7P2QX",
                                            owner_language="en")
    async with bot.sessionmaker() as session, session.begin():
        row = await session.get(Enterprise, enterprise.id)
        assert row is not None
        row.status = EnterpriseStatus.PENDING
    assert bot.app is not None
    decided = await enrolment_review.reject(services_of(bot.app), enterprise.id, STAFF_ID,
                                            "Not in the programme area")
    assert decided is not None and not isinstance(decided, NameApproved)
    rejected, _owner = decided
    assert rejected.status is EnterpriseStatus.REJECTED and rejected.join_code == "K7P2QX"
    await bot.settle()
    assert "Not in the programme area" in bot.last_text(OWNER)


async def test_approval_news_is_two_messages_the_code_then_the_poster(bot: BotHarness) -> None:
    await _open_staff_chats(bot)
    await enrol(bot, OWNER, "en")
    before = len(bot.sandbox.messages(OWNER))
    await bot.press(STAFF_ID, "Approve")
    news, poster = bot.sandbox.messages(OWNER)[before:]
    assert (news.text or "").startswith("Good news:") and "Join code:" in (news.text or "")
    assert poster.document is not None


async def test_enrol_typed_at_the_role_question_answers_it(bot: BotHarness) -> None:
    """The guides say "choose the owner button, or send /enrol": typed at the role question,
    /enrol starts the enrolment rather than asking to answer first."""
    await onboard(bot, OWNER, "en", role=None)
    assert "enrol your enterprise, or to join" in bot.last_text(OWNER)
    await bot.text(OWNER, "/enrol")
    assert "What is the name of your company?" in bot.last_text(OWNER)
    # Sent again at that first question, it asks the same question again.
    await bot.text(OWNER, "/enrol")
    assert "What is the name of your company?" in bot.last_text(OWNER)
    await answer_enrolment(bot, OWNER, "en")
    await bot.press(OWNER, "Confirm")
    assert (await enterprise_of(bot, OWNER)).name == "PT Maju Jaya"


async def test_join_typed_at_the_role_question_asks_for_the_code(bot: BotHarness) -> None:
    await onboard(bot, OWNER, "en", role=None)
    await bot.text(OWNER, "/join")
    assert "send the join code" in bot.last_text(OWNER)
