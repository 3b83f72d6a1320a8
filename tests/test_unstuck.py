"""Roles follow facts, and nobody is stuck: a wrong tap, chat while waiting for a code, a
newcomer whose first message is the poster's code, a trainer who tries to enrol."""

from __future__ import annotations

from sqlalchemy import func, select

from db.models import Enterprise, EnterpriseStatus, JoinAttempt, Membership, Role, User
from tests import factories
from tests.conftest import STAFF_ID
from tests.harness import BotHarness
from tests.journeys import answer_enrolment, enrol, enterprise_of, onboard

OWNER, OWNER2, WORKER, TRAINER = 1001, 1002, 2001, 5001


async def _approved_code(bot: BotHarness) -> str:
    bot.sandbox.add_user(STAFF_ID, "Staff", language_code="en")
    await bot.text(STAFF_ID, "/help")
    await enrol(bot, OWNER, "en")
    await bot.press(STAFF_ID, "Approve")
    enterprise = await enterprise_of(bot, OWNER)
    assert enterprise.status == EnterpriseStatus.APPROVED and enterprise.join_code
    return enterprise.join_code


async def _user(bot: BotHarness, user_id: int) -> User:
    async with bot.sessionmaker() as session:
        user = await session.get(User, user_id)
    assert user is not None
    return user


async def _member(bot: BotHarness, user_id: int) -> bool:
    async with bot.sessionmaker() as session:
        return await session.scalar(select(func.count()).select_from(Membership).where(
            Membership.user_id == user_id, Membership.left_at.is_(None))) == 1


async def test_tapping_owner_by_mistake_locks_nothing(bot: BotHarness) -> None:
    code = await _approved_code(bot)
    await onboard(bot, WORKER, "en", role="owner")
    assert "name of your company" in bot.last_text(WORKER)
    assert (await _user(bot, WORKER)).role is None
    await bot.text(WORKER, "/cancel")
    # The poster's link, then: joins as a worker.
    await bot.text(WORKER, f"/start join-{code}")
    assert await _member(bot, WORKER)
    assert (await _user(bot, WORKER)).role is Role.WORKER


async def test_tapping_worker_by_mistake_locks_nothing(bot: BotHarness) -> None:
    await onboard(bot, OWNER2, "en", role="worker")
    assert "join code" in bot.last_text(OWNER2)
    await bot.text(OWNER2, "/cancel")
    await bot.text(OWNER2, "/enrol")
    assert "name of your company" in bot.last_text(OWNER2)


async def test_a_worker_who_left_is_no_longer_a_worker(bot: BotHarness) -> None:
    code = await _approved_code(bot)
    await onboard(bot, WORKER, "en", role="worker")
    await bot.text(WORKER, code)
    await bot.text(WORKER, "/leave")
    await bot.press(WORKER, "I no longer work here")
    assert (await _user(bot, WORKER)).role is None
    await bot.text(WORKER, "/enrol")
    assert "name of your company" in bot.last_text(WORKER)


async def test_a_newcomers_first_message_may_be_the_code(bot: BotHarness) -> None:
    code = await _approved_code(bot)
    bot.sandbox.add_user(WORKER, "Ani", language_code="id")
    await bot.text(WORKER, code.lower())
    assert "bahasa" in bot.last_text(WORKER).lower()
    await bot.press(WORKER, "Bahasa Indonesia")
    await bot.press(WORKER, "Setuju")
    assert await _member(bot, WORKER)
    assert "PT Maju Jaya" in bot.last_text(WORKER)


async def test_chat_while_waiting_for_a_code_is_not_a_wrong_code(bot: BotHarness) -> None:
    code = await _approved_code(bot)
    await onboard(bot, WORKER, "id", role="worker")
    for chatter in ("mantap", "terima kasih", "ok pak", "mantap", "siap", "oke", "ya"):
        await bot.text(WORKER, chatter)
        assert "poster SCORE" in bot.last_text(WORKER)
    async with bot.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(JoinAttempt)) == 0
    await bot.text(WORKER, code)
    assert await _member(bot, WORKER)


async def test_tries_left_are_said_from_the_third_wrong_code(bot: BotHarness) -> None:
    await _approved_code(bot)
    await onboard(bot, WORKER, "en", role="worker")
    await bot.text(WORKER, "ZZZ222")
    await bot.text(WORKER, "ZZZ223")
    assert "more time" not in bot.last_text(WORKER)
    await bot.text(WORKER, "ZZZ224")
    assert "You can try 3 more times." in bot.last_text(WORKER)
    await bot.text(WORKER, "ZZZ225")
    await bot.text(WORKER, "ZZZ226")
    assert "You can try 1 more time." in bot.last_text(WORKER)
    await bot.text(WORKER, "ZZZ227")
    assert "Too many wrong codes" in bot.last_text(WORKER)


async def test_join_then_the_code_in_the_next_message(bot: BotHarness) -> None:
    code = await _approved_code(bot)
    await onboard(bot, WORKER, "en", role=None)
    await bot.text(WORKER, "/cancel")
    await bot.text(WORKER, "/join")
    assert "join code" in bot.last_text(WORKER)
    await bot.text(WORKER, code)
    assert await _member(bot, WORKER)
    assert "deleted after 14 days" not in "\n".join(bot.texts(WORKER))


