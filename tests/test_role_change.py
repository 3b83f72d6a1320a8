"""Staff change someone's role while a question of theirs is open: first contact's role
question, an enrolment, a move to another enterprise, a staff tool. The question was asked for
the role they had, so the flow ends (its draft gone) and they hear, in their role's words,
what they can do now; nothing they send meanwhile is taken for the old question."""

from __future__ import annotations

from sqlalchemy import select

from db.models import Enterprise, Membership, Role, User
from tests import factories
from tests.conftest import STAFF_ID
from tests.harness import BotHarness
from tests.journeys import answer_enrolment, onboard

BUDI = 3002   # new, no role yet
SARI = 3001   # an owner
ANI = 3004    # a worker

CLOSED = "question you were answering is closed"


async def _staff_does(bot: BotHarness, action: str, target: int) -> None:
    """Staff use /staff as they would: the target is told of the change right away."""
    await factories.staff(bot)
    await bot.text(STAFF_ID, "/staff")
    await bot.press(STAFF_ID, action)
    await bot.text(STAFF_ID, str(target))
    await bot.press(STAFF_ID, "Yes")


async def _role(bot: BotHarness, user_id: int) -> str | None:
    async with bot.sessionmaker() as session:
        user = await session.get(User, user_id)
    assert user is not None
    return user.role.value if user.role else None


async def test_made_trainer_at_the_role_question_hears_what_trainers_do(
        bot: BotHarness) -> None:
    await onboard(bot, BUDI, "en", role=None, name="Budi")
    assert bot.step(BUDI) == "role"
    await _staff_does(bot, "Make someone a trainer", BUDI)
    assert "You are now a SCORE trainer" in bot.last_text(BUDI)
    # The role question is still on the screen: pressing "Owner" no longer starts an
    # enrolment (nor says "you stay a trainer" to someone who never asked to enrol).
    before = len(bot.sandbox.callback_answers(BUDI))
    await bot.press(BUDI, "Owner")
    text = bot.last_text(BUDI)
    assert text.startswith("The SCORE team has changed your role in this bot, so the "
                           "question you were answering is closed.")
    assert "/survey – enter the KPI report of an enterprise you support" in text
    assert "/enrol" not in text
    assert bot.open_flow(BUDI) is None and bot.draft(BUDI) == {}
    assert len(bot.sandbox.callback_answers(BUDI)) == before + 1  # the press stops spinning
    assert await _role(bot, BUDI) == "trainer"
    # Not stuck: commands work at once, the old buttons are only stale.
    await bot.text(BUDI, "/survey")
    assert "No enterprise is assigned to you yet" in bot.last_text(BUDI)
    await bot.press(BUDI, "Employee")
    assert "no longer active" in (bot.sandbox.callback_answers(BUDI)[-1].get("text") or "")
    assert "No enterprise is assigned" in bot.last_text(BUDI)


async def test_made_staff_at_the_role_question_typing_is_not_taken_as_an_answer(
        bot: BotHarness) -> None:
    await onboard(bot, BUDI, "id", role=None, name="Budi")
    await _staff_does(bot, "Make someone staff", BUDI)
    await bot.text(BUDI, "K7P2QX")  # a code, typed at the role question
    text = bot.last_text(BUDI)
    assert "Bapak/Ibu" in text.split("\n")[0]  # staff are Bapak/Ibu
    assert "/broadcast" in text and "/pending" in text
    assert bot.open_flow(BUDI) is None
    async with bot.sessionmaker() as session:
        assert (await session.scalars(select(Membership))).all() == []
    # The next message is answered like any staff member's.
    await bot.text(BUDI, "/pending")
    assert "/broadcast" not in bot.last_text(BUDI)


async def test_a_command_at_the_role_question_after_the_change(bot: BotHarness) -> None:
    await onboard(bot, BUDI, "en", role=None, name="Budi")
    await _staff_does(bot, "Make someone a trainer", BUDI)
    await bot.text(BUDI, "/survey")
    # One message about the change; "answer the question first" would be about a question
    # that is no longer theirs.
    assert CLOSED in bot.last_text(BUDI)
    assert all("answer the question first" not in t for t in bot.texts(BUDI))
    assert bot.open_flow(BUDI) is None
    await bot.text(BUDI, "/survey")
    assert "No enterprise is assigned to you yet" in bot.last_text(BUDI)


