"""A test's world in a few lines: users, enterprises, their members and staff.

Rows are written straight into the harness's database through the db/ functions the handlers
use, so a factory follows the schema and its rules (a join code only on approval, one active
membership). Everyone made here agreed to the privacy notice and has a chat with the bot in
the sandbox, so the bot may write to them; nothing is sent and no update is queued. Defaults
are an owner in West Java; a test passes only what it is about.

    maju = await factories.enterprise(bot, owner=1001)   # approved, with a join code
    await factories.worker(bot, 2001, maju)               # joined it
    await factories.staff(bot)                            # STAFF_ID, in STAFF_IDS
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import TypeVar

from db.models import Enterprise, EnterpriseStatus, MemberRole, Role, User
from db.queries import enterprises as enterprises_db
from db.queries import users as users_db
from domain.join_codes import new_join_code
from tests.conftest import STAFF_ID
from tests.harness import BotHarness

Row = TypeVar("Row")


async def user(bot: BotHarness, user_id: int, *, name: str = "Sari", username: str | None = None,
               language: str = "id", role: Role | str | None = None, consent: bool = True,
               blocked: bool = False, seen_days_ago: int = 0, chat: bool = True) -> User:
    """A user as the gate would have stored them, with `role` as staff or a journey set it."""
    now = bot.clock.now()
    async with bot.sessionmaker() as session, session.begin():
        row = await users_db.touch_user(session, user_id, language=language, name=name,
                                        username=username, now=now)
        if seen_days_ago:
            row.last_seen_at = now - timedelta(days=seen_days_ago)
        if consent:
            await users_db.give_consent(session, user_id, name=name, username=username,
                                        now=now)
        if role is not None:
            await users_db.set_role(session, user_id, Role(role))
        if blocked:
            await users_db.set_blocked(session, user_id, True)
    if chat:
        bot.sandbox.add_user(user_id, name, username=username, language_code=language)
        bot.sandbox.open_chat(user_id)
    return await _get(bot, User, user_id)


async def staff(bot: BotHarness, user_id: int = STAFF_ID, *, name: str = "Rina",
                language: str = "en") -> User:
    """Project staff: one of STAFF_IDS as configured (the default), else promoted in the bot."""
    role = None if user_id in bot.settings.staff_ids else Role.STAFF
    return await user(bot, user_id, name=name, language=language, role=role)


async def enterprise(bot: BotHarness, *, owner: int, name: str = "PT Maju Jaya",
                     status: EnterpriseStatus | str = EnterpriseStatus.APPROVED,
                     province: str = "JB", city: str = "Bekasi", sector: str = "auto_parts",
                     workers: int = 120, modules: Iterable[int] = (1, 5),
                     code: str | None = None, owner_language: str = "id",
                     decided_by: int = STAFF_ID, days_ago: int = 0) -> Enterprise:
    """An enterprise enrolled by `owner` `days_ago`, then approved (with a join code: `code`,
    or a new one), rejected, or left pending. An owner not in the database yet is made, as an
    owner."""
    status = EnterpriseStatus(status)
    async with bot.sessionmaker() as session:
        known = await users_db.get_user(session, owner)
    if known is None:
        known = await user(bot, owner, language=owner_language, role=Role.OWNER)
    fields = enterprises_db.EnterpriseFields(
        name=name, sector=sector, sector_other=None, province=province, city=city,
        worker_count=workers, contact_name=known.name or "Sari", phone="+6281234567890",
        modules=list(modules))
    now = bot.clock.now() - timedelta(days=days_ago)
    async with bot.sessionmaker() as session, session.begin():
        created = await enterprises_db.create_enterprise(session, owner, fields, now=now)
        if status is not EnterpriseStatus.PENDING:
            approve = status is EnterpriseStatus.APPROVED
            decided = await enterprises_db.decide(
                session, created.id, decided_by, approve=approve, now=now,
                reason=None if approve else "Not a manufacturer",
                new_code=lambda: code or new_join_code())
            assert decided is not None
    return await _get(bot, Enterprise, created.id)


async def worker(bot: BotHarness, user_id: int, of: Enterprise | int, *,
                 role: MemberRole | str = MemberRole.WORKER, name: str = "Ani",
                 language: str = "id", left: bool = False, joined_days_ago: int = 30,
                 **user_fields: object) -> User:
    """A user who joined `of` as a worker (or `role="admin"`) `joined_days_ago` (a month:
    their answers count in what the owner reads, domain/owner_totals.py), and with `left`
    left it again."""
    role = MemberRole(role)
    await user(bot, user_id, name=name, language=language, role=Role(role.value),
               **user_fields)  # type: ignore[arg-type]
    enterprise_id = of if isinstance(of, int) else of.id
    now = bot.clock.now()
    async with bot.sessionmaker() as session, session.begin():
        await enterprises_db.join(session, user_id, enterprise_id, role,
                                  now=now - timedelta(days=joined_days_ago))
        if left:
            await enterprises_db.leave(session, user_id, now=now)
    return await _get(bot, User, user_id)


async def _get(bot: BotHarness, model: type[Row], key: int) -> Row:
    async with bot.sessionmaker() as session:
        row = await session.get(model, key)
    assert row is not None
    return row
