"""How many workers an enterprise may report, and the size SCORE is designed for."""

from __future__ import annotations

# What the enrolment accepts at all: one person up to a very large plant.
MIN_WORKERS, MAX_WORKERS = 1, 100_000
# SCORE is built for small and medium manufacturers of 50 to 200 workers; others are
# accepted and staff decide.
SCORE_MIN, SCORE_MAX = 50, 200


def fits_score(workers: int) -> bool:
    return SCORE_MIN <= workers <= SCORE_MAX
