"""Only one process sends: two senders would double the rate Telegram sees.

On PostgreSQL the sender holds a session-level advisory lock on a connection of its own; when
its process dies, PostgreSQL drops the connection and the lock, and a standby process
(`score-bot run --send-only`) takes over at its next try. On SQLite one process is assumed.
"""

from __future__ import annotations

import logging
import time

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

log = logging.getLogger(__name__)

# Any constant both processes agree on: "SCORE" in ASCII.
LOCK_KEY = 0x53434F5245
RETRY_SECONDS = 5.0  # a standby takes over within this, well inside 30 s
CHECK_SECONDS = 0.25  # how stale "we hold the lock" may be: bounds a live loser's sends


class NoLock:
    """SQLite: a single process is assumed (see README)."""

    retry_seconds = RETRY_SECONDS

    async def hold(self) -> bool:
        return True

    def take_fresh(self) -> bool:
        fresh, self._fresh = getattr(self, "_fresh", True), False
        return fresh

    async def release(self) -> None:
        pass


class AdvisoryLock:
    retry_seconds = RETRY_SECONDS

    def __init__(self, engine: AsyncEngine, retry_seconds: float = RETRY_SECONDS):
        self._engine = engine
        self.retry_seconds = retry_seconds
        self._conn: AsyncConnection | None = None
        self._checked = 0.0
        self._fresh = False

    async def hold(self) -> bool:
        """True while this process holds the lock; tries to take it when it does not."""
        if self._conn is not None:
            if time.monotonic() - self._checked < CHECK_SECONDS:
                return True
            try:
                await self._conn.execute(text("SELECT 1"))
                await self._conn.commit()
                self._checked = time.monotonic()
                return True
            except Exception:  # the connection, and so the lock, is gone
                log.warning("lost the sender lock's connection", exc_info=True)
                await self._drop()
                return False
        conn = None
        try:
            conn = await self._engine.connect()
            # If this host dies, PostgreSQL must notice within seconds, not TCP's two hours,
            # for the lock to pass to a standby.
            for setting in ("tcp_keepalives_idle = 5", "tcp_keepalives_interval = 2",
                            "tcp_keepalives_count = 3", "tcp_user_timeout = 10000"):
                await conn.execute(text(f"SET {setting}"))
            got = await conn.scalar(text("SELECT pg_try_advisory_lock(:key)"), {"key": LOCK_KEY})
            await conn.commit()
        except Exception:  # database unreachable: try again later
            log.warning("could not try the sender lock", exc_info=True)
            if conn is not None:
                # It may hold the lock already: never let it back into the pool.
                try:
                    await conn.invalidate()
                except Exception:
                    log.debug("invalidating failed", exc_info=True)
            return False
        if not got:
            await conn.close()
            return False
        self._conn, self._checked, self._fresh = conn, time.monotonic(), True
        log.info("this process is now the outbox sender")
        return True

    def take_fresh(self) -> bool:
        """True once after the lock was taken: the new holder recovers dead claims."""
        fresh, self._fresh = self._fresh, False
        return fresh

    async def _drop(self) -> None:
        """Close the lock's connection for good: back in the pool it would keep the lock."""
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                await conn.invalidate()
                await conn.close()
            except Exception:
                log.debug("closing the lock connection failed", exc_info=True)

    async def release(self) -> None:
        if self._conn is not None:
            try:
                await self._conn.execute(text("SELECT pg_advisory_unlock(:key)"),
                                         {"key": LOCK_KEY})
                await self._conn.commit()
            except Exception:
                log.debug("unlocking failed; closing the connection releases it", exc_info=True)
        await self._drop()


def lock_for(engine: AsyncEngine) -> NoLock | AdvisoryLock:
    return AdvisoryLock(engine) if engine.dialect.name == "postgresql" else NoLock()
