"""First contact, as use cases that own their transaction: language and consent (the role
follows what the user then does)."""

from __future__ import annotations

from datetime import datetime

from db.queries.users import decline_consent, give_consent, set_language
from db.session import Sessions


async def choose_language(sessions: Sessions, user_id: int, language: str) -> None:
    async with sessions() as session, session.begin():
        await set_language(session, user_id, language)


async def record_consent(sessions: Sessions, user_id: int, *, agreed: bool, name: str | None,
                         username: str | None, now: datetime) -> None:
    """Agreeing stores the name and username (UU PDP: not before); declining keeps only the
    id and language, and when it was declined."""
    async with sessions() as session, session.begin():
        if agreed:
            await give_consent(session, user_id, name=name, username=username, now=now)
        else:
            await decline_consent(session, user_id, now=now)

