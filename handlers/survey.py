"""The survey engine: one flow that runs any survey definition (domain/questionnaires/).

Opened from an invitation's button or /survey. Each answer is kept in the database as it is
given (`db/surveys.record_answer`), so a person can stop, do something else or be cut off
by a restart, and /survey (or the invitation) goes on at the same question. Which question
comes next, what a number may be and which follow-ups apply come from the definition; this
file only asks and reads answers, so a new question needs no code here.
"""

from __future__ import annotations

import html
from datetime import date
from decimal import Decimal
from typing import TypedDict, cast
from zoneinfo import ZoneInfo

from telegram import Update

from chat.access import role_of
from chat.context import BotContext
from chat.describe import leave_unnamed
from chat.flow import BUTTON, END, Flow, Outcome, Run
from chat.i18n import _, current_locale
from chat.reply import rows
from db import survey_results
from db import surveys as surveys_db
from db.models import ResponseKind
from domain import kpi, kpi_checks, numbers
from domain import survey_calendar as calendar
from domain.provinces import WIB
from domain.questionnaire import (
    SKIPPED,
    TEXT,
    TEXT_MAX,
    YES,
    YES_NO,
    Answer,
    Question,
    Questionnaire,
    check_number,
    choice_values,
    load,
)
from domain.roles import Role
from services.surveys import finishing
from services.surveys.kpi_text import rate_lines
from services.surveys.rounds import month_words
from services.surveys.survey_text import (
    doubt_text,
    not_approved,
    number_note,
    show_answer,
    show_number,
)


class SurveyOption(TypedDict):
    """A survey the person may answer, as the draft keeps it (`_option`)."""

    survey: str
    period: str | None   # ISO; None for a baseline, whose month is asked
    kind: str            # a ResponseKind's value
    enterprise_id: int
    name: str            # the enterprise's
    entered_as: str


class StoredAnswer(TypedDict, total=False):
    """An answer as the draft carries it (`_dump`)."""

    number: str | None   # a Decimal, as text
    percent: bool
    choice: str | None
    text: str | None
    skipped: bool


class ShortAnswer(TypedDict, total=False):
    """An answer as drafts written before StoredAnswer carry it (`_load`)."""

    n: str | None
    p: bool
    c: str | None
    t: str | None
    s: bool


class Which(TypedDict):
    """A number read two ways ("1,250"): which one was meant."""

    raw: str   # as typed
    a: str     # read with a thousands separator, a Decimal as text
    b: str     # read with a decimal comma


class Unsure(TypedDict):
    """An answer that fits but is unlikely (domain/kpi_checks.py): asked about first."""

    raw: str
    number: str          # a Decimal, as text
    percent: bool
    reason: str          # a kpi_checks reason
    compared: str        # what it was compared with, a Decimal as text
    month: str | None    # ISO: the month of that earlier figure; None for the baseline's
    other: str | None    # the typed number read with a decimal comma ("1,25"), if it can be


class SurveyData(TypedDict, total=False):
    options: list[SurveyOption]   # offered to pick from
    # The option chosen (SurveyOption's fields but the period, set when it is known).
    survey: str
    kind: str
    name: str
    enterprise_id: int
    entered_as: str
    period: str                   # ISO
    months: list[str]             # a baseline's months offered, ISO
    baselines: list[str]          # those of them that have a baseline already
    response_id: int              # the response being answered
    final_id: int                 # the response sent before, or sent meanwhile by another
    sent_by: str | None           # who sent that one, if known
    replacing: int                # the response this one replaces, as shown (`final_id`)
    answers: dict[str, StoredAnswer]   # by question key
    q: str                        # the key of the question asked
    which: Which
    unsure: Unsure


def _cancelled(run: Run[SurveyData]) -> str:
    """Each answer is in the database as it is given: /survey (/baseline) opens the same
    response again while its round is open, and only a response finished (a report
    confirmed) counts."""
    if "response_id" not in run.data:
        return _("Cancelled. Type /help to see the menu.")
    if run.data.get("kind") == ResponseKind.BASELINE.value:
        return _("Stopped. The answers given so far are kept, and the baseline counts once "
                 "you send it at the end. Type /baseline to continue.")
    if run.data.get("survey") == "kpi":
        return _("Stopped. The answers given so far are kept. The report counts once you send "
                 "it at the end, before it closes. Type /survey to continue.")
    return _("Stopped. Your answers so far are kept until the survey closes, and they count "
             "once you finish it. Type /survey to continue.")


