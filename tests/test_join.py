"""Workers join with a code or a link; codes are replaced; guessing is refused; admins; leaving."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from db import joining as joining_db
from db.models import JoinAttempt, MemberRole, Membership, User
from tests import factories
from tests.harness import BotHarness
from tests.journeys import enterprise_of, onboard

# Draft expiry, the join lock, scheduled sends: `make test-dates` runs these at several instants.
pytestmark = pytest.mark.dates

OWNER, WORKER, WORKER2, ADMIN = 1001, 2001, 2002, 3001


async def _approved(bot: BotHarness) -> str:
    """OWNER's approved enterprise, PT Maju Jaya: its join code (enrolling and approving
    through the bot are test_enrolment's)."""
    enterprise = await factories.enterprise(bot, owner=OWNER, owner_language="en")
    assert enterprise.join_code
    return enterprise.join_code


async def _membership(bot: BotHarness, user_id: int) -> Membership | None:
    async with bot.sessionmaker() as session:
        return await session.scalar(select(Membership).where(
            Membership.user_id == user_id, Membership.left_at.is_(None)))


async def test_worker_joins_with_code_in_any_case(bot: BotHarness) -> None:
    code = await _approved(bot)
    await onboard(bot, WORKER, "id", role="worker", name="Ani")
    assert "kode" in bot.last_text(WORKER).lower()
    await bot.text(WORKER, code.lower())
    member = await _membership(bot, WORKER)
    assert member is not None and member.role == MemberRole.WORKER
    assert "PT Maju Jaya" in bot.last_text(WORKER)


async def test_deep_link_code_survives_language_and_consent(bot: BotHarness) -> None:
    code = await _approved(bot)
    bot.sandbox.add_user(WORKER, "Ani", language_code="id")
    await bot.text(WORKER, f"/start join-{code}")
    await bot.press(WORKER, "English")
    await bot.press(WORKER, "Yes, I agree")
    member = await _membership(bot, WORKER)
    assert member is not None and member.role == MemberRole.WORKER
    async with bot.sessionmaker() as session:
        user = await session.get(User, WORKER)
    assert user is not None and user.role is not None and user.role.value == "worker"


async def test_code_of_pending_enterprise_does_not_work(bot: BotHarness) -> None:
    await factories.enterprise(bot, owner=OWNER, status="pending")
    await onboard(bot, WORKER, "en", role="worker")
    await bot.text(WORKER, "/join ABCDEF")
    assert "do not know this code" in bot.last_text(WORKER)
    assert await _membership(bot, WORKER) is None


async def test_wrong_code_can_be_retried(bot: BotHarness) -> None:
    code = await _approved(bot)
    await onboard(bot, WORKER, "en", role="worker")
    await bot.text(WORKER, "ZZZ222")
    assert "do not know this code" in bot.last_text(WORKER)
    await bot.text(WORKER, code)
    assert await _membership(bot, WORKER) is not None


async def test_five_wrong_codes_are_forgiven(bot: BotHarness) -> None:
    code = await _approved(bot)
    await onboard(bot, WORKER, "en", role="worker")
    for _ in range(5):
        await bot.text(WORKER, "ZZZ222")
    assert "do not know this code" in bot.last_text(WORKER)
    await bot.text(WORKER, code)
    assert await _membership(bot, WORKER) is not None


async def test_more_than_five_wrong_codes_are_refused_for_an_hour(bot: BotHarness) -> None:
    code = await _approved(bot)
    await onboard(bot, WORKER, "en", role="worker")
    for _ in range(6):
        await bot.text(WORKER, "ZZZ222")
    assert "Too many wrong codes. Please try again in 60 minutes." in bot.last_text(WORKER)
    await bot.text(WORKER, "/join " + code)
    assert "Too many wrong codes" in bot.last_text(WORKER)
    assert await _membership(bot, WORKER) is None
    # An hour later it works again.
    async with bot.sessionmaker() as session, session.begin():
        for attempt in await session.scalars(select(JoinAttempt)):
            attempt.at -= timedelta(minutes=61)
    await bot.text(WORKER, "/join " + code)
    assert await _membership(bot, WORKER) is not None


async def test_replaced_code_stops_working(bot: BotHarness) -> None:
    old = await _approved(bot)
    await bot.text(OWNER, "/code")
    assert old in "\n".join(bot.texts(OWNER))
    await bot.press(OWNER, "Replace the code")
    await bot.press(OWNER, "Yes, replace it")
    new = (await enterprise_of(bot, OWNER)).join_code
    assert new and new != old
    assert bot.sandbox.last_message(OWNER).document is not None
    # The old button is stale now.
    bot.sandbox.press(OWNER, [b for m in bot.sandbox.messages(OWNER) for row in m.buttons
                              for b in row if "Replace" in b["text"]][-1]["callback_data"])
    await bot.settle()
    assert (await enterprise_of(bot, OWNER)).join_code == new
    await onboard(bot, WORKER, "en", role="worker")
    await bot.text(WORKER, old)
    assert await _membership(bot, WORKER) is None
    # Said to be replaced, and not counted as a guess.
    assert "was replaced" in bot.last_text(WORKER)
    async with bot.sessionmaker() as session:
        assert (await session.scalars(select(JoinAttempt))).all() == []
    await bot.text(WORKER, new)
    assert await _membership(bot, WORKER) is not None


