"""SME enrolment: the owner answers eight questions, checks a summary, and confirms."""

from __future__ import annotations

import html
from typing import Any, TypedDict

from telegram import (
    Contact,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)
from telegram.error import TelegramError

from chat.access import role_of
from chat.context import BotContext
from chat.flow import BUTTON, END, PHONE, STAY, Flow, Outcome, Run
from chat.i18n import N_, _, current_locale, format_number
from chat.labels import module_name, sector_name
from chat.menu import set_chat_menu
from chat.province_step import province_step
from chat.reply import rows, with_rows
from db.enrolment import Taken, check_name, own_answers
from db.joining import is_join_code, workplace_of
from domain import text_input
from domain.enterprise_size import MAX_WORKERS, MIN_WORKERS, fits_score
from domain.join_codes import looks_like_code
from domain.modules import MODULES, module_of
from domain.phone import normalize_phone
from domain.provinces import by_code
from domain.roles import Role, may_enrol
from domain.sectors import SECTORS
from domain.text_input import tidy_place
from handlers.join import JOIN
from services import enrolment, enrolment_notices

FIELDS = ("name", "sector", "province", "city", "workers", "contact", "phone", "modules")

def _may_enrol(context: BotContext) -> bool:
    return may_enrol(role_of(context))


async def _refused(context: BotContext) -> str:
    role = role_of(context)
    if role is Role.TRAINER:
        return _("You stay a SCORE trainer. To help an owner enrol, ask them to send /start to "
                 "this bot on their own phone and choose the owner button.")
    workplace = (await workplace_of(context.svc.sessionmaker, context.user_row.id)
                 if role in (Role.WORKER, Role.ADMIN) and context.user_row else None)
    if workplace is not None and role is Role.WORKER:
        # A worker who wants to enrol their own enterprise leaves this one first: one
        # person is a worker or an owner (domain/roles.py), and /leave gives the role back.
        return _("You are registered as a worker at {name}. If you no longer work there and "
                 "want to enrol your own enterprise, send /leave first, then /enrol.").format(
                     name=html.escape(workplace.name))
    if workplace is not None:
        return _("You are registered as an admin of {name}. To enrol your own enterprise, "
                 "please send /leave first, then /enrol.").format(
                     name=html.escape(workplace.name))
    return _("Enrolment is for owners of an enterprise. Type /help to see the menu.")


class EnrolData(TypedDict, total=False):
    # The answers by field (FIELDS, and "sector_other", "id" when updating an enrolment), in
    # the shape db/enrolment.py reads and stores.
    enrol: dict[str, Any]
    prov_page: int   # the page of provinces shown


# Who may enrol is checked at every answer too: an owner made a trainer half-way (or staff
# made a worker again) would otherwise confirm with the role they no longer have.
ENROL: Flow[EnrolData] = Flow("enrol", command="enrol", allowed=_may_enrol, refused=_refused,
                              cancelled=N_("Cancelled. Nothing was saved. Type /help to see "
                                           "the menu."))

NAME_ERRORS = {
    text_input.EMPTY: N_("The answer is empty."),
    text_input.TOO_LONG: N_("That is too long: at most 200 characters, please."),
    text_input.NO_LETTERS: N_("Please write it in letters."),
    text_input.LOOKS_LIKE_CODE: N_("That does not look like a name."),
    text_input.CHAT_REPLY: N_("That looks like a reply, not a name. Please write the name."),
    "*": N_("Please check the answer."),
}


def _answers(run: Run[EnrolData]) -> dict[str, Any]:
    answers: dict[str, Any] = run.data.setdefault("enrol", {})
    return answers


