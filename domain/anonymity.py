"""Who may see workers' survey answers outside the programme: only totals of at least five.

PRODUCT.md, "Anonymity": per question, only where at least five workers answered it (a
"prefer not to answer" is not an answer), and never so that comparing months or filters
isolates one worker. Results are shown only for closed rounds: totals that grow while a
round is open would show, between two looks, what the one new worker answered.
"""

from __future__ import annotations

MIN_ANSWERS = 5


def may_show(answered: int) -> bool:
    return answered >= MIN_ANSWERS


def still_needed(answered: int) -> int:
    """How many more answers a question needs before its totals can be shown."""
    return max(0, MIN_ANSWERS - answered)