async def test_a_trainer_who_enrols_stays_a_trainer(bot: BotHarness) -> None:
    await onboard(bot, TRAINER, "en", role=None)
    await bot.text(TRAINER, "/cancel")
    async with bot.sessionmaker() as session, session.begin():
        user = await session.get(User, TRAINER)
        assert user is not None
        user.role = Role.TRAINER
    await bot.text(TRAINER, "/enrol")
    assert "stay a SCORE trainer" in bot.last_text(TRAINER)
    assert (await _user(bot, TRAINER)).role is Role.TRAINER
    assert bot.open_flow(TRAINER) is None


async def test_numbers_with_words_and_a_tidy_city(bot: BotHarness) -> None:
    await onboard(bot, OWNER, "en")
    await answer_enrolment(bot, OWNER, "en", city="semarang", workers="sekitar 150 orang",
                           province="jateng")
    assert "Workers: 150" in bot.last_text(OWNER)
    assert "City/regency: Semarang" in bot.last_text(OWNER)
    await bot.press(OWNER, "Confirm")
    enterprise = await enterprise_of(bot, OWNER)
    assert (enterprise.city, enterprise.worker_count) == ("Semarang", 150)


async def test_same_name_and_city_confirmed_at_the_same_instant(bot: BotHarness) -> None:
    """Neither is approved yet: both go to staff, who decide which one is real."""
    for owner in (OWNER, OWNER2):
        await onboard(bot, owner, "en")
        await answer_enrolment(bot, owner, "en", company="PT Kembar", city="Bekasi")
    bot.sandbox.press_button(OWNER, "Confirm")
    bot.sandbox.press_button(OWNER2, "Confirm")
    await bot.settle()
    async with bot.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(Enterprise)) == 2
    lasts = [bot.last_text(OWNER), bot.last_text(OWNER2)]
    assert all("sent to the SCORE team" in text for text in lasts)


# --- found by trying the bot as newcomers ---------------------------------------------------
async def test_the_code_typed_as_a_company_name_joins(bot: BotHarness) -> None:
    place = await factories.enterprise(bot, owner=OWNER, code="K7P2QX")
    await onboard(bot, WORKER, "id", role="owner")
    await bot.text(WORKER, "k7p2qx")
    assert await _member(bot, WORKER)
    assert place.name in bot.last_text(WORKER)


async def test_join_with_the_code_at_the_first_question(bot: BotHarness) -> None:
    await factories.enterprise(bot, owner=OWNER, code="K7P2QX")
    await onboard(bot, WORKER, "en", role=None)
    await bot.text(WORKER, "/join K7P2QX")
    assert await _member(bot, WORKER)


async def test_chat_is_not_taken_as_a_company_name(bot: BotHarness) -> None:
    await onboard(bot, OWNER, "id")
    await bot.text(OWNER, "ok pak")
    assert "bukan nama" in bot.last_text(OWNER)
    assert bot.step(OWNER) == "e_name"


async def test_a_code_of_another_enterprise_asks_before_moving(bot: BotHarness) -> None:
    first = await factories.enterprise(bot, owner=OWNER, name="PT Satu", code="K7P2QX")
    await factories.enterprise(bot, owner=OWNER2, name="PT Dua", code="M8N3RY")
    await factories.worker(bot, WORKER, first, language="en")
    await bot.text(WORKER, "K7P2QX")
    assert "already registered at PT Satu" in bot.last_text(WORKER)
    await bot.text(WORKER, "M8N3RY")
    assert "Do you now work at PT Dua?" in bot.last_text(WORKER)
    await bot.press(WORKER, "No, I still work")
    await bot.text(WORKER, "/join M8N3RY")
    await bot.press(WORKER, "Yes, I now work")
    async with bot.sessionmaker() as session:
        member = await session.scalar(select(Membership).where(
            Membership.user_id == WORKER, Membership.left_at.is_(None)))
    assert member is not None and member.enterprise_id != first.id


async def test_an_admin_can_leave_too(bot: BotHarness) -> None:
    place = await factories.enterprise(bot, owner=OWNER)
    await factories.worker(bot, WORKER, place, role="admin", language="en")
    await bot.text(WORKER, "/leave")
    await bot.press(WORKER, "I no longer work here")
    assert not await _member(bot, WORKER)
    assert (await _user(bot, WORKER)).role is None


async def test_a_new_province_asks_for_the_city_again(bot: BotHarness) -> None:
    await onboard(bot, OWNER, "en")
    await answer_enrolment(bot, OWNER, "en", city="Bekasi", province="jabar")
    await bot.press(OWNER, "✏️ Province")
    await bot.text(OWNER, "Lampung")
    assert "city" in bot.last_text(OWNER)
    await bot.text(OWNER, "Bandar Lampung")
    assert "Please check" in bot.last_text(OWNER) and "Bandar Lampung" in bot.last_text(OWNER)


async def test_staff_lists_work_inside_a_staff_question(bot: BotHarness) -> None:
    await factories.staff(bot)
    await factories.enterprise(bot, owner=OWNER, status="pending", name="PT Tunggu")
    await bot.text(STAFF_ID, "/staff")
    await bot.text(STAFF_ID, "/pending")
    assert any("PT Tunggu" in t for t in bot.texts(STAFF_ID)[-3:])
    assert "What would you like to do?" in bot.last_text(STAFF_ID)