@ENROL.entry
async def begin(run: Run[EnrolData]) -> Outcome:
    """/enrol, or an owner right after the role choice."""
    user = run.context.user_row
    assert user is not None
    if user.consent_at is None:
        await run.say(_("Please start with /start and agree first."))
        return END
    existing = await own_answers(run.svc.sessionmaker, user.id)
    if existing is not None:
        # Running /enrol again offers to update what was enrolled.
        run.data["enrol"] = existing
        await run.say(_("You already enrolled {name}. You can update it here.").format(
            name=html.escape(existing["name"])))
        return ask_summary
    run.data["enrol"] = {"modules": []}
    await run.say(_("Let's enrol your enterprise: eight short questions. Type /cancel to "
                    "stop."))
    return ask_name


# --- company name ---------------------------------------------------------------------------
@ENROL.step("e_name")
async def ask_name(run: Run[EnrolData]) -> None:
    await run.say(_("What is the name of your company?"))


@ask_name.on_text()
async def name_given(run: Run[EnrolData], text: str) -> Outcome:
    if looks_like_code(text) and not _answers(run).get("id") and \
            await is_join_code(run.svc.sessionmaker, text):
        # A worker who tapped "owner" by mistake types the code from the poster: join.
        return await JOIN.switch(run, code=text)
    name, error = text_input.clean_name(text)
    if error is not None:
        return run.retry(_(NAME_ERRORS.get(error) or NAME_ERRORS["*"]))
    _answers(run)["name"] = name
    return run.then(ask_sector)


# --- sector ---------------------------------------------------------------------------------
@ENROL.step("e_sector", expects=BUTTON)
async def ask_sector(run: Run[EnrolData]) -> None:
    await run.say(_("What does your company make?"),
                  rows([run.button(sector_name(key), "sector", key) for key in SECTORS], width=1))


@ask_sector.on_button("sector", SECTORS)
async def sector_chosen(run: Run[EnrolData], sector: str) -> Outcome:
    await run.ack()
    answers = _answers(run)
    answers["sector"] = sector
    if sector == "other":
        return ask_sector_other
    answers["sector_other"] = None
    return run.then(ask_province)


@ENROL.step("e_sector_other")
async def ask_sector_other(run: Run[EnrolData]) -> None:
    await run.say(_("Please describe your sector in a few words."))


@ask_sector_other.on_text(text_input.clean_name, NAME_ERRORS)
async def sector_other_given(run: Run[EnrolData], text: str) -> Outcome:
    _answers(run)["sector_other"] = text
    return run.then(ask_province)


# --- province -------------------------------------------------------------------------------
def _province_set(run: Run[EnrolData], code: str) -> Outcome:
    answers = _answers(run)
    changed = answers.get("province") not in (None, code)
    answers["province"] = code
    if changed and run.editing:
        # A city belongs to its province: a new province asks for the city again (the edit
        # still returns to the summary after it).
        return ask_city
    return run.then(ask_city)


ask_province = province_step(
    ENROL, "e_province", kind="prov", chosen=_province_set,
    question=N_("In which province is the factory? Choose below, or type its name."))


# --- city -----------------------------------------------------------------------------------
@ENROL.step("e_city")
async def ask_city(run: Run[EnrolData]) -> None:
    await run.say(_("In which city or regency (kabupaten)?"))


@ask_city.on_text(text_input.clean_name, NAME_ERRORS)
async def city_given(run: Run[EnrolData], city: str) -> Outcome:
    _answers(run)["city"] = tidy_place(city)
    if await _taken(run):
        return END
    return run.then(ask_workers)


async def _taken(run: Run[EnrolData]) -> bool:
    """Someone else's approved enterprise of this name in this city: say so (the flow ends).
    Someone else's enrolment still waiting stops nobody: staff see both."""
    answers = _answers(run)
    found = await check_name(run.svc.sessionmaker, run.user_id, answers["name"],
                             answers["city"], answers.get("id"))
    if isinstance(found, int):
        answers["id"] = found
    if not isinstance(found, Taken):
        return False
    await _say_taken(run, found)
    return True


async def _say_taken(run: Run[EnrolData], found: Taken) -> None:
    await run.say(_("{name} in {city} is already enrolled and approved by the SCORE team, so "
                    "this enrolment is not saved.\nIf you work there, please ask its owner for "
                    "an admin invite link.\nIf it is your company, please contact the SCORE "
                    "team.").format(name=html.escape(found.name), city=html.escape(found.city)))


