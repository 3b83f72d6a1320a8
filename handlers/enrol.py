"""SME enrolment: the owner answers eight questions, checks a summary, and confirms."""

from __future__ import annotations

import html
import logging

from telegram import (
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)

from chat.buttons import new_nonce
from chat.context import BotContext
from chat.i18n import _, current_locale, format_number
from db import enterprises as ent_db
from db.models import Role
from db.drafts import forget_conversation
from db.users import set_role
from domain import text_input
from domain.phone import normalize_phone
from domain.provinces import PROVINCES, by_code, match_province
from domain.sectors import SECTORS
from handlers import enrolment_notices
from handlers.common import END, STEPS, ack, clear_main, reask, rows, send, stale_button, step
from chat.labels import module_name, sector_name
from chat.menu import set_chat_menu

log = logging.getLogger(__name__)

PROVINCE_PAGE = 8
MIN_WORKERS, MAX_WORKERS = 1, 100_000
SCORE_MIN, SCORE_MAX = 50, 200
FIELDS = ("name", "sector", "province", "city", "workers", "contact", "phone", "modules")


def _enrol(context: BotContext) -> dict:
    return context.draft.setdefault("enrol", {})


def _name_error(key: str) -> str:
    return {
        text_input.EMPTY: _("The answer is empty."),
        text_input.TOO_LONG: _("That is too long: at most 200 characters, please."),
        text_input.NO_LETTERS: _("Please write it in letters."),
        text_input.LOOKS_LIKE_CODE: _("That does not look like a name."),
    }.get(key, _("Please check the answer."))


async def begin(update: Update, context: BotContext) -> str | int:
    """/enrol, or an owner right after the role choice."""
    user = context.user_row
    assert user is not None
    if user.consent_at is None:
        await send(update, context, _("Please start with /start and agree first."))
        return END
    if context.role in ("worker", "admin"):
        await send(update, context, _("Enrolment is for owners of an enterprise. "
                                      "/help shows what you can do."))
        return END
    context.draft.setdefault("nonce", new_nonce())
    async with context.svc.sessionmaker() as session:
        enterprise = await ent_db.owned_enterprise(session, user.id)
        modules = await ent_db.modules_of(session, enterprise.id) if enterprise else []
    if enterprise is not None:
        # Running /enrol again offers to update what was enrolled.
        context.draft["enrol"] = {
            "id": enterprise.id, "name": enterprise.name, "sector": enterprise.sector,
            "sector_other": enterprise.sector_other, "province": enterprise.province,
            "city": enterprise.city, "workers": enterprise.worker_count,
            "contact": enterprise.contact_name, "phone": enterprise.phone, "modules": modules,
        }
        await send(update, context, _("You already enrolled {name}. You can update it "
                                      "here.").format(name=html.escape(enterprise.name)))
        return await ask_summary(update, context)
    context.draft["enrol"] = {"modules": []}
    await send(update, context, _("Let us enrol your enterprise: eight short questions. "
                                  "/cancel stops at any time."))
    return await ask_name(update, context)


async def _next(update: Update, context: BotContext, following: str) -> str:
    """After an answer: back to the summary when editing, else the following question."""
    if _enrol(context).pop("editing", False):
        return await ask_summary(update, context)
    return await STEPS[following][0](update, context)


# --- company name ---------------------------------------------------------------------------
@step("e_name", "text")
async def ask_name(update: Update, context: BotContext) -> None:
    await send(update, context, _("What is the name of your company?"))


async def _take_text(update: Update, context: BotContext, key: str,
                     following: str | None) -> str | None:
    """Store a free-text answer (a name) and go on, or say why it does not fit and re-ask."""
    value, error = text_input.clean_name(update.message.text if update.message else None)
    if error:
        return await reask(update, context, _name_error(error))
    _enrol(context)[key] = value
    return await _next(update, context, following) if following else None


async def name_given(update: Update, context: BotContext) -> str | None:
    return await _take_text(update, context, "name", "e_sector")


# --- sector ---------------------------------------------------------------------------------
@step("e_sector", "button")
async def ask_sector(update: Update, context: BotContext) -> None:
    kb = context.keyboard()
    await send(update, context, _("What does your company make?"),
               rows([kb.button(sector_name(key), "sector", key) for key in SECTORS], width=1))


