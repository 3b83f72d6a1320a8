"""How long an unfinished conversation is kept (PRODUCT.md: deleted after 14 days)."""

from __future__ import annotations

from datetime import timedelta

DRAFT_LIFETIME = timedelta(days=14)
