"""Finishing a survey response: the use case with what it tells others, rendered first."""

from __future__ import annotations

import html
from collections.abc import Iterable

from chat import notify
from chat.context import Services
from chat.i18n import N_, _, current_locale
from db import surveys as surveys_db
from db.models import ResponseKind, SurveyResponse
from db.queries import outbox as outbox_db
from domain import survey_calendar as calendar

ENTERED = (N_("SCORE trainer {name} entered the baseline for {month}. Type /kpi to see it."),
           N_("SCORE trainer {name} entered the KPI report for {month}. Type /kpi to see it."))
REPLACED = (N_("{name} sent a new baseline for {month}. It replaces the one you sent. Type "
               "/kpi to see it."),
            N_("{name} sent a new KPI report for {month}. It replaces the one you sent. Type "
               "/kpi to see it."))


async def finish(svc: Services, response_id: int, *, keep: Iterable[str], finisher: str,
                 replacing: int | None = None) -> surveys_db.Finish:
    """Make the response final (`db.surveys.finish_response`), with the notices it may
    queue in its transaction, in every language, naming `finisher`."""
    response = await surveys_db.response_by_id(svc.sessionmaker, response_id)
    notices = None
    if response is not None:
        notices = surveys_db.FinishNotices(
            replaced=await _notice(svc, response, REPLACED, finisher),
            entered=(await _notice(svc, response, ENTERED, finisher)
                     if response.entered_as == "trainer" else None))
    finished = await surveys_db.finish_response(svc.sessionmaker, response_id, keep=keep,
                                                now=svc.clock.now(), notices=notices,
                                                replacing=replacing)
    if finished.done:
        svc.outbox_changed()  # notices queued, the round's reminders to them dropped
    return finished


async def _notice(svc: Services, response: SurveyResponse, texts: tuple[str, str],
                  name: str) -> outbox_db.Rendered:
    """A notice about a response (its baseline or its report, as its kind is), with the
    person's `name` and the response's month."""
    period, baseline = response.period, response.kind is ResponseKind.BASELINE

    def render() -> notify.Message:
        return notify.Message(_(texts[0] if baseline else texts[1]).format(
            name=html.escape(name), month=calendar.month_name(period, current_locale())))

    return await notify.rendered(svc, render)