async def sector_chosen(update: Update, context: BotContext) -> str | None:
    button = context.button
    assert button is not None
    if button.nonce != context.draft.get("nonce") or button.value not in SECTORS:
        await stale_button(update, context)
        return None
    await ack(update)
    enrol = _enrol(context)
    enrol["sector"] = button.value
    if button.value == "other":
        return await ask_sector_other(update, context)
    enrol["sector_other"] = None
    return await _next(update, context, "e_province")


@step("e_sector_other", "text")
async def ask_sector_other(update: Update, context: BotContext) -> None:
    await send(update, context, _("Please describe your sector in a few words."))


async def sector_other_given(update: Update, context: BotContext) -> str | None:
    return await _take_text(update, context, "sector_other", "e_province")


# --- province -------------------------------------------------------------------------------
@step("e_province", "province")
async def ask_province(update: Update, context: BotContext) -> None:
    page = int(context.draft.get("prov_page", 0))
    pages = (len(PROVINCES) + PROVINCE_PAGE - 1) // PROVINCE_PAGE
    page = max(0, min(page, pages - 1))
    kb = context.keyboard()
    locale = current_locale()
    shown = PROVINCES[page * PROVINCE_PAGE:(page + 1) * PROVINCE_PAGE]
    markup = rows([kb.button(p.name(locale), "prov", p.code) for p in shown])
    nav = []
    if page > 0:
        nav.append(kb.button("‹ " + _("Previous"), "ppage", str(page - 1)))
    if page < pages - 1:
        nav.append(kb.button(_("More") + " ›", "ppage", str(page + 1)))
    keyboard = [*markup.inline_keyboard, nav] if nav else list(markup.inline_keyboard)
    await send(update, context,
               _("In which province is the factory? Choose below, or type its name."),
               type(markup)(keyboard))


async def province_page(update: Update, context: BotContext) -> str | None:
    button = context.button
    assert button is not None
    if button.nonce != context.draft.get("nonce") or not button.value.isdigit():
        await stale_button(update, context)
        return None
    await ack(update)
    context.draft["prov_page"] = int(button.value)
    return await ask_province(update, context)


async def province_chosen(update: Update, context: BotContext) -> str | None:
    button = context.button
    assert button is not None
    if button.nonce != context.draft.get("nonce") or by_code(button.value) is None:
        await stale_button(update, context)
        return None
    await ack(update)
    return await _province_set(update, context, button.value)


async def province_typed(update: Update, context: BotContext) -> str | None:
    matches = match_province(update.message.text if update.message else None)
    if len(matches) == 1:
        return await _province_set(update, context, matches[0].code)
    if not matches:
        return await reask(update, context, _("I do not know that province."))
    kb = context.keyboard()
    locale = current_locale()
    await send(update, context, _("Which one do you mean?"),
               rows([kb.button(p.name(locale), "prov", p.code) for p in matches[:8]]))
    return "e_province"


async def _province_set(update: Update, context: BotContext, code: str) -> str:
    _enrol(context)["province"] = code
    context.draft.pop("prov_page", None)
    return await _next(update, context, "e_city")


# --- city -----------------------------------------------------------------------------------
@step("e_city", "text")
async def ask_city(update: Update, context: BotContext) -> None:
    await send(update, context, _("In which city or regency (kabupaten)?"))


async def city_given(update: Update, context: BotContext) -> str | int | None:
    if (reasked := await _take_text(update, context, "city", None)) is not None:
        return reasked
    if await _duplicate(update, context):
        return END
    return await _next(update, context, "e_workers")


async def _duplicate(update: Update, context: BotContext) -> bool:
    """Someone else's enterprise of this name in this city: say so and end. One's own (say,
    confirmed just before a crash) is updated instead of created twice."""
    enrol = _enrol(context)
    user = context.user_row
    assert user is not None
    async with context.svc.sessionmaker() as session:
        existing = await ent_db.find_same(session, enrol["name"], enrol["city"])
    if existing is None or existing.id == enrol.get("id"):
        return False
    if existing.owner_id == user.id:
        enrol["id"] = existing.id
        return False
    clear_main(context)
    await send(update, context, _(
        "{name} in {city} is already enrolled. Please ask its owner for an admin invite "
        "(/invite) instead.").format(name=html.escape(existing.name),
                                     city=html.escape(existing.city)))
    return True


# --- number of workers ----------------------------------------------------------------------
@step("e_workers", "text")
async def ask_workers(update: Update, context: BotContext) -> None:
    await send(update, context, _("How many workers does the company have, all kinds "
                                  "together? Please answer with a number, e.g. 120."))


