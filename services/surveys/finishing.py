"""Finishing a survey response: the use case with what it tells others, rendered first."""

from __future__ import annotations

import html
from collections.abc import Iterable
from dataclasses import dataclass

from chat import notify
from chat.context import Services
from chat.i18n import N_, _, current_locale
from db import surveys as surveys_db
from db.models import ResponseKind, SurveyResponse
from db.queries import outbox as outbox_db
from domain import survey_calendar as calendar
from domain.questionnaire import Answer, load
from services.surveys.survey_text import show_answer

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
    keep = set(keep)
    response = await surveys_db.response_by_id(svc.sessionmaker, response_id)
    notices = None
    if response is not None:
        # Those told of a report that replaces another read what changed in it.
        changes = None
        if (replaced := await surveys_db.replaced_answers(svc.sessionmaker, response)):
            before, after = replaced
            changes = _Changes(response.survey, before,
                               {k: a for k, a in after.items() if k in keep})
        notices = surveys_db.FinishNotices(
            replaced=await _notice(svc, response, REPLACED, finisher, changes),
            entered=(await _notice(svc, response, ENTERED, finisher, changes)
                     if response.entered_as == "trainer" else None))
    finished = await surveys_db.finish_response(svc.sessionmaker, response_id, keep=keep,
                                                now=svc.clock.now(), notices=notices,
                                                replacing=replacing)
    if finished.done:
        svc.outbox_changed()  # notices queued, the round's reminders to them dropped
    return finished


@dataclass(frozen=True)
class _Changes:
    """A response's answers beside those of the one it replaces."""

    survey: str
    before: dict[str, Answer]
    after: dict[str, Answer]

    def lines(self) -> list[str]:
        """Each changed answer, "Mengundurkan diri: Tidak dicatat → 1", in the reader's
        language; or that nothing changed."""
        questionnaire = load(self.survey)
        changed = questionnaire.changes(self.before, self.after)
        if not changed:
            return [_("The answers are the same as before.")]
        language = current_locale()
        before, after = questionnaire.kept(self.before), questionnaire.kept(self.after)
        return [_("What changed:"), *(
            f"{html.escape(q.label[language])}: "
            f"{show_answer(q, before.get(q.key), questionnaire)} → "
            f"{show_answer(q, after.get(q.key), questionnaire)}" for q in changed)]


async def _notice(svc: Services, response: SurveyResponse, texts: tuple[str, str],
                  name: str, changes: _Changes | None = None) -> outbox_db.Rendered:
    """A notice about a response (its baseline or its report, as its kind is), with the
    person's `name` and the response's month; with `changes`, what changed in it."""
    period, baseline = response.period, response.kind is ResponseKind.BASELINE

    def render() -> notify.Message:
        text = _(texts[0] if baseline else texts[1]).format(
            name=html.escape(name), month=calendar.month_name(period, current_locale()))
        if changes is not None:
            text = "\n\n".join([text, "\n".join(changes.lines())])
        return notify.Message(text)

    return await notify.rendered(svc, render)