SURVEY: Flow[SurveyData] = Flow("survey", command="survey", reentry=False,
                                cancelled=_cancelled)

ANSWER, PICK, REPLACE, WHICH, CONFIRM, FIX, BASELINE, SUPERSEDED, SURE = (
    "sva", "svpick", "svrep", "svwhich", "svok", "svfix", "svbase", "svsup", "svsure")


# --- opening ------------------------------------------------------------------------------
def _questionnaire(run: Run[SurveyData]) -> Questionnaire:
    return load(run.data["survey"])


def _period(run: Run[SurveyData]) -> date:
    return date.fromisoformat(run.data["period"])


def _title(run: Run[SurveyData]) -> str:
    if run.data.get("kind") == ResponseKind.BASELINE.value:
        return _("Baseline of {name}, {month}").format(
            name=run.data.get("name", ""),
            month=calendar.month_name(_period(run), current_locale()))
    title = _questionnaire(run).title[current_locale()].format(month=month_words(_period(run)))
    if run.data.get("entered_as") == "trainer":
        return f"{run.data.get('name', '')}: {title}"  # a trainer answers for another
    return title


@SURVEY.entry
async def begin(run: Run[SurveyData], round_id: str | None = None,
                baseline: bool = False) -> Outcome:
    user = run.context.user_row
    if user is None or user.consent_at is None:
        await run.say(_("Please start with /start and agree first."))
        return END
    sessions = run.svc.sessionmaker
    if baseline:
        found = await surveys_db.baseline_offer(sessions, run.user_id)
    else:
        found = await surveys_db.offer(
            sessions, run.user_id, now=run.svc.clock.now(),
            round_id=int(round_id) if round_id is not None and round_id.isdigit() else None)
    if not found.choices:
        if found.places == 0 and role_of(run.context) is Role.TRAINER:
            await run.say(_("No enterprise is assigned to you yet. The SCORE team assigns "
                            "enterprises to trainers."))
        else:
            reports = role_of(run.context) in (Role.OWNER, Role.ADMIN, Role.TRAINER)
            await run.say(_nothing_to_answer(found, baseline=baseline, worker=not reports))
        return END
    options = [_option(choice) for choice in found.choices]
    run.data["options"] = options
    if len(options) == 1:
        return await _chosen(run, options[0])
    return ask_pick


def _nothing_to_answer(found: surveys_db.Offer, *, baseline: bool, worker: bool) -> str:
    """Why there is nothing to answer, in the words of the one asking: a worker's survey
    (Anda), or the report owners, admins and trainers send (Bapak/Ibu)."""
    language = current_locale()
    if found.unapproved is not None and (baseline or found.places == 0):
        return not_approved(found.unapproved)
    if baseline:
        return _("The baseline is entered by the enterprise's owner or its SCORE trainer. "
                 "Type /help to see the menu.")
    if found.opens_on is not None:
        # Invitations go again only to whoever has not answered: promise no more than that.
        day = calendar.date_words(found.opens_on, language)
        if worker:
            return _("This survey was moved. It opens on {date}. If you have not answered "
                     "yet, you will get a message then.").format(date=day)
        return _("This report was moved. It opens on {date}. If it has not been sent yet, "
                 "you will get a message then.").format(date=day)
    if found.closed_on is not None:
        day = calendar.date_words(found.closed_on, language)
        if worker:
            return _("This survey closed on {date}. Thank you.").format(date=day)
        return _("This report closed on {date}.").format(date=day)
    if worker:
        return _("No survey is open for you now. You will get a message when the next one "
                 "opens.")
    return _("No report is open now. You will get a message when the next one opens.")


async def start_baseline(update: Update, context: BotContext) -> None:
    """/baseline: the KPI report before training, for owners and assigned trainers."""
    await SURVEY.start(update, context, baseline=True)


def _option(choice: surveys_db.Answerable) -> SurveyOption:
    """A choice as the draft keeps it (JSON)."""
    return {"survey": choice.survey,
            "period": choice.period.isoformat() if choice.period else None,
            "kind": choice.kind.value, "enterprise_id": choice.place.enterprise_id,
            "name": choice.place.name, "entered_as": choice.place.entered_as}