async def workers_given(update: Update, context: BotContext) -> str | None:
    value, error = text_input.parse_whole_number(
        update.message.text if update.message else None, lo=MIN_WORKERS, hi=MAX_WORKERS)
    if error == text_input.OUT_OF_RANGE:
        return await reask(update, context, _("Please give a number from 1 to 100,000."))
    if error:
        return await reask(update, context, _("Please write the number in digits, e.g. 120."))
    assert value is not None
    _enrol(context)["workers"] = value
    if not SCORE_MIN <= value <= SCORE_MAX:
        await send(update, context, _("Noted. SCORE is designed for enterprises with 50 to 200 "
                                      "workers; the team will look at your case."))
    return await _next(update, context, "e_contact")


# --- contact person -------------------------------------------------------------------------
@step("e_contact", "text")
async def ask_contact(update: Update, context: BotContext) -> None:
    await send(update, context, _("Who is the contact person for SCORE? Please give the name."))


async def contact_given(update: Update, context: BotContext) -> str | None:
    return await _take_text(update, context, "contact", "e_phone")


# --- phone ----------------------------------------------------------------------------------
@step("e_phone", "phone")
async def ask_phone(update: Update, context: BotContext) -> None:
    keyboard = ReplyKeyboardMarkup([[KeyboardButton(_("Share my number"), request_contact=True)]],
                                   resize_keyboard=True, one_time_keyboard=True)
    await send(update, context, _("What is the contact phone number? Share yours with the "
                                  "button, or type it, e.g. 0812 3456 7890."), keyboard)


async def phone_shared(update: Update, context: BotContext) -> str | None:
    contact = update.message.contact if update.message else None
    if contact is None or contact.user_id != update.effective_user.id:  # type: ignore[union-attr]
        return await reask(update, context, _("Please share your own number, or type the "
                                              "number."))
    return await _phone_set(update, context, contact.phone_number)


async def phone_typed(update: Update, context: BotContext) -> str | None:
    return await _phone_set(update, context, update.message.text if update.message else "")


async def _phone_set(update: Update, context: BotContext, raw: str | None) -> str | None:
    phone = normalize_phone(raw)
    if phone is None:
        return await reask(update, context, _("That is not an Indonesian phone number. Please "
                                              "write it like 0812 3456 7890 or +62 812 3456 7890."))
    _enrol(context)["phone"] = phone
    await context.bot.send_message(update.effective_chat.id,  # type: ignore[union-attr]
                                   _("Thank you."), reply_markup=ReplyKeyboardRemove())
    return await _next(update, context, "e_modules")


# --- modules --------------------------------------------------------------------------------
@step("e_modules", "button")
async def ask_modules(update: Update, context: BotContext) -> None:
    await send(update, context, _("Which SCORE modules interest you? Choose one or more, "
                                  "then press Done."), _modules_markup(context))


def _modules_markup(context: BotContext) -> InlineKeyboardMarkup:
    chosen = set(_enrol(context).get("modules", []))
    kb = context.keyboard()
    buttons = [kb.button(("✅ " if n in chosen else "▫️ ") + f"{n}. {module_name(n)}", "mod",
                         str(n)) for n in range(1, 6)]
    buttons.append(kb.button(_("Done"), "mod", "done"))
    return rows(buttons, width=1)


async def module_toggled(update: Update, context: BotContext) -> str | None:
    button = context.button
    assert button is not None
    if button.nonce != context.draft.get("nonce") or button.value not in (
            "1", "2", "3", "4", "5", "done"):
        await stale_button(update, context)
        return None
    enrol = _enrol(context)
    chosen = set(enrol.get("modules", []))
    if button.value == "done":
        if not chosen:
            await ack(update, _("Please choose at least one module."))
            return "e_modules"
        await ack(update)
        enrol.pop("editing", None)
        return await ask_summary(update, context)
    await ack(update)
    chosen ^= {int(button.value)}
    enrol["modules"] = sorted(chosen)
    query = update.callback_query
    # Tick the box in place rather than sending the question again.
    try:
        await query.edit_message_reply_markup(_modules_markup(context))  # type: ignore[union-attr]
    except Exception:  # noqa: BLE001 - an old message cannot be edited: ask again instead
        return await ask_modules(update, context)
    return "e_modules"