async def test_an_old_replace_button_is_stale_at_the_first_press(bot: BotHarness) -> None:
    """A Replace button of an earlier /code, after the code was replaced: no question about
    a code that no longer works."""
    old = await _approved(bot)
    await bot.text(OWNER, "/code")
    first = [m for m in bot.sandbox.messages(OWNER) if m.buttons][-1]
    await bot.press(OWNER, "Replace the code")
    await bot.press(OWNER, "Yes, replace it")
    new = (await enterprise_of(bot, OWNER)).join_code
    assert new and new != old
    sent = len(bot.sandbox.messages(OWNER))
    bot.sandbox.press(OWNER, first.buttons[0][0]["callback_data"], message_id=first.message_id)
    await bot.settle()
    assert bot.sandbox.callback_answers(OWNER)[-1].get("text") == "This button is no longer active."
    assert len(bot.sandbox.messages(OWNER)) == sent and bot.open_flow(OWNER) is None
    assert (await enterprise_of(bot, OWNER)).join_code == new
    # The button of the current code asks about the current code.
    await bot.text(OWNER, "/code")
    await bot.press(OWNER, "Replace the code")
    assert f"Replace the join code {new}?" in bot.last_text(OWNER)
    assert bot.open_flow(OWNER) == "replace_code"


async def test_admin_invite_link_works_once(bot: BotHarness) -> None:
    await _approved(bot)
    await bot.text(OWNER, "/invite")
    link = bot.last_text(OWNER).split()[-1]
    payload = link.split("start=")[1]
    bot.sandbox.add_user(ADMIN, "Dewi", language_code="en")
    await bot.text(ADMIN, f"/start {payload}")
    await bot.press(ADMIN, "English")
    await bot.press(ADMIN, "Yes, I agree")
    member = await _membership(bot, ADMIN)
    assert member is not None and member.role == MemberRole.ADMIN
    # The owner hears it.
    assert "Dewi is now an admin of PT Maju Jaya" in bot.last_text(OWNER)
    bot.sandbox.add_user(WORKER2, "Eko", language_code="en")
    await bot.text(WORKER2, f"/start {payload}")
    await bot.press(WORKER2, "English")
    await bot.press(WORKER2, "Yes, I agree")
    assert await _membership(bot, WORKER2) is None
    # Not a dead end: first contact goes on as for anyone new, with the role question.
    assert "already used or is not valid" in bot.last_text(WORKER2)
    assert "enrol your enterprise, or to join your workplace" in bot.last_text(WORKER2)
    assert bot.step(WORKER2) == "role"
    await bot.press(WORKER2, "Employee")
    await bot.text(WORKER2, "/cancel")


async def test_a_bad_invite_link_leaves_someone_with_a_role_where_they_were(
        bot: BotHarness) -> None:
    """The role question after a link that does not work is first contact's, for someone
    without a role: a worker hears only about the link."""
    enterprise = await factories.enterprise(bot, owner=OWNER)
    await factories.worker(bot, WORKER, enterprise, language="en")
    await bot.text(WORKER, "/start admin-NotAValidToken1234567890")
    assert "already used or is not valid" in bot.last_text(WORKER)
    assert bot.open_flow(WORKER) is None
    # In Indonesian, for someone new: the link, then what they want to do first.
    bot.sandbox.add_user(WORKER2, "Eko", language_code="id")
    await bot.text(WORKER2, "/start admin-NotAValidToken1234567890")
    await bot.press(WORKER2, "Bahasa Indonesia")
    await bot.press(WORKER2, "Setuju")
    assert "Tautan undangan ini sudah dipakai" in bot.last_text(WORKER2)
    assert bot.step(WORKER2) == "role"


async def test_owner_opening_an_admin_invite_stays_owner(bot: BotHarness) -> None:
    await _approved(bot)
    await bot.text(OWNER, "/invite")
    payload = bot.last_text(OWNER).split("start=")[1].split()[0]
    await bot.text(OWNER, f"/start {payload}")
    assert "forward it to your admin" in bot.last_text(OWNER)
    async with bot.sessionmaker() as session:
        owner = await session.get(User, OWNER)
    assert owner is not None and owner.role is not None and owner.role.value == "owner"
    # The link is still unused, for the real admin.
    await onboard(bot, ADMIN, "en", role=None)
    await bot.text(ADMIN, f"/start {payload}")
    member = await _membership(bot, ADMIN)
    assert member is not None and member.role == MemberRole.ADMIN


