"""Roles and access: /staff makes trainers and staff and revokes; staff commands and buttons
check the role each time; non-staff see nothing of them."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from chat.context import services_of
from db.models import Broadcast, BroadcastStatus, Role, User
from tests import factories
from tests.conftest import OTHER_STAFF_ID, STAFF_ID
from tests.harness import BotHarness
from tests.journeys import onboard

SARI = 3001  # an owner, through her enterprise
BUDI = 3002  # no role yet
OUTSIDER = 3003
NOW = datetime(2026, 11, 1, tzinfo=UTC)


async def _add_user(bot: BotHarness, user_id: int, name: str, username: str | None,
                    language: str = "en", role: Role | None = None) -> None:
    """A user who agreed earlier, and has just written to the bot."""
    await factories.user(bot, user_id, name=name, username=username, language=language,
                         role=role)
    await bot.text(user_id, "/help")


async def _owner_with_enterprise(bot: BotHarness, user_id: int) -> None:
    await _add_user(bot, user_id, "Sari", "sari", role=Role.OWNER)
    await factories.enterprise(bot, owner=user_id, name="PT Maju", sector="metal")


async def _role(bot: BotHarness, user_id: int) -> str | None:
    async with bot.sessionmaker() as session:
        user = await session.get(User, user_id)
    assert user is not None
    return user.role.value if user.role else None


async def _staff_chat(bot: BotHarness, user_id: int = STAFF_ID) -> None:
    bot.sandbox.add_user(user_id, f"Staff {user_id}", language_code="en")
    await bot.text(user_id, "/help")


def _menu(bot: BotHarness, chat_id: int) -> list[str]:
    calls = [c for c in bot.sandbox.calls_of("setMyCommands")
             if (c.params.get("scope") or {}).get("chat_id") == chat_id]
    return [cmd["command"] for cmd in calls[-1].params["commands"]] if calls else []


async def _give(bot: BotHarness, staff: int, action: str, target: str) -> None:
    await bot.text(staff, "/staff")
    await bot.press(staff, action)
    await bot.text(staff, target)


async def test_make_trainer_by_username_after_an_unknown_one(bot: BotHarness) -> None:
    await _staff_chat(bot)
    await _add_user(bot, BUDI, "Budi", "budi_s", language="en")
    await bot.text(STAFF_ID, "/staff")
    assert "Staff:" in bot.last_text(STAFF_ID) and "Trainers: –" in bot.last_text(STAFF_ID)
    await bot.press(STAFF_ID, "Make someone a trainer")
    assert "become a trainer" in bot.last_text(STAFF_ID)
    for unknown in ("@nobody_here", "99999999999999999999"):
        await bot.text(STAFF_ID, unknown)
        [reply] = bot.replies(STAFF_ID)
        assert "do not know that user" in reply and "become a trainer" in reply
    bot.sandbox.send_sticker(STAFF_ID)
    await bot.settle()
    assert "user id or @username" in bot.last_text(STAFF_ID)
    await bot.text(STAFF_ID, "@BUDI_S")
    assert "Make <b>Budi</b>" not in bot.last_text(STAFF_ID)  # sent as HTML, shown as text
    assert "Make Budi (@budi_s, id 3002) a trainer?" in bot.last_text(STAFF_ID)
    assert await _role(bot, BUDI) is None  # nothing before the confirmation
    await bot.press(STAFF_ID, "Yes")
    assert "Budi" in bot.last_text(STAFF_ID) and "Trainer" in bot.last_text(STAFF_ID)
    assert await _role(bot, BUDI) == "trainer"
    assert "You are now a SCORE trainer" in bot.last_text(BUDI)
    assert "help" in _menu(bot, BUDI) and "pending" not in _menu(bot, BUDI)
    assert bot.app is not None and bot.open_flow(STAFF_ID) is None


async def test_make_staff_then_revoke_and_old_buttons_do_nothing(
        bot: BotHarness, caplog: pytest.LogCaptureFixture) -> None:
    await _staff_chat(bot)
    await _add_user(bot, BUDI, "Budi", "budi", language="en")
    await _give(bot, STAFF_ID, "Make someone staff", str(BUDI))
    assert "Staff approve enrolments" in bot.last_text(STAFF_ID)
    await bot.press(STAFF_ID, "Yes")
    assert await _role(bot, BUDI) == "staff"
    assert "You are now SCORE project staff" in bot.last_text(BUDI)
    assert {"broadcast", "broadcasts", "staff", "pending"} <= set(_menu(bot, BUDI))
    # Budi is staff now: his own /staff works, and so does /broadcasts.
    await bot.text(BUDI, "/broadcasts")
    assert "No broadcasts yet" in bot.last_text(BUDI)
    await bot.text(BUDI, "/staff")
    assert "What would you like to do?" in bot.last_text(BUDI)
    menu_message = bot.sandbox.last_message(BUDI)

    await _give(bot, STAFF_ID, "Revoke a role", "@budi")
    assert "Afterwards: no role" in bot.last_text(STAFF_ID)
    await bot.press(STAFF_ID, "Yes")
    assert await _role(bot, BUDI) is None
    assert "removed your role in this bot (Staff)" in bot.last_text(BUDI)
    assert "broadcast" not in _menu(bot, BUDI) and "start" in _menu(bot, BUDI)

    # His /staff was still open: its button, correctly signed for him, is checked again at
    # the press. Nothing is done; he hears that the question closed, and what he can do now.
    before = len(bot.sandbox.messages(BUDI))
    bot.sandbox.press_button(BUDI, "Make someone staff")
    await bot.settle()
    assert len(bot.sandbox.messages(BUDI)) == before + 1
    assert "question you were answering is closed" in bot.last_text(BUDI)
    assert "/start" in bot.last_text(BUDI) and "/staff" not in bot.last_text(BUDI)
    assert bot.open_flow(BUDI) is None
    assert await _role(bot, BUDI) is None
    # Pressed again, the button belongs to no open question: refused like any staff button
    # of a non-staff user, and nothing more is said.
    before_answers = len(bot.sandbox.callback_answers(BUDI))
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        bot.sandbox.press_button(BUDI, "Make someone staff")
        await bot.settle()
    assert len(bot.sandbox.messages(BUDI)) == before + 1
    assert _stale_answers(bot, BUDI, before_answers) == 1
    assert f"non-staff user={BUDI}" in caplog.text
    assert menu_message.buttons  # the message still shows them; pressing does nothing


async def test_revoke_goes_back_to_the_role_of_the_enterprise(bot: BotHarness) -> None:
    await _staff_chat(bot)
    await _owner_with_enterprise(bot, SARI)
    await _give(bot, STAFF_ID, "Make someone a trainer", "@sari")
    assert "Their role now: Owner" in bot.last_text(STAFF_ID)
    await bot.press(STAFF_ID, "Yes")
    assert await _role(bot, SARI) == "trainer"
    await _give(bot, STAFF_ID, "Revoke a role", "sari")
    assert "Afterwards: Owner" in bot.last_text(STAFF_ID)
    await bot.press(STAFF_ID, "Yes")
    assert await _role(bot, SARI) == "owner"
    assert {"enrol", "code"} <= set(_menu(bot, SARI))
    # Revoking again: there is nothing given by staff to take away.
    await _give(bot, STAFF_ID, "Revoke a role", "@sari")
    assert "no role given by staff" in bot.last_text(STAFF_ID)
    assert await _role(bot, SARI) == "owner"


async def test_staff_ids_cannot_be_changed_from_the_bot(bot: BotHarness) -> None:
    await _staff_chat(bot)
    # Even before the other staff member ever wrote to the bot.
    await _give(bot, STAFF_ID, "Revoke a role", str(OTHER_STAFF_ID))
    assert "STAFF_IDS" in bot.last_text(STAFF_ID)
    await bot.text(STAFF_ID, "/cancel")
    await _staff_chat(bot, OTHER_STAFF_ID)
    await _give(bot, STAFF_ID, "Revoke a role", str(OTHER_STAFF_ID))
    texts = bot.texts(STAFF_ID)
    assert "STAFF_IDS" in texts[-1] and "cannot be changed" in texts[-1]
    assert "role should be revoked" in texts[-1]
    await bot.text(STAFF_ID, "/cancel")
    assert "No role was changed" in bot.last_text(STAFF_ID)
    await _give(bot, STAFF_ID, "Make someone a trainer", str(OTHER_STAFF_ID))
    assert "STAFF_IDS" in bot.last_text(STAFF_ID)
    await bot.text(OTHER_STAFF_ID, "/pending")
    assert "No enrolment" in bot.last_text(OTHER_STAFF_ID)


async def test_no_and_stale_buttons(bot: BotHarness) -> None:
    await _staff_chat(bot)
    await _add_user(bot, BUDI, "Budi", "budi")
    await _give(bot, STAFF_ID, "Make someone a trainer", "@budi")
    await bot.press(STAFF_ID, "No")
    assert "Nothing was changed" in bot.last_text(STAFF_ID)
    assert await _role(bot, BUDI) is None
    # The confirmation's Yes, pressed after the conversation ended, is only stale.
    bot.sandbox.press_button(STAFF_ID, "Yes")
    await bot.settle()
    assert "no longer active" in (bot.sandbox.callback_answers(STAFF_ID)[-1].get("text") or "")
    assert await _role(bot, BUDI) is None
    # A button of an earlier /staff, while a newer one is open, is stale too.
    await bot.text(STAFF_ID, "/staff")
    old = bot.sandbox.last_message(STAFF_ID).message_id
    await bot.text(STAFF_ID, "/staff")
    data = next(b["callback_data"] for m in bot.sandbox.messages(STAFF_ID)
                if m.message_id == old for row in m.buttons for b in row)
    bot.sandbox.press(STAFF_ID, data, message_id=old)
    await bot.settle()
    assert "no longer active" in (bot.sandbox.callback_answers(STAFF_ID)[-1].get("text") or "")
    assert "What would you like to do?" in bot.last_text(STAFF_ID)


@pytest.mark.parametrize("command", ["/staff", "/broadcast", "/broadcasts"])
async def test_non_staff_get_the_unknown_command_reply(
        bot: BotHarness, caplog: pytest.LogCaptureFixture, command: str) -> None:
    # Someone the bot knows (a newcomer's text would begin first contact).
    await factories.user(bot, OUTSIDER, name="Jane", language="en")
    await bot.text(OUTSIDER, "/frobnicate")
    unknown = bot.last_text(OUTSIDER)
    with caplog.at_level(logging.WARNING):
        await bot.text(OUTSIDER, command)
    assert bot.last_text(OUTSIDER) == unknown
    assert f"non-staff user={OUTSIDER}" in caplog.text and command in caplog.text
    assert bot.app is not None
    assert bot.open_flow(OUTSIDER) is None
    # Typing on afterwards reaches no staff conversation.
    await bot.text(OUTSIDER, "12345")
    assert "/help" in bot.last_text(OUTSIDER)


async def test_non_staff_in_the_middle_of_onboarding_keep_their_question(
        bot: BotHarness, caplog: pytest.LogCaptureFixture) -> None:
    await onboard(bot, SARI, "en", role=None)
    assert bot.app is not None and bot.step(SARI) == "role"
    with caplog.at_level(logging.WARNING):
        await bot.text(SARI, "/broadcast")
    assert "do not know that command" in bot.last_text(SARI)
    assert f"non-staff user={SARI}" in caplog.text
    await bot.press(SARI, "Owner")
    assert "name of your company" in bot.last_text(SARI)


async def test_forged_and_foreign_staff_buttons_do_nothing(
        bot: BotHarness, caplog: pytest.LogCaptureFixture) -> None:
    await _add_user(bot, BUDI, "Budi", "budi")
    async with bot.sessionmaker() as session, session.begin():
        broadcast = Broadcast(created_by=STAFF_ID, text_id="Halo", text_en=None, audience={},
                              status=BroadcastStatus.SCHEDULED, send_at=datetime(
                                  2030, 1, 1, tzinfo=UTC), created_at=NOW)
        session.add(broadcast)
        await session.flush()
        broadcast_id = broadcast.id
    assert bot.app is not None
    signer = services_of(bot.app).signer
    before = len(bot.sandbox.messages(BUDI)), len(bot.sandbox.callback_answers(BUDI))
    with caplog.at_level(logging.WARNING):
        # Signed for Budi, but staff actions: the role check refuses them.
        for kind, value in (("blxy", str(broadcast_id)), ("blx", str(broadcast_id)),
                            ("blxn", str(broadcast_id)), ("srok", "yes"), ("srole", "staff"),
                            ("bcok", "yes"), ("bcaud", "done")):
            bot.sandbox.press(BUDI, signer.data(BUDI, kind, value, "abcdef"))
        # Signed for someone else (a staff member): forged for Budi, stopped at the gate.
        bot.sandbox.press(BUDI, signer.data(STAFF_ID, "blxy", str(broadcast_id)))
        await bot.settle()
    assert len(bot.sandbox.messages(BUDI)) == before[0]
    # The seven staff buttons get the stale note; the forged one gets nothing at all.
    assert _stale_answers(bot, BUDI, before[1]) == 7
    assert caplog.text.count(f"non-staff user={BUDI}") == 7
    assert f"forged button from user={BUDI}" in caplog.text
    async with bot.sessionmaker() as session:
        status = await session.scalar(select(Broadcast.status))
    assert status == BroadcastStatus.SCHEDULED
    assert await _role(bot, BUDI) is None


async def test_staff_help_and_menu_list_the_staff_commands(bot: BotHarness) -> None:
    await _staff_chat(bot)
    help_text = bot.last_text(STAFF_ID)
    for command in ("/pending", "/broadcast ", "/broadcasts", "/staff"):
        assert command in help_text
    assert {"pending", "broadcast", "broadcasts", "staff"} <= set(_menu(bot, STAFF_ID))


async def test_indonesian_target_is_told_in_indonesian(bot: BotHarness) -> None:
    await _staff_chat(bot)
    await _add_user(bot, BUDI, "Budi", "budi", language="id")
    await _give(bot, STAFF_ID, "Make someone a trainer", "@budi")
    await bot.press(STAFF_ID, "Yes")
    assert "trainer SCORE" in bot.last_text(BUDI)
    assert "Bapak/Ibu" in bot.last_text(BUDI)


async def test_revoked_in_the_middle_of_a_broadcast_cannot_confirm_it(
        bot: BotHarness, caplog: pytest.LogCaptureFixture) -> None:
    await _add_user(bot, BUDI, "Budi", "budi", role=Role.STAFF)
    await bot.text(BUDI, "/broadcast")
    await bot.text(BUDI, "Halo")
    await bot.press(BUDI, "Skip")
    await bot.press(BUDI, "Done")
    await bot.press(BUDI, "Send now")
    assert "Please check the broadcast" in bot.last_text(BUDI)
    async with bot.sessionmaker() as session, session.begin():
        user = await session.get(User, BUDI)
        assert user is not None
        user.role = None
    before = len(bot.sandbox.callback_answers(BUDI))
    with caplog.at_level(logging.INFO):
        await bot.press(BUDI, "Confirm")
    # Not silence: a short word that the broadcast was not sent, and what he can do now.
    assert "question you were answering is closed" in bot.last_text(BUDI)
    assert "/broadcast" not in bot.last_text(BUDI) and "/start" in bot.last_text(BUDI)
    answers = bot.sandbox.callback_answers(BUDI)[before:]
    assert len(answers) == 1 and not answers[0].get("text")  # answered, so it stops spinning
    assert f"flow broadcast ended at step bc_confirm for user={BUDI}" in caplog.text
    async with bot.sessionmaker() as session:
        assert (await session.scalars(select(Broadcast))).all() == []
    # The composer is gone for him; his next message is answered like anyone's.
    await bot.text(BUDI, "/help")
    assert "/broadcast" not in bot.last_text(BUDI) and "/start" in bot.last_text(BUDI)
    assert bot.app is not None and bot.open_flow(BUDI) is None


def _stale_answers(bot: BotHarness, user_id: int, since: int) -> int:
    answers = bot.sandbox.callback_answers(user_id)[since:]
    assert all("no longer active" in (a.get("text") or "") for a in answers), answers
    return len(answers)


async def test_odd_targets_are_refused_politely(bot: BotHarness) -> None:
    await _staff_chat(bot)
    await bot.text(STAFF_ID, "/staff")
    await bot.press(STAFF_ID, "Make someone a trainer")
    for typed in ("²", "١٢٣", "@" + "x" * 70, "9" * 30, "@sári"):
        await bot.text(STAFF_ID, typed)
        assert "I do not know that user" in bot.last_text(STAFF_ID)
        assert "Who should become a trainer?" in bot.last_text(STAFF_ID)


async def test_a_username_held_by_two_users_asks_which(bot: BotHarness) -> None:
    await _staff_chat(bot)
    await _add_user(bot, BUDI, "Budi Lama", "budi")
    await _add_user(bot, OUTSIDER, "Budi Baru", "budi")
    await _give(bot, STAFF_ID, "Make someone a trainer", "@budi")
    assert "Which one?" in bot.last_text(STAFF_ID)
    await bot.press(STAFF_ID, f"id {OUTSIDER}")
    assert "Make" in bot.last_text(STAFF_ID) and "Budi Baru" in bot.last_text(STAFF_ID)
    await bot.press(STAFF_ID, "Yes")
    assert await _role(bot, OUTSIDER) == "trainer" and await _role(bot, BUDI) is None


async def test_revoking_says_no_longer_has_a_role(bot: BotHarness) -> None:
    await _staff_chat(bot)
    await _add_user(bot, BUDI, "Budi", "budi", role=Role.TRAINER)
    await _give(bot, STAFF_ID, "Revoke a role", "@budi")
    await bot.press(STAFF_ID, "Yes")
    assert "no longer has a role" in bot.last_text(STAFF_ID)
    assert "no role" not in bot.last_text(STAFF_ID).replace("no longer has a role", "")
    assert await _role(bot, BUDI) is None