async def test_a_link_opened_after_the_change_still_works(bot: BotHarness) -> None:
    maju = await factories.enterprise(bot, owner=SARI)
    await onboard(bot, BUDI, "en", role=None, name="Budi")
    await _staff_does(bot, "Make someone a trainer", BUDI)
    await bot.text(SARI, "/invite")
    payload = bot.last_text(SARI).split("start=")[1].split()[0]
    await bot.text(BUDI, f"/start {payload}")
    texts = bot.texts(BUDI)
    assert CLOSED in texts[-2]
    assert "You are now an admin of PT Maju Jaya" in texts[-1]
    async with bot.sessionmaker() as session:
        member = await session.scalar(select(Membership).where(Membership.user_id == BUDI))
    assert member is not None and member.enterprise_id == maju.id
    assert await _role(bot, BUDI) == "trainer"  # a trainer stays trainer


async def test_promoted_before_consent_finishes_first_contact_as_a_trainer(
        bot: BotHarness) -> None:
    """Language and consent are for everyone: the change only shapes the greeting."""
    bot.sandbox.add_user(BUDI, "Budi", language_code="en")
    await bot.text(BUDI, "/start")
    await _staff_does(bot, "Make someone a trainer", BUDI)
    await bot.press(BUDI, "English")
    assert "Do you agree?" in bot.last_text(BUDI)
    await bot.press(BUDI, "Yes, I agree")
    text = bot.last_text(BUDI)
    assert text.startswith("Welcome! Here is what you can do:") and "/baseline" in text
    assert bot.open_flow(BUDI) is None


async def test_owner_made_trainer_while_updating_the_enrolment_is_not_made_owner_again(
        bot: BotHarness) -> None:
    await factories.enterprise(bot, owner=SARI, name="PT Maju Jaya")
    bot.sandbox.add_user(SARI, "Sari", language_code="id")
    await bot.text(SARI, "/enrol")
    await bot.press(SARI, "Narahubung")
    await bot.text(SARI, "Budi Santoso")
    assert bot.step(SARI) == "e_summary"
    await _staff_does(bot, "Make someone a trainer", SARI)
    await bot.press(SARI, "Konfirmasi")
    assert await _role(bot, SARI) == "trainer"
    async with bot.sessionmaker() as session:
        enterprise = await session.scalar(select(Enterprise))
    assert enterprise is not None and enterprise.contact_name != "Budi Santoso"
    assert "/baseline" in bot.last_text(SARI) and "Bapak/Ibu" in bot.last_text(SARI)
    assert bot.open_flow(SARI) is None
    # Asking herself, a trainer hears why she cannot enrol (the flow's own refusal).
    await bot.text(SARI, "/enrol")
    assert "Bapak/Ibu tetap trainer SCORE" in bot.last_text(SARI)


async def test_staff_made_a_worker_again_mid_enrolment_hears_the_workers_menu(
        bot: BotHarness) -> None:
    """A worker of one enterprise, made staff, enrols another on its owner's behalf; staff
    take the role back half-way: as a worker he may not enrol, and is told so in Anda."""
    maju = await factories.enterprise(bot, owner=SARI)
    await factories.worker(bot, ANI, maju, language="id")
    await _staff_does(bot, "Make someone staff", ANI)
    assert await _role(bot, ANI) == "staff"
    await bot.text(ANI, "/enrol")
    await answer_enrolment(bot, ANI, "id", company="PT Lain")
    assert bot.step(ANI) == "e_summary"
    await _staff_does(bot, "Revoke a role", ANI)
    assert await _role(bot, ANI) == "worker"
    await bot.press(ANI, "Konfirmasi")
    text = bot.last_text(ANI)
    assert "Anda" in text and "Bapak/Ibu" not in text
    assert "/leave" in text and "/broadcast" not in text
    async with bot.sessionmaker() as session:
        names = (await session.scalars(select(Enterprise.name))).all()
    assert names == ["PT Maju Jaya"]
    assert await _role(bot, ANI) == "worker"  # not made an owner by the old enrolment