def _option_label(option: SurveyOption | SurveyData) -> str:
    if option["kind"] == ResponseKind.BASELINE.value:
        label = _("Baseline of {name}").format(name=option["name"])
    else:
        period = option["period"]
        assert period is not None, "only a baseline's option has no month"
        title = load(option["survey"]).title[current_locale()]
        label = title.format(month=month_words(date.fromisoformat(period)))
        if option["entered_as"] == "trainer":
            label = f"{option['name']}: {label}"
    return label[:60]


@SURVEY.step("survey_pick", expects=BUTTON)
async def ask_pick(run: Run[SurveyData]) -> None:
    options = run.data["options"]
    await run.say(_("Which one do you want to fill in?"),
                  rows([run.button(_option_label(o), PICK, str(i))
                        for i, o in enumerate(options)], width=1))


def _an_option(run: Run[SurveyData], value: str) -> bool:
    return value.isdigit() and int(value) < len(run.data.get("options", []))


@ask_pick.on_button(PICK, offered=_an_option)
async def picked(run: Run[SurveyData], value: str) -> Outcome:
    await run.ack()
    return await _chosen(run, run.data["options"][int(value)])


async def _chosen(run: Run[SurveyData], option: SurveyOption) -> Outcome:
    run.data.update({"survey": option["survey"], "kind": option["kind"], "name": option["name"],
                     "enterprise_id": option["enterprise_id"],
                     "entered_as": option["entered_as"]})
    run.data.pop("options", None)
    if option["kind"] == ResponseKind.BASELINE.value:
        monthly, baselines = await survey_results.reported_months(
            run.svc.sessionmaker, int(option["enterprise_id"]))
        # Months before training: not one the enterprise already reported monthly. A month
        # with a baseline is marked; choosing it again offers to replace it.
        # The day in WIB, where months are counted (survey_calendar): in UTC the 1st of a
        # month begins at 07:00 WIB, and the month that just ended was not offered before.
        today = run.svc.clock.now().astimezone(ZoneInfo(WIB)).date()
        months = [m for m in calendar.recent_periods(today, 12) if m not in monthly][:6]
        if not months:
            await run.say(_("Every recent month already has a monthly report. Type /help to "
                            "see the menu."))
            return END
        run.data["months"] = [m.isoformat() for m in months]
        run.data["baselines"] = [m.isoformat() for m in baselines]
        return ask_baseline_month
    assert option["period"] is not None, "only a baseline's option has no month"
    run.data["period"] = option["period"]
    return await _open(run, replace=False)


@SURVEY.step("survey_baseline", expects=BUTTON)
async def ask_baseline_month(run: Run[SurveyData]) -> None:
    months, baselines = run.data["months"], set(run.data["baselines"])
    await run.say(_("Which month does this baseline describe? Choose a month before the "
                    "training started. Earlier months can be added afterwards."),
                  rows([run.button(("✓ " if m in baselines else "") + calendar.month_name(
                      date.fromisoformat(m), current_locale()), BASELINE, m)
                      for m in months], width=2))


@ask_baseline_month.on_button(BASELINE, offered=lambda run, value: value in run.data["months"])
async def baseline_month(run: Run[SurveyData], value: str) -> Outcome:
    await run.ack()
    run.data["period"] = value
    return await _open(run, replace=False)


async def _open(run: Run[SurveyData], *, replace: bool) -> Outcome:
    opened = await surveys_db.open_response(
        run.svc.sessionmaker, survey=run.data["survey"], period=_period(run),
        enterprise_id=int(run.data["enterprise_id"]), respondent_id=run.user_id,
        entered_as=run.data["entered_as"], kind=ResponseKind(run.data["kind"]),
        now=run.svc.clock.now(), replace=replace)
    if opened.closed:
        await run.say(_("This survey is closed. Thank you."))
        return END
    if opened.finished_before:
        assert opened.final_id is not None
        run.data["final_id"] = opened.final_id
        return ask_replace
    assert opened.response_id is not None
    run.data["response_id"] = opened.response_id
    run.data["answers"] = {k: _dump(a) for k, a in opened.answers.items()}
    questionnaire = _questionnaire(run)
    if run.data["entered_as"] == "trainer":
        # A trainer answers for someone else's enterprise: which one, first.
        await run.say(html.escape(_option_label(run.data)))
    if opened.resumed and opened.answers:
        await run.say(_("Continuing where you stopped."))
    elif questionnaire.intro is not None:
        await run.say(html.escape(questionnaire.intro[current_locale()]))
    return await _next(run)


