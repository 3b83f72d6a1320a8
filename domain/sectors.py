"""Sector keys offered during enrolment.

Only stable keys live here (they are stored in the database); display names are
translated elsewhere with gettext.
"""

from __future__ import annotations

# Auto parts first: it is the SCORE programme's focus sector in Indonesia, so it
# should be the first button. "other" stays last as the catch-all.
SECTORS: tuple[str, ...] = (
    "auto_parts",
    "metal",
    "electronics",
    "food",
    "garment",
    "plastic_rubber",
    "furniture",
    "chemical",
    "other",
)