# --- number of workers ----------------------------------------------------------------------
@ENROL.step("e_workers")
async def ask_workers(run: Run[EnrolData]) -> None:
    await run.say(_("How many workers does the company have, all kinds together? Please "
                    "answer with a number, e.g. 120."))


def _workers(text: str | None) -> tuple[int | None, str | None]:
    return text_input.parse_whole_number(text, lo=MIN_WORKERS, hi=MAX_WORKERS)


@ask_workers.on_text(_workers, {text_input.OUT_OF_RANGE: N_("Please give a number from 1 to "
                                                            "100,000."),
                                "*": N_("Please write the number in digits, e.g. 120.")})
async def workers_given(run: Run[EnrolData], workers: int) -> Outcome:
    _answers(run)["workers"] = workers
    if not fits_score(workers):
        await run.say(_("Noted. SCORE is designed for enterprises with 50 to 200 workers. The "
                        "SCORE team will look at your case."))
    return run.then(ask_contact)


# --- contact person -------------------------------------------------------------------------
@ENROL.step("e_contact")
async def ask_contact(run: Run[EnrolData]) -> None:
    await run.say(_("Who is the contact person for SCORE? Please give the name."))


@ask_contact.on_text(text_input.clean_name, NAME_ERRORS)
async def contact_given(run: Run[EnrolData], name: str) -> Outcome:
    _answers(run)["contact"] = name
    return run.then(ask_phone)


# --- phone ----------------------------------------------------------------------------------
@ENROL.step("e_phone", expects=PHONE)
async def ask_phone(run: Run[EnrolData]) -> None:
    keyboard = ReplyKeyboardMarkup([[KeyboardButton(_("Share my number"), request_contact=True)]],
                                   resize_keyboard=True, one_time_keyboard=True)
    await run.say(_("What is the contact phone number? Share yours with the button, or type "
                    "it, e.g. 0812 3456 7890."), keyboard)


@ask_phone.on_contact
async def phone_shared(run: Run[EnrolData], contact: Contact) -> Outcome:
    if contact.user_id != run.user_id:
        return run.retry(_("Please share your own number, or type the number."))
    return await _phone_set(run, contact.phone_number)


@ask_phone.on_text()
async def phone_typed(run: Run[EnrolData], text: str) -> Outcome:
    return await _phone_set(run, text)


async def _phone_set(run: Run[EnrolData], raw: str | None) -> Outcome:
    phone = normalize_phone(raw)
    if phone is None:
        return run.retry(_("That is not an Indonesian phone number. Please write it like "
                           "0812 3456 7890 or +62 812 3456 7890."))
    _answers(run)["phone"] = phone
    await run.say(_("Thank you."), ReplyKeyboardRemove())
    return run.then(ask_modules)


# --- modules --------------------------------------------------------------------------------
@ENROL.step("e_modules", expects=BUTTON)
async def ask_modules(run: Run[EnrolData]) -> None:
    await run.say(_("Which SCORE modules interest you? Choose one or more, then press Done."),
                  _modules_markup(run))


def _modules_markup(run: Run[EnrolData]) -> InlineKeyboardMarkup:
    chosen = set(_answers(run).get("modules", []))
    buttons = [run.button(("✅ " if n in chosen else "▫️ ") + f"{n}. {module_name(n)}", "mod",
                          str(n)) for n in MODULES]
    buttons.append(run.button(_("Done"), "mod", "done"))
    return rows(buttons, width=1)