@SURVEY.step("survey_replace", expects=BUTTON)
async def ask_replace(run: Run[SurveyData]) -> None:
    await run.say(_("{title} was already sent. Answer again? The new answers will replace "
                    "the earlier ones.").format(title=html.escape(_title(run))),
                  rows([run.button(_("Yes, answer again"), REPLACE, "yes"),
                        run.button(_("Show the answers"), REPLACE, "show"),
                        run.button(_("No, keep the earlier answers"), REPLACE, "no")], width=1))


@ask_replace.on_button(REPLACE, ("yes", "show", "no"))
async def replace_answered(run: Run[SurveyData], value: str) -> Outcome:
    await run.ack()
    if value == "no":
        await run.say(_("Fine, nothing was changed."))
        return END
    if value == "show":
        # A trainer checking the report during a visit, or anyone their own answers.
        await _show_final(run)
        return ask_replace
    return await _open(run, replace=True)


async def _show_final(run: Run[SurveyData]) -> None:
    """The report that was sent (`final_id`), as a summary."""
    answers = await surveys_db.response_answers(run.svc.sessionmaker, int(run.data["final_id"]))
    await run.say("\n".join(_summary(run, answers)))


# --- asking ---------------------------------------------------------------------------------
def _answers(run: Run[SurveyData]) -> dict[str, Answer]:
    """The answers so far, as the draft carries them beside the database: which question is
    next and what a number may be need them at every answer, without a read for it. The
    database stays the record: a run is opened (and resumed) from it."""
    return {k: _load(v) for k, v in run.data.get("answers", {}).items()}


def _dump(answer: Answer) -> StoredAnswer:
    return {"number": str(answer.number) if answer.number is not None else None,
            "percent": answer.percent, "choice": answer.choice, "text": answer.text,
            "skipped": answer.skipped}


def _load(data: StoredAnswer) -> Answer:
    if "n" in data:
        # A draft written before December 2026 keeps an answer under one letter per field:
        # a survey half answered when the fields got names goes on. Drafts last 14 days at
        # most (jobs/drafts.py), so this branch and ShortAnswer can go 14 days after that
        # change is deployed.
        short = cast(ShortAnswer, data)
        data = StoredAnswer(number=short.get("n"), percent=bool(short.get("p")),
                            choice=short.get("c"), text=short.get("t"),
                            skipped=bool(short.get("s")))
    number = data.get("number")
    return Answer(number=Decimal(number) if number is not None else None,
                  percent=bool(data.get("percent")), choice=data.get("choice"),
                  text=data.get("text"), skipped=bool(data.get("skipped")))


def _question(run: Run[SurveyData]) -> Question:
    return _questionnaire(run).by_key[run.data["q"]]


async def _next(run: Run[SurveyData]) -> Outcome:
    questionnaire = _questionnaire(run)
    answers = _answers(run)
    question = questionnaire.next_question(answers)
    if question is not None:
        run.data["q"] = question.key
        return ask_question
    unfit = questionnaire.first_unfit(questionnaire.kept(answers))
    if unfit is not None:
        # An answer changed from the summary made another one impossible: that one again.
        question, error = unfit
        run.data["q"] = question.key
        await run.say(_("Your answer to “{label}” was {value}. {note}").format(
            label=html.escape(question.label[current_locale()]),
            value=show_answer(question, answers.get(question.key), questionnaire),
            note=number_note(error, question, answers=answers, questionnaire=questionnaire)))
        return ask_question
    if questionnaire.confirm:
        return ask_confirm
    return await _finish(run)


def _wrong_kind(run: Run[SurveyData]) -> str:
    question = _question(run)
    if question.is_number:
        if question.optional:
            return _("Please type a number, or press “{skip}”.").format(
                skip=_questionnaire(run).skip[current_locale()])
        return _("Please type a number.")
    if question.type == TEXT:
        return _("Please answer with text.")
    return _("Please choose one of the buttons below.")