async def test_deep_link_mid_conversation_starts_afresh(bot: BotHarness) -> None:
    code = await _approved(bot)
    bot.sandbox.add_user(WORKER, "Ani", language_code="en")
    await bot.text(WORKER, "/start")
    # Stopped at the language question; later scans the poster.
    await bot.text(WORKER, f"/start join-{code}")
    await bot.press(WORKER, "English")
    await bot.press(WORKER, "Yes, I agree")
    assert await _membership(bot, WORKER) is not None
    # A bare /start mid-question shows the open question again instead.
    await bot.text(WORKER, "/join")
    await bot.text(WORKER, "/start")
    assert "join code" in bot.last_text(WORKER)


async def test_code_typed_without_join_command(bot: BotHarness) -> None:
    code = await _approved(bot)
    # At the role question, instead of pressing a button.
    await onboard(bot, WORKER, "en", role=None)
    await bot.text(WORKER, code.lower())
    assert await _membership(bot, WORKER) is not None
    assert "PT Maju Jaya" in bot.last_text(WORKER)
    # Outside any conversation.
    await bot.text(WORKER, "/leave")
    await bot.press(WORKER, "I no longer work here")
    await bot.text(WORKER, code)
    assert await _membership(bot, WORKER) is not None


async def test_joining_twice_keeps_one_membership(bot: BotHarness) -> None:
    code = await _approved(bot)
    await onboard(bot, WORKER, "en", role="worker")
    await bot.text(WORKER, code)
    await bot.text(WORKER, f"/join {code}")
    async with bot.sessionmaker() as session:
        rows = (await session.scalars(select(Membership).where(
            Membership.user_id == WORKER))).all()
    assert len(rows) == 1


async def test_worker_leaves(bot: BotHarness) -> None:
    code = await _approved(bot)
    await onboard(bot, WORKER, "id", role="worker")
    await bot.text(WORKER, code)
    await bot.text(WORKER, "/leave")
    await bot.press(WORKER, "Saya sudah tidak bekerja di sini")
    assert await _membership(bot, WORKER) is None


async def test_owner_code_before_approval(bot: BotHarness) -> None:
    await factories.enterprise(bot, owner=OWNER, status="pending", owner_language="en")
    await bot.text(OWNER, "/code")
    assert "waiting for approval" in bot.last_text(OWNER)
    await bot.text(OWNER, "/invite")
    assert "waiting for approval" in bot.last_text(OWNER)


async def test_blocking_and_unblocking_is_recorded(bot: BotHarness) -> None:
    await onboard(bot, WORKER, "en", role=None)
    bot.sandbox.block(WORKER)
    await bot.settle()
    async with bot.sessionmaker() as session:
        user = await session.get(User, WORKER)
        assert user is not None and user.status.value == "blocked"
    bot.sandbox.unblock(WORKER)
    await bot.settle()
    async with bot.sessionmaker() as session:
        user = await session.get(User, WORKER)
        assert user is not None and user.status.value == "active"


async def test_owner_commands_are_refused_to_workers(bot: BotHarness) -> None:
    code = await _approved(bot)
    await onboard(bot, WORKER, "en", role="worker")
    await bot.text(WORKER, code)
    for command in ("/code", "/invite"):
        await bot.text(WORKER, command)
        assert "for the owner of the enterprise" in bot.last_text(WORKER)


async def test_the_owners_news_of_a_new_admin_names_the_enterprise_as_it_is(
        bot: BotHarness, monkeypatch: pytest.MonkeyPatch) -> None:
    """The news is rendered before the joining's transaction; renamed in between (staff
    approved a new name), it is rendered again: never the old name."""
    await _approved(bot)
    await bot.text(OWNER, "/invite")
    payload = bot.last_text(OWNER).split()[-1].split("start=")[1]
    real, calls = joining_db.invited_to, []

    async def named_before_a_rename(*args: Any) -> str | None:
        calls.append(args)
        found = await real(*args)
        return "PT Nama Lama" if found and len(calls) == 1 else found

    monkeypatch.setattr(joining_db, "invited_to", named_before_a_rename)
    bot.sandbox.add_user(ADMIN, "Dewi", language_code="en")
    await bot.text(ADMIN, f"/start {payload}")
    await bot.press(ADMIN, "English")
    await bot.press(ADMIN, "Yes, I agree")
    assert len(calls) == 2
    news = [t for t in bot.texts(OWNER) if "is now an admin" in t]
    assert news == ["Dewi is now an admin of PT Maju Jaya."]