# --- summary --------------------------------------------------------------------------------
def summary_text(enrol: dict) -> str:
    locale = current_locale()
    province = by_code(enrol.get("province"))
    modules = "\n".join(f"  {n}. {module_name(n)}" for n in enrol.get("modules", []))
    lines = [
        _("<b>Please check:</b>"),
        _("Company: {value}").format(value=html.escape(enrol.get("name", ""))),
        _("Sector: {value}").format(value=html.escape(
            sector_name(enrol.get("sector", ""), enrol.get("sector_other")))),
        _("Province: {value}").format(value=province.name(locale) if province else ""),
        _("City/regency: {value}").format(value=html.escape(enrol.get("city", ""))),
        _("Workers: {value}").format(value=format_number(enrol.get("workers", 0))),
        _("Contact: {value}").format(value=html.escape(enrol.get("contact", ""))),
        _("Phone: {value}").format(value=enrol.get("phone", "")),
        _("Modules:") + "\n" + modules,
    ]
    return "\n".join(lines)


@step("e_summary", "button")
async def ask_summary(update: Update, context: BotContext) -> None:
    kb = context.keyboard()
    labels = {
        "name": _("Company"), "sector": _("Sector"), "province": _("Province"),
        "city": _("City"), "workers": _("Workers"), "contact": _("Contact"),
        "phone": _("Phone"), "modules": _("Modules"),
    }
    buttons = [kb.button("✏️ " + labels[f], "edit", f) for f in FIELDS]
    markup = rows(buttons)
    keyboard = [*markup.inline_keyboard, [kb.button("✅ " + _("Confirm"), "confirm", "yes")]]
    await send(update, context, summary_text(_enrol(context)), type(markup)(keyboard))


_EDIT_STEP = {"name": "e_name", "sector": "e_sector", "province": "e_province", "city": "e_city",
              "workers": "e_workers", "contact": "e_contact", "phone": "e_phone",
              "modules": "e_modules"}


async def edit_chosen(update: Update, context: BotContext) -> str | None:
    button = context.button
    assert button is not None
    if button.nonce != context.draft.get("nonce") or button.value not in _EDIT_STEP:
        await stale_button(update, context)
        return None
    await ack(update)
    _enrol(context)["editing"] = True
    return await STEPS[_EDIT_STEP[button.value]][0](update, context)


async def confirmed(update: Update, context: BotContext) -> str | int | None:
    button, user = context.button, context.user_row
    assert button is not None and user is not None
    enrol = _enrol(context)
    if button.nonce != context.draft.get("nonce") or not all(
            enrol.get(k) for k in ("name", "sector", "province", "city", "workers", "contact",
                                   "phone", "modules")):
        await stale_button(update, context)
        return None
    await ack(update)
    if await _duplicate(update, context):
        return END
    fields = ent_db.EnterpriseFields(
        name=enrol["name"], sector=enrol["sector"], sector_other=enrol.get("sector_other"),
        province=enrol["province"], city=enrol["city"], worker_count=int(enrol["workers"]),
        contact_name=enrol["contact"], phone=enrol["phone"],
        modules=[int(m) for m in enrol["modules"]])
    async with context.svc.sessionmaker() as session, session.begin():
        existing = (await ent_db.get_enterprise(session, enrol["id"]) if enrol.get("id")
                    else None)
        # The draft goes with the record, in one transaction: a crash now cannot leave a
        # stored enterprise and a conversation still waiting for its confirmation.
        await forget_conversation(session, "main", update.effective_chat.id,  # type: ignore[union-attr]
                                  user.id)
        if existing is not None and existing.owner_id == user.id:
            was_pending = existing.status.value != "approved"
            await ent_db.update_enterprise(session, existing, fields)
            enterprise = existing
        else:
            enterprise = await ent_db.create_enterprise(session, user.id, fields)
            was_pending = True
        if context.role != "staff":
            await set_role(session, user.id, Role.OWNER)
        status = enterprise.status.value
    if context.role != "staff":
        context.role = "owner"
        await set_chat_menu(context.bot, user.id, "owner", user.language)
    clear_main(context)
    if status == "approved":
        await send(update, context, _("Saved. Your enterprise details are updated."))
        return END
    await send(update, context, _("Thank you! Your enrolment was sent to the SCORE team. "
                                  "I will tell you here when it is approved."))
    if was_pending:
        await enrolment_notices.notify_staff(context, enterprise.id)
    return END