@SURVEY.step("survey_question", note=_wrong_kind)
async def ask_question(run: Run[SurveyData]) -> None:
    questionnaire = _questionnaire(run)
    question = _question(run)
    language = current_locale()
    n, of = questionnaire.position(question, _answers(run))
    text = question.text[language].format(month=month_words(_period(run)))
    tag = _tag(run, question)
    buttons = [run.button(c.text[language], ANSWER, tag + c.value) for c in question.choices]
    if question.type == YES_NO:
        buttons = [run.button(_("Yes"), ANSWER, tag + "yes"),
                   run.button(_("No"), ANSWER, tag + "no")]
    if question.optional:
        buttons.append(run.button(questionnaire.skip[language], ANSWER, tag + SKIPPED))
    await run.say(f"<b>{n}/{of}</b> {html.escape(text)}",
                  rows(buttons, width=1) if buttons else None)


def _tag(run: Run[SurveyData], question: Question) -> str:
    """What a question's answer buttons carry before their value ("7."): the question they
    answer. Every question is this one step, so without it an earlier question's "Tidak"
    would answer the open one."""
    return f"{_questionnaire(run).questions.index(question)}."


def _offered(run: Run[SurveyData], value: str) -> bool:
    """A button of the open question (not of an earlier one of this run: answered)."""
    question = _question(run)
    tag = _tag(run, question)
    if not value.startswith(tag):
        return False
    choice = value.removeprefix(tag)
    return choice in choice_values(question) or (choice == SKIPPED and question.optional)


def _private(run: Run[SurveyData]) -> None:
    """A worker's pulse answer: its log line names no one (chat/describe.py)."""
    if _questionnaire(run).subject != "enterprise":
        leave_unnamed(run.update)


@ask_question.on_button(ANSWER, offered=_offered)
async def button_answer(run: Run[SurveyData], value: str) -> Outcome:
    _private(run)
    await run.ack()
    value = value.removeprefix(_tag(run, _question(run)))
    if value == SKIPPED:
        return await _keep(run, Answer(skipped=True), raw=None)
    return await _keep(run, Answer(choice=value), raw=None)


@ask_question.on_text()
async def text_answer(run: Run[SurveyData], text: str) -> Outcome:
    _private(run)
    question = _question(run)
    typed = " ".join(text.split()).casefold()
    if typed.rstrip(".!") in {label.casefold() for label in _questionnaire(run).skip.values()}:
        if question.optional:
            return await _keep(run, Answer(skipped=True), raw=text)  # the button, typed
        return run.retry(_("This one cannot be left out: the other figures are worked out "
                           "from it. Please type the number."))
    if question.is_number:
        return await _number_typed(run, question, text)
    if question.type == TEXT:
        cleaned = " ".join(text.split())
        if not cleaned:
            return run.retry(_("Please answer with text."))
        if len(cleaned) > TEXT_MAX:
            return run.retry(_("That is too long. Please keep it under {count} characters.")
                             .format(count=TEXT_MAX))
        return await _keep(run, Answer(text=cleaned), raw=text)
    # A choice typed instead of pressed ("ya", "Sering"): taken as the button.
    language = current_locale()
    for value in choice_values(question):
        label = (_("Yes") if value == YES else _("No")) if question.type == YES_NO else \
            question.choice(value).text[language]  # type: ignore[union-attr]
        if typed == label.casefold():
            return await _keep(run, Answer(choice=value), raw=text)
    return run.retry(_wrong_kind(run))


