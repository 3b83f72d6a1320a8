"""Secrets the bot makes for itself and keeps in the database, shared by all its processes."""

from __future__ import annotations

import secrets

from sqlalchemy.exc import IntegrityError

from db.models import AppSecret
from db.session import Sessions


async def get_or_create_secret(sessionmaker: Sessions, name: str) -> str:
    try:
        async with sessionmaker() as session, session.begin():
            if (row := await session.get(AppSecret, name)) is not None:
                return row.value
            session.add(AppSecret(name=name, value=secrets.token_hex(32)))
    except IntegrityError:
        pass  # another process made it first: use theirs
    async with sessionmaker() as session:
        row = await session.get(AppSecret, name)
        assert row is not None
        return row.value
