"""The five SCORE training modules, by number (names are translated in chat/labels.py)."""

from __future__ import annotations

# 1 Workplace Cooperation comes first: an enterprise is invited to the others after it.
MODULES: tuple[int, ...] = (1, 2, 3, 4, 5)


def module_of(value: str | int | None) -> int | None:
    """The module a button or a stored value names, or None when it names none."""
    if isinstance(value, str):
        value = int(value) if value.isascii() and value.isdigit() else None
    return value if value in MODULES else None