async def test_worker_made_trainer_at_the_move_question_is_not_moved(bot: BotHarness) -> None:
    first = await factories.enterprise(bot, owner=SARI, name="PT Satu", code="K7P2QX")
    await factories.enterprise(bot, owner=3005, name="PT Dua", code="M8N3RY")
    await factories.worker(bot, ANI, first, language="en")
    await bot.text(ANI, "/join M8N3RY")
    assert "Do you now work at PT Dua?" in bot.last_text(ANI)
    await _staff_does(bot, "Make someone a trainer", ANI)
    await bot.press(ANI, "Yes, I now work")
    assert CLOSED in bot.last_text(ANI) and "/baseline" in bot.last_text(ANI)
    assert await _role(bot, ANI) == "trainer"
    async with bot.sessionmaker() as session:
        member = await session.scalar(select(Membership).where(
            Membership.user_id == ANI, Membership.left_at.is_(None)))
    assert member is not None and member.enterprise_id == first.id


async def test_demoted_staff_in_the_broadcast_composer_hear_it_in_their_language(
        bot: BotHarness) -> None:
    await factories.user(bot, BUDI, name="Budi", language="id", role=Role.STAFF)
    await bot.text(BUDI, "/broadcast")
    await bot.text(BUDI, "Halo semua")
    assert bot.open_flow(BUDI) == "broadcast"
    await _staff_does(bot, "Revoke a role", BUDI)
    await bot.text(BUDI, "Hello everyone")  # the English text he was asked for
    text = bot.last_text(BUDI)
    assert "Peran Anda" in text and "/start" in text and "/broadcast" not in text
    assert bot.open_flow(BUDI) is None and bot.draft(BUDI) == {}


async def test_unchanged_roles_keep_their_question(bot: BotHarness) -> None:
    """Another user's change, or none: the open question stays answerable."""
    await onboard(bot, BUDI, "en", role=None, name="Budi")
    await factories.user(bot, 3009, name="Eko", language="en")
    await _staff_does(bot, "Make someone a trainer", 3009)
    await bot.press(BUDI, "Owner")
    assert "name of your company" in bot.last_text(BUDI)
    assert bot.open_flow(BUDI) == "enrol"


async def test_a_flow_still_says_why_it_refuses_at_the_start(bot: BotHarness) -> None:
    """Who may join is the flow's `allowed` now: an owner hears it at once, code or not."""
    await factories.enterprise(bot, owner=SARI, code="K7P2QX", owner_language="en")
    for command in ("/join", "/join K7P2QX"):
        await bot.text(SARI, command)
        assert bot.last_text(SARI) == "Join codes are for workers. Type /help to see the menu."
        assert bot.open_flow(SARI) is None
    assert await _role(bot, SARI) == "owner"


async def test_owner_made_trainer_while_replacing_the_code_and_back(bot: BotHarness) -> None:
    """Replacing the join code is for owners: made a trainer while its question is open, the
    question is closed like any other; given the owner role back, /code works at once."""
    await factories.enterprise(bot, owner=SARI, code="K7P2QX", owner_language="id")
    await bot.text(SARI, "/code")
    await bot.press(SARI, "Ganti kode")
    assert "Ganti kode bergabung K7P2QX?" in bot.last_text(SARI)
    await _staff_does(bot, "Make someone a trainer", SARI)
    await bot.text(SARI, "/help")
    assert bot.last_text(SARI).startswith("Tim SCORE telah mengubah peran Bapak/Ibu")
    assert "/baseline" in bot.last_text(SARI)
    assert bot.open_flow(SARI) is None
    # The old question's button reaches nothing now.
    await bot.press(SARI, "Ya, ganti kodenya")
    async with bot.sessionmaker() as session:
        enterprise = await session.scalar(select(Enterprise))
    assert enterprise is not None and enterprise.join_code == "K7P2QX"
    await _staff_does(bot, "Revoke a role", SARI)
    assert await _role(bot, SARI) == "owner"
    await bot.text(SARI, "/help")
    assert "/code" in bot.last_text(SARI) and "/baseline" in bot.last_text(SARI)
    await bot.text(SARI, "/code")
    assert "Kode bergabung: K7P2QX" in bot.texts(SARI)[-2]  # then the poster
    await bot.press(SARI, "Ganti kode")
    assert "Ganti kode bergabung K7P2QX?" in bot.last_text(SARI)
