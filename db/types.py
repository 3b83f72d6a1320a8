"""Column types that behave the same on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import DateTime, Numeric
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in, aware UTC datetimes out.

    SQLite has no time zone type and reads `DateTime(timezone=True)` back naive; we store UTC
    and re-attach the zone on the way out, so callers never see a naive datetime.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Amount(TypeDecorator[Decimal]):
    """Decimals in, Decimals out, on both databases.

    A NUMERIC column in SQL (so views can compute with it); on the way through, a float,
    because SQLite has no decimal type and SQLAlchemy warns about converting one. Survey
    answers are counts and readings far below 2**53 with a few decimals: a float holds them
    exactly enough, and `Decimal(str(float))` gives back the shortest form ("1250.5").
    """

    impl = Numeric(20, 6, asdecimal=False)
    cache_ok = True

    def process_bind_param(self, value: Decimal | None, dialect: object) -> float | None:
        return None if value is None else float(value)

    def process_result_value(self, value: float | None, dialect: object) -> Decimal | None:
        if value is None:
            return None
        number = Decimal(repr(float(value)))
        return number.quantize(Decimal(1)) if number == number.to_integral_value() else number
