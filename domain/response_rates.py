"""How many answered a survey round, of how many asked: per enterprise, per province and in
all, and which enterprises have not answered.

The KPI report asks each approved enterprise once (its final report counts); the pulse asks
each worker linked to an enterprise when the round opened or joined while it was open, not
today's workers (db/survey_stats.py). A worker who answered without being counted so (a
membership ended and begun again) still counts as asked, so a share is never above 100%.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from domain.provinces import PROVINCES


@dataclass(frozen=True)
class Tally:
    answered: int
    asked: int

    @property
    def share(self) -> Decimal | None:
        """answered / asked, None when nobody was asked."""
        return Decimal(self.answered) / Decimal(self.asked) if self.asked else None

    def __add__(self, other: Tally) -> Tally:
        return Tally(self.answered + other.answered, self.asked + other.asked)


def tally(answered: int, asked: int) -> Tally:
    return Tally(answered, max(asked, answered))


@dataclass(frozen=True)
class EnterpriseTally:
    enterprise_id: int
    name: str
    province: str
    tally: Tally


def overall(rows: Iterable[EnterpriseTally]) -> Tally:
    return sum((row.tally for row in rows), Tally(0, 0))


_PROVINCE_ORDER = {p.code: i for i, p in enumerate(PROVINCES)}


def by_province(rows: Iterable[EnterpriseTally]) -> list[tuple[str, Tally]]:
    """(province code, its tally) for provinces where someone was asked, Java first (the
    order of domain/provinces.py)."""
    totals: dict[str, Tally] = {}
    for row in rows:
        if row.tally.asked:
            totals[row.province] = totals.get(row.province, Tally(0, 0)) + row.tally
    return sorted(totals.items(), key=lambda item: (_PROVINCE_ORDER.get(item[0], 99), item[0]))


def asked(rows: Iterable[EnterpriseTally]) -> list[EnterpriseTally]:
    """Enterprises where someone was asked, lowest share first (where to follow up), then
    by name."""
    return sorted((row for row in rows if row.tally.asked),
                  key=lambda row: (row.tally.share, row.name.casefold(), row.enterprise_id))


def not_answered(rows: Iterable[EnterpriseTally]) -> list[EnterpriseTally]:
    """Enterprises asked where nobody answered, by name."""
    return sorted((row for row in rows if row.tally.asked and not row.tally.answered),
                  key=lambda row: (row.name.casefold(), row.enterprise_id))


def nobody_to_ask(rows: Iterable[EnterpriseTally]) -> int:
    """Enterprises where nobody could be asked (the pulse: no worker has joined yet)."""
    return sum(1 for row in rows if not row.tally.asked)