async def _number_typed(run: Run[SurveyData], question: Question, text: str) -> Outcome:
    value, error = numbers.read_number(text, whole=question.whole,
                                       percent_allowed=question.type == "whole_or_percent")
    if isinstance(value, numbers.Ambiguous):
        # "1,250": asked which was meant only when both readings would be taken.
        errors = {reading: _error_of(run, question, reading)
                  for reading in (value.thousands, value.decimal_comma)}
        fitting = [reading for reading, error in errors.items() if error is None]
        if len(fitting) == 1:
            other = value.decimal_comma if fitting[0] == value.thousands else None
            return await _checked(run, question, fitting[0], False, raw=text, other=other)
        if not fitting:
            return run.retry(number_note(errors[value.thousands] or numbers.NOT_A_NUMBER,
                                         question, answers=_answers(run),
                                         questionnaire=_questionnaire(run)))
        run.data["which"] = {"raw": text, "a": str(value.thousands),
                             "b": str(value.decimal_comma)}
        return ask_which
    if error is not None or value is None:
        skip = _questionnaire(run).skip[current_locale()] if question.optional else None
        return run.retry(number_note(error or numbers.NOT_A_NUMBER, question, skip=skip))
    return await _checked(run, question, value.value, value.percent, raw=text)


def _error_of(run: Run[SurveyData], question: Question, value: Decimal) -> str | None:
    """Why `value` would not be taken for `question`; None when it would."""
    if question.whole and value != value.to_integral_value():
        return numbers.NOT_WHOLE
    return check_number(question, value, percent=False, answers=_answers(run))


async def _checked(run: Run[SurveyData], question: Question, value: Decimal, percent: bool, *,
                   raw: str, other: Decimal | None = None) -> Outcome:
    """A typed number that fits is kept, unless it is unlikely: then asked about first.
    `other`: the reading of "1,250" that was set aside (1,25), offered when asked."""
    if question.whole and not percent and value != value.to_integral_value():
        return run.retry(number_note(numbers.NOT_WHOLE, question))
    error = check_number(question, value, percent=percent, answers=_answers(run))
    if error is None and _questionnaire(run).key == "kpi" and not percent:
        error = kpi_checks.refusal(question.key, value, period=_period(run))
    if error is not None:
        return run.retry(number_note(error, question, answers=_answers(run),
                                     questionnaire=_questionnaire(run), period=_period(run)))
    if _questionnaire(run).key == "kpi":
        reference = await survey_results.kpi_reference(
            run.svc.sessionmaker, int(run.data["enterprise_id"]), _period(run),
            baseline=run.data["kind"] == ResponseKind.BASELINE.value)
        doubt = kpi_checks.doubt(question.key, value, percent=percent, answers=_answers(run),
                                 reference=reference)
        if doubt is not None:
            run.data["unsure"] = {
                "raw": raw, "number": str(value), "percent": percent, "reason": doubt.reason,
                "compared": str(doubt.compared),
                "month": doubt.period.isoformat() if doubt.period else None,
                "other": str(other) if other is not None else None}
            return ask_sure
    return await _keep(run, Answer(number=value, percent=percent), raw=raw)


@SURVEY.step("survey_sure", expects=BUTTON)
async def ask_sure(run: Run[SurveyData]) -> None:
    unsure = run.data["unsure"]
    question = _question(run)
    value = Decimal(unsure["number"])
    doubt = kpi_checks.Doubt(
        unsure["reason"], Decimal(unsure["compared"]),
        date.fromisoformat(unsure["month"]) if unsure["month"] else None)
    other = unsure["other"]
    text = doubt_text(question, value, doubt, other=Decimal(other) if other else None)
    again = run.button(_("Type it again"), SURE, "again")
    if other is not None:
        # "1.250 atau 1,25?": both readings, and typing it again.
        buttons = rows([run.button(show_number(value), SURE, "keep"),
                        run.button(show_number(Decimal(other)), SURE, "other"), again])
    else:
        buttons = rows([run.button(_("Yes, {value} is right").format(value=show_number(value)),
                                   SURE, "keep"), again], width=1)
    await run.say(text, buttons)


def _sure_offered(run: Run[SurveyData], value: str) -> bool:
    unsure = run.data.get("unsure")
    return unsure is not None and (value in ("keep", "again")
                                   or (value == "other" and unsure["other"] is not None))


@ask_sure.on_text()
async def typed_instead_of_sure(run: Run[SurveyData], text: str) -> Outcome:
    """A number typed instead of a choice: the answer to the question, checked afresh."""
    run.data.pop("unsure", None)
    run.go_to(ask_question)
    return await _number_typed(run, _question(run), text)


