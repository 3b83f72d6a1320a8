"""How survey answers and their problems are worded: the note after a number that does not
fit, an answer shown back in a summary, a number in the user's notation, why an enterprise
not approved yet has no surveys."""

from __future__ import annotations

import html
from datetime import date
from decimal import Decimal

from chat.i18n import _, current_locale
from db.surveys import Unapproved
from domain import kpi_checks, numbers
from domain import survey_calendar as calendar
from domain.questionnaire import (
    ABOVE_OTHER,
    PERCENT_TOO_BIG,
    TOO_BIG,
    TOO_SMALL,
    YES,
    YES_NO,
    Answer,
    Answers,
    Question,
    Questionnaire,
    bound,
)


def show_number(value: Decimal, *, percent: bool = False) -> str:
    """1250.5 as "1.250,5" in Indonesian, "1,250.5" in English."""
    return numbers.format_number(value, current_locale(), percent=percent)


def number_note(error: str, question: Question, *, answers: Answers | None = None,
                questionnaire: Questionnaire | None = None, skip: str | None = None,
                period: date | None = None) -> str:
    """Why a typed number was not taken, in the user's language; with `skip` (an optional
    question's skip button), text that is no number also names the button. `period`: the
    month asked about."""
    if error == kpi_checks.MORE_DAYS_THAN_MONTH and period is not None:
        return _("{month} has only {days} days. Please check the number.").format(
            month=calendar.month_name(period, current_locale()),
            days=kpi_checks.days_in_month(period))
    if error == numbers.EMPTY:
        return _("Please type a number.")
    if error == numbers.TOO_LONG:
        return _("That is too long. Please type just the number.")
    if error == numbers.NEGATIVE:
        return _("The number cannot be below zero.")
    if error == numbers.NOT_WHOLE:
        return _("Please type a whole number, without decimals.")
    if error == numbers.TOO_MANY_DECIMALS:
        return _("Please round it to at most three decimals, for example {decimal}.").format(
            decimal=show_number(Decimal("2.125")))
    if error == numbers.PERCENT_NOT_ALLOWED:
        return _("Please type the number itself, not a percentage.")
    if error in (numbers.PERCENT_OVER_100, PERCENT_TOO_BIG):
        return _("A percentage is at most 100%.")
    if error == TOO_SMALL:
        return _("The smallest possible answer is {min}.").format(min=show_number(question.min))
    if error == TOO_BIG and question.max is not None:
        return _("That is more than {max}. Please check the number.").format(
            max=show_number(question.max))
    if error == ABOVE_OTHER and answers is not None and questionnaire is not None:
        limit = bound(question, answers)
        language = current_locale()
        # Named after the answers it comes from, inside a sentence: "workers × scheduled
        # workdays" (a label starts with a capital as a button).
        names = " × ".join(_in_sentence(questionnaire.by_key[f].label[language])
                           if isinstance(f, str) else show_number(f) for f in question.at_most)
        if limit is not None:
            return _("That is more than {what} ({max}). Please check the number.").format(
                max=show_number(limit), what=html.escape(names))
    decimal = show_number(Decimal("2.5"))
    if skip is not None and error == numbers.NOT_A_NUMBER:
        if question.whole:
            return _("Please type a whole number (for example 120), or press “{skip}”.").format(
                skip=skip)
        return _("Please type a number (for example 120 or {decimal}), or press “{skip}”."
                 ).format(decimal=decimal, skip=skip)
    if question.whole:
        return _("Please type a whole number, for example 120.")
    return _("Please type a number, for example 120 or {decimal}.").format(decimal=decimal)


def doubt_text(question: Question, value: Decimal, doubt: kpi_checks.Doubt, *,
               other: Decimal | None = None) -> str:
    """An unlikely answer shown back with why it is unlikely, and the question whether it is
    right; with `other` (the other reading of "1,250"), which of the two was meant."""
    language = current_locale()
    before = show_number(doubt.compared)
    month = calendar.month_name(doubt.period, language) if doubt.period else None
    if doubt.reason == kpi_checks.ABOVE_ENROLLED:
        why = _("That is more than twice the {count} workers the enterprise enrolled "
                "with.").format(count=before)
    elif doubt.reason == kpi_checks.HOURS_PER_WORKER:
        why = _("That is {hours} hours per worker in the month ({workers} workers), more "
                "than {limit}.").format(
            hours=show_number(kpi_checks.hours_per_worker(value, doubt.compared)),
            workers=before, limit=show_number(kpi_checks.HOURS_PER_WORKER_LIMIT))
    elif doubt.reason == kpi_checks.TENFOLD_UP and month is not None:
        why = _("That is ten times or more the {before} reported for {month}.").format(
            before=before, month=month)
    elif doubt.reason == kpi_checks.TENFOLD_UP:
        why = _("That is ten times or more the baseline ({before}, the figure from before "
                "the training).").format(before=before)
    elif month is not None:
        why = _("That is a tenth or less of the {before} reported for {month}.").format(
            before=before, month=month)
    else:
        why = _("That is a tenth or less of the baseline ({before}, the figure from before "
                "the training).").format(before=before)
    if other is not None:
        ask = _("Did you mean {a} or {b}?").format(a=show_number(value), b=show_number(other))
    else:
        ask = _("Is this number right?")
    return "\n".join([f"<b>{html.escape(question.label[language])}: {show_number(value)}</b>",
                      why, ask])


def _in_sentence(label: str) -> str:
    return label[:1].lower() + label[1:]


def show_answer(question: Question, answer: Answer | None,
                questionnaire: Questionnaire) -> str:
    """One answer as a summary shows it."""
    language = current_locale()
    if answer is None:
        return "-"
    if answer.skipped:
        return html.escape(questionnaire.skip[language])
    if answer.number is not None:
        return show_number(answer.number, percent=answer.percent)
    if answer.choice is not None:
        if question.type == YES_NO:
            return _("Yes") if answer.choice == YES else _("No")
        choice = question.choice(answer.choice)
        return html.escape(choice.text[language]) if choice else answer.choice
    return html.escape(answer.text or "")


def not_approved(enterprise: Unapproved) -> str:
    """What an owner (or admin) of an enterprise staff have not approved hears when they ask
    for a report, a survey or the baseline: they start once it is approved."""
    name = html.escape(enterprise.name)
    if enterprise.rejected:
        return _("This is available once the SCORE team approves {name}. The team did not "
                 "approve the enrolment. Please correct it with /enrol and confirm, and it "
                 "goes back to the team.").format(name=name)
    return _("This is available once the SCORE team approves {name}. Your enrolment is "
             "waiting for their approval.").format(name=name)
