"""Which enterprise of the same name and city stops an enrolment (domain/namesakes.py)."""

from __future__ import annotations

from domain.namesakes import Namesake, Standing, judge, rivals

ME, OTHER = 1, 2


def _n(id_: int, owner: int | None, standing: str) -> Namesake:
    return Namesake(id_, owner, Standing(standing))


def test_only_someone_elses_approved_one_blocks() -> None:
    assert judge([_n(10, OTHER, "approved")], ME, None).blocked_by == _n(10, OTHER, "approved")
    assert judge([_n(10, None, "approved")], ME, None).blocked_by is not None  # owner forgot
    waiting = judge([_n(10, OTHER, "pending"), _n(11, OTHER, "rejected")], ME, None)
    assert waiting.blocked_by is None and waiting.waiting == (_n(10, OTHER, "pending"),)


def test_ones_own_enterprise_is_updated_not_doubled() -> None:
    assert judge([_n(10, ME, "pending")], ME, None).own_id == 10
    # Updating it: it is no namesake of itself.
    assert judge([_n(10, ME, "approved")], ME, 10) == judge([], ME, 10)


def test_staff_see_waiting_and_approved_rivals_not_rejected_ones() -> None:
    found = [_n(10, OTHER, "pending"), _n(11, ME, "pending"), _n(12, 3, "rejected"),
             _n(13, 4, "approved")]
    assert [n.id for n in rivals(found, 11)] == [10, 13]