@ask_sure.on_button(SURE, offered=_sure_offered)
async def sure_answered(run: Run[SurveyData], value: str) -> Outcome:
    await run.ack()
    unsure = run.data.pop("unsure")
    run.go_to(ask_question)
    if value == "again":
        return ask_question
    if value == "other":
        # The other reading of "1,250", checked as any typed number (it may not be whole).
        assert unsure["other"] is not None
        return await _checked(run, _question(run), Decimal(unsure["other"]), False,
                              raw=unsure["raw"])
    return await _keep(run, Answer(number=Decimal(unsure["number"]),
                                   percent=unsure["percent"]), raw=unsure["raw"])


@SURVEY.step("survey_which", expects=BUTTON)
async def ask_which(run: Run[SurveyData]) -> None:
    which = run.data["which"]
    thousands, decimal_comma = Decimal(which["a"]), Decimal(which["b"])
    await run.say(_("Did you mean {a} or {b}?").format(
        a=show_number(thousands), b=show_number(decimal_comma)),
        rows([run.button(show_number(thousands), WHICH, "a"),
              run.button(show_number(decimal_comma), WHICH, "b")]))


@ask_which.on_text()
async def typed_instead(run: Run[SurveyData], text: str) -> Outcome:
    """A number typed again instead of a choice: the answer to the question."""
    run.data.pop("which", None)
    run.go_to(ask_question)
    return await _number_typed(run, _question(run), text)


@ask_which.on_button(WHICH, ("a", "b"))
async def which_chosen(run: Run[SurveyData], value: str) -> Outcome:
    await run.ack()
    which = run.data.pop("which")
    run.go_to(ask_question)
    chosen = which["a"] if value == "a" else which["b"]
    return await _checked(run, _question(run), Decimal(chosen), False, raw=which["raw"])


async def _keep(run: Run[SurveyData], answer: Answer, *, raw: str | None) -> Outcome:
    question = _question(run)
    refusal = await surveys_db.record_answer(
        run.svc.sessionmaker, int(run.data["response_id"]), question.key, answer, raw=raw,
        now=run.svc.clock.now())
    if refusal is not None:
        return await _refused(run, refusal)
    run.data.setdefault("answers", {})[question.key] = _dump(answer)
    run.edit_kept()  # a changed answer is stored already: no way back to the old one
    return await _next(run)


async def _refused(run: Run[SurveyData], refusal: surveys_db.Refusal) -> Outcome:
    """The response takes no more answers: why, and that nothing given is lost."""
    if refusal.reason == "moved" and refusal.opens_on is not None:
        text = _("This survey was moved. It opens again on {date}, and you will get a message "
                 "then. The answers given so far are kept.").format(
            date=calendar.date_words(refusal.opens_on, current_locale()))
    elif refusal.reason == "not_allowed":
        text = _("This survey for {name} has ended: you no longer answer for it, so these "
                 "answers are not counted.").format(
            name=html.escape(run.data.get("name", "")))
    else:
        text = _("This survey closed before it was finished, so these answers are not "
                 "counted. Thank you.")
    await run.say(text)
    return END


# --- confirming and finishing ---------------------------------------------------------------
def _summary(run: Run[SurveyData], given: dict[str, Answer]) -> list[str]:
    """The answers as a list, and for the KPI report the rates they give."""
    questionnaire = _questionnaire(run)
    answers = questionnaire.kept(given)
    lines = [f"<b>{html.escape(_title(run))}</b>"]
    for question in questionnaire.asked(answers):
        lines.append(f"{html.escape(question.label[current_locale()])}: "
                     f"{show_answer(question, answers.get(question.key), questionnaire)}")
    if questionnaire.key == "kpi":
        lines.append("")
        lines.extend(rate_lines(kpi.rates(kpi.inputs_from(answers)), None))
    return lines


@SURVEY.step("survey_confirm", expects=BUTTON)
async def ask_confirm(run: Run[SurveyData]) -> None:
    lines = _summary(run, _answers(run))
    lines.append("")
    lines.append(_("Is this correct?"))
    await run.say("\n".join(lines),
                  rows([run.button(_("Yes, send the report"), CONFIRM, "yes"),
                        run.button(_("Change an answer"), CONFIRM, "fix")], width=1))


@ask_confirm.on_button(CONFIRM, ("yes", "fix"))
async def confirm_answered(run: Run[SurveyData], value: str) -> Outcome:
    await run.ack()
    if value == "fix":
        return run.edit(ask_fix, back=ask_confirm)  # /cancel there: the summary again
    return await _finish(run)