@ask_modules.on_button("mod", lambda v: v == "done" or module_of(v) is not None)
async def module_toggled(run: Run[EnrolData], value: str) -> Outcome:
    answers = _answers(run)
    chosen = set(answers.get("modules", []))
    if value == "done":
        if not chosen:
            await run.ack(_("Please choose at least one module."))
            return STAY
        await run.ack()
        run.edit_kept()
        return ask_summary
    await run.ack()
    chosen ^= {module_of(value)}
    answers["modules"] = sorted(m for m in chosen if m is not None)
    query = run.update.callback_query
    assert query is not None
    # Tick the box in place rather than sending the question again.
    try:
        await query.edit_message_reply_markup(_modules_markup(run))
    except TelegramError:
        return ask_modules  # an old message cannot be edited: ask again instead
    return STAY


# --- summary --------------------------------------------------------------------------------
def summary_text(answers: dict[str, Any]) -> str:
    locale = current_locale()
    province = by_code(answers.get("province"))
    modules = "\n".join(f"  {n}. {module_name(n)}" for n in answers.get("modules", []))
    return "\n".join([
        _("<b>Please check:</b>"),
        _("Company: {value}").format(value=html.escape(answers.get("name", ""))),
        _("Sector: {value}").format(value=html.escape(
            sector_name(answers.get("sector", ""), answers.get("sector_other")))),
        _("Province: {value}").format(value=province.name(locale) if province else ""),
        _("City/regency: {value}").format(value=html.escape(answers.get("city", ""))),
        _("Workers: {value}").format(value=format_number(answers.get("workers", 0))),
        _("Contact: {value}").format(value=html.escape(answers.get("contact", ""))),
        _("Phone: {value}").format(value=answers.get("phone", "")),
        _("Modules:") + "\n" + modules,
    ])


_FIELD_LABELS = {
    "name": N_("Company"), "sector": N_("Sector"), "province": N_("Province"),
    "city": N_("City"), "workers": N_("Workers"), "contact": N_("Contact"),
    "phone": N_("Phone"), "modules": N_("Modules"),
}


@ENROL.step("e_summary", expects=BUTTON)
async def ask_summary(run: Run[EnrolData]) -> None:
    markup = rows([run.button("✏️ " + _(_FIELD_LABELS[f]), "edit", f) for f in FIELDS])
    await run.say(summary_text(_answers(run)),
                  with_rows(markup, [run.button("✅ " + _("Confirm"), "confirm", "yes")]))


_EDIT_STEP = {"name": ask_name, "sector": ask_sector, "province": ask_province,
              "city": ask_city, "workers": ask_workers, "contact": ask_contact,
              "phone": ask_phone, "modules": ask_modules}


@ask_summary.on_button("edit", FIELDS)
async def edit_chosen(run: Run[EnrolData], field: str) -> Outcome:
    await run.ack()
    return run.edit(_EDIT_STEP[field], back=ask_summary)


@ask_summary.on_button("confirm", ("yes",))
async def confirmed(run: Run[EnrolData], _value: str) -> Outcome:
    answers = _answers(run)
    if not all(answers.get(k) for k in FIELDS):
        await run.ack(_("This button is no longer active."))
        return ask_summary
    await run.ack()
    done = await enrolment.confirm(run.svc, run.user_id, role_of(run.context), answers)
    if isinstance(done, Taken):
        # Staff approved another owner's enterprise of this name and city meanwhile.
        await _say_taken(run, done)
        return END
    user = run.context.user_row
    assert user is not None
    if run.context.role != Role.STAFF.value:
        run.context.role = Role.OWNER.value
        await set_chat_menu(run.context.bot, run.user_id, Role.OWNER.value, user.language)
    if done.change_proposed:
        await run.say(_("Saved. Contact, phone and modules are updated. The new name, city or "
                        "province goes to the SCORE team for approval. Until then your "
                        "enterprise keeps its approved details, and the join code keeps "
                        "working."))
        await enrolment_notices.notify_change(run.context, done.enterprise_id)
        return END
    if done.approved:
        await run.say(_("Saved. Your enterprise details are updated."))
        return END
    await run.say(_("Thank you! Your enrolment was sent to the SCORE team. I will tell you "
                    "here when it is approved."))
    if done.to_review:
        await enrolment_notices.notify_staff(run.context, done.enterprise_id)
    return END