@SURVEY.step("survey_fix", expects=BUTTON)
async def ask_fix(run: Run[SurveyData]) -> None:
    questionnaire = _questionnaire(run)
    answers = questionnaire.kept(_answers(run))
    language = current_locale()
    await run.say(_("Which answer do you want to change?"),
                  rows([run.button(q.label[language], FIX, q.key)
                        for q in questionnaire.asked(answers)], width=2))


def _asked(run: Run[SurveyData], key: str) -> bool:
    questionnaire = _questionnaire(run)
    return key in {q.key for q in questionnaire.asked(questionnaire.kept(_answers(run)))}


@ask_fix.on_button(FIX, offered=_asked)
async def fix_chosen(run: Run[SurveyData], key: str) -> Outcome:
    await run.ack()
    run.data["q"] = key
    # /cancel while changing it goes back to the summary with the answer as it was.
    return run.edit(ask_question, back=ask_confirm)


async def _finish(run: Run[SurveyData]) -> Outcome:
    questionnaire = _questionnaire(run)
    svc = run.svc

    name = (run.context.user_row.name if run.context.user_row else None) or ""
    finish = await finishing.finish(svc, int(run.data["response_id"]),
                                    keep=questionnaire.kept(_answers(run)).keys(), finisher=name,
                                    replacing=run.data.get("replacing"))
    if finish.superseded_by is not None:
        run.data["final_id"], run.data["sent_by"] = finish.superseded_by, finish.sent_by
        return ask_superseded
    if finish.refusal is not None:
        return await _refused(run, finish.refusal)
    if questionnaire.key == "kpi" and run.data["kind"] == ResponseKind.MONTHLY.value:
        await run.say("\n".join([_("Thank you, the report is saved."), "",
                                 *await _against_baseline(run), "",
                                 _("Type /kpi to see the trend.")]))
    elif questionnaire.key == "kpi":
        await run.say(_("Thank you, the baseline is saved."))
    else:
        await run.say(_("Thank you! The answers are saved."))
    return END


@SURVEY.step("survey_superseded", expects=BUTTON)
async def ask_superseded(run: Run[SurveyData]) -> None:
    # Only an enterprise's report can be sent by someone else: owners, admins and trainers.
    title = html.escape(_title(run))
    if sent_by := run.data.get("sent_by"):
        text = _("While you were answering, {name} sent this report: {title}. Send yours "
                 "instead? It will replace that one.").format(
            name=html.escape(sent_by), title=title)
    else:
        text = _("While you were answering, someone else sent this report: {title}. Send "
                 "yours instead? It will replace that one.").format(title=title)
    await run.say(text, rows([run.button(_("Yes, send mine"), SUPERSEDED, "yes"),
                              run.button(_("Show that report"), SUPERSEDED, "show"),
                              run.button(_("No, keep that report"), SUPERSEDED, "no")],
                             width=1))


@ask_superseded.on_button(SUPERSEDED, ("yes", "show", "no"))
async def superseded_answered(run: Run[SurveyData], value: str) -> Outcome:
    await run.ack()
    if value == "no":
        await surveys_db.withdraw_response(run.svc.sessionmaker, int(run.data["response_id"]),
                                           now=run.svc.clock.now())
        await run.say(_("Fine, the report already sent stays."))
        return END
    if value == "show":
        await _show_final(run)
        return ask_superseded
    # Yes: that one, as shown, is replaced; one sent after this answer is asked about again.
    run.data["replacing"] = int(run.data["final_id"])
    return await _finish(run)


async def _against_baseline(run: Run[SurveyData]) -> list[str]:
    """The report's headline rates, each with its change from the baseline."""
    history = await survey_results.kpi_history(run.svc.sessionmaker,
                                               int(run.data["enterprise_id"]))
    now = kpi.rates(kpi.inputs_from(history.months.get(_period(run), {})))
    if history.baseline is None:
        return [*rate_lines(now, None), _("No baseline yet: the SCORE trainer enters it at "
                                          "the intake visit, or you can enter it with "
                                          "/baseline.")]
    return rate_lines(now, kpi.rates(kpi.inputs_from(history.baseline)))
