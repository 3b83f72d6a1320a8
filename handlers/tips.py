"""Good-practice tips: /tip (a tip for the user's modules and audience they have not had
yet, with Useful / Not useful and Another tip), /tips on|off (the weekly tip), and for
staff /tips admin: the most and least useful tips, and adding, editing and retiring tips."""

from __future__ import annotations

import html
from typing import TypedDict

from telegram import InlineKeyboardMarkup, Update

from chat.access import is_staff
from chat.context import BotContext
from chat.flow import BUTTON, END, Flow, Outcome, Run, refuse
from chat.i18n import N_, _, current_locale, format_number, format_time
from chat.labels import MODULE_NAMES, module_name
from chat.reply import ack, rows, send
from db import tips as tips_db
from db.tips import Rated, TipText
from domain.modules import MODULES
from domain.tip_rules import AUDIENCES, MANAGER, WEEKLY_TIME, WORKER, check_text
from services import tips as tips_text

ADMIN_WORD = "admin"


def _markup(context: BotContext, tip: TipText) -> InlineKeyboardMarkup:
    keyboard = context.keyboard()
    return InlineKeyboardMarkup([[keyboard.button(b.text, b.kind, b.value) for b in row]
                                 for row in tips_text.tip_buttons(tip)])


async def _give_tip(update: Update, context: BotContext) -> None:
    if context.role is None:
        await send(update, context, _("Tips come once you have enrolled your enterprise or "
                                      "joined it. Type /help to see the menu."))
        return
    user = update.effective_user
    assert user is not None
    svc = context.svc
    tip = await tips_db.next_for(svc.sessionmaker, user.id, context.role, now=svc.clock.now())
    if tip is None:
        await send(update, context, _("There is no tip for your modules yet. Type /help to "
                                      "see the menu."))
        return
    await send(update, context, tips_text.tip_text(tip), _markup(context, tip))


async def tip_command(update: Update, context: BotContext) -> None:
    await _give_tip(update, context)


async def another_pressed(update: Update, context: BotContext) -> None:
    await ack(update)
    await _give_tip(update, context)


async def feedback_pressed(update: Update, context: BotContext) -> None:
    button = context.button
    assert button is not None
    found = tips_text.feedback_of(button.value)
    user = update.effective_user
    assert user is not None
    svc = context.svc
    if found is None or not await tips_db.give_feedback(svc.sessionmaker, user.id, found[0],
                                                        found[1], now=svc.clock.now()):
        await ack(update, _("This button is no longer active."))
        return
    await ack(update, _("Thank you. Noted as useful.") if found[1]
              else _("Thank you. Noted as not useful."))


async def tips_command(update: Update, context: BotContext) -> None:
    """/tips: whether the weekly tip comes; /tips off, /tips on; /tips admin for staff."""
    word = (context.args or [""])[0].lower()
    user = update.effective_user
    assert user is not None
    svc = context.svc
    if word == ADMIN_WORD:
        if not is_staff(context):
            await refuse(update, context, what="tips admin")
            return
        await ADMIN.start(update, context)
        return
    if context.role is None:
        await send(update, context, _("Tips come once you have enrolled your enterprise or "
                                      "joined it. Type /help to see the menu."))
        return
    if word in ("off", "on"):
        await tips_db.set_weekly(svc.sessionmaker, user.id, word == "on", now=svc.clock.now())
        if word == "off":
            await send(update, context, _("The weekly tip is off. You can still ask for a tip "
                                          "with /tip. Type /tips on to get it again."))
        else:
            await send(update, context, _("The weekly tip is on. It comes on Mondays at "
                                          "{time}.").format(time=format_time(WEEKLY_TIME)))
        return
    if await tips_db.weekly_off(svc.sessionmaker, user.id):
        text = _("The weekly tip is off. Type /tips on to get it on Mondays at {time}.")
    else:
        text = _("The weekly tip comes on Mondays at {time}. Type /tips off to stop it.")
    await send(update, context, text.format(time=format_time(WEEKLY_TIME)) + "\n"
               + _("Type /tip for a tip now."))


# --- /tips admin ---------------------------------------------------------------------------

class AdminData(TypedDict, total=False):
    module: int
    tip: int
    language: str   # the text being changed: "id", "en"
    audience: str   # a new tip's
    text_id: str    # a new tip's Indonesian text, until the English one is typed


ADMIN: Flow[AdminData] = Flow("tips_admin", allowed=is_staff,
                              cancelled=N_("Closed. Tips saved so far are kept."))
MENU, BACK, CARD, NEW_MODULE, NEW_AUDIENCE = "tam", "tab", "tac", "tanm", "tana"
_TEXT_NOTES = {
    "too_short": N_("That is too short for a tip: a few sentences, please, with one action "
                    "for this week and who does it."),
    "too_long": N_("That is too long for a chat message. Please keep it under 900 "
                   "characters."),
}


def _short(text: str, length: int = 60) -> str:
    return html.escape(text if len(text) <= length else text[:length - 1].rstrip() + "…")


def _audience(audience: str) -> str:
    return _("for workers") if audience == WORKER else _("for managers")


def _rated_line(rated: Rated) -> str:
    return _("• {tip} ({module}): {useful} useful, {not_useful} not useful, received "
             "{sent} times").format(tip=_short(rated.tip.text(current_locale()), 50),
                                   module=module_name(rated.tip.module),
                                   useful=format_number(rated.useful),
                                   not_useful=format_number(rated.not_useful),
                                   sent=format_number(rated.sent))


@ADMIN.entry
async def begin(run: Run[AdminData]) -> Outcome:
    return ask_menu


@ADMIN.step("ta_menu", expects=BUTTON)
async def ask_menu(run: Run[AdminData]) -> None:
    seen = await tips_db.overview(run.svc.sessionmaker)
    lines = [_("<b>Tips</b>"), _("Most useful:")]
    lines += [_rated_line(r) for r in seen.most_useful] or [_("No answers yet.")]
    lines.append(_("Least useful:"))
    lines += [_rated_line(r) for r in seen.least_useful] or [_("No answers yet.")]
    lines += ["", _("Choose a module to see, change or retire its tips, or add a tip.")]
    buttons = [run.button(_("{module} ({count})").format(
        module=module_name(m), count=format_number(seen.in_use.get(m, 0))), MENU, str(m))
        for m in MODULES]
    buttons += [run.button("➕ " + _("Add a tip"), MENU, "add"),
                run.button(_("Done"), MENU, "done")]
    await run.say("\n".join(lines), rows(buttons, width=1))


@ask_menu.on_button(MENU, (*(str(m) for m in MODULES), "add", "done"))
async def menu_chosen(run: Run[AdminData], value: str) -> Outcome:
    await run.ack()
    if value == "done":
        await run.say(_("Closed. Type /help to see the menu."))
        return END
    if value == "add":
        return ask_new_module
    run.data["module"] = int(value)
    return ask_list


async def _module_tips(run: Run[AdminData]) -> list[TipText]:
    return await tips_db.tips_of_module(run.svc.sessionmaker, run.data.get("module", 1))


@ADMIN.step("ta_list", note=N_("Please type a tip's number."))
async def ask_list(run: Run[AdminData]) -> None:
    tips = await _module_tips(run)
    lines = [f"<b>{html.escape(module_name(run.data.get('module', 1)))}</b>"]
    for number, tip in enumerate(tips, 1):
        mark = _(" (retired)") if tip.retired else ""
        text = _short(tip.text(current_locale()))
        lines.append(f"{number}. [{_audience(tip.audience)}] {text}{mark}")
    lines += ["", _("Type a tip's number to see it, change it or retire it.")]
    await run.say("\n".join(lines), rows([run.button(_("Back"), BACK, "menu")]))


@ask_list.on_button(BACK, ("menu",))
async def list_back(run: Run[AdminData], _value: str) -> Outcome:
    await run.ack()
    return ask_menu


@ask_list.on_text()
async def number_typed(run: Run[AdminData], text: str) -> Outcome:
    tips = await _module_tips(run)
    number = text.strip().rstrip(".")
    if not number.isdigit() or not 1 <= int(number) <= len(tips):
        return run.retry(_("Please type a number from 1 to {last}.").format(
            last=format_number(len(tips))))
    run.data["tip"] = tips[int(number) - 1].id
    return ask_card


async def _tip(run: Run[AdminData]) -> TipText | None:
    return await tips_db.get_tip(run.svc.sessionmaker, run.data.get("tip", 0))


@ADMIN.step("ta_card", expects=BUTTON)
async def ask_card(run: Run[AdminData]) -> None:
    tip = await _tip(run)
    if tip is None:
        await run.say(_("That tip no longer exists."))
        await ask_menu.ask(run)
        return
    facts = [module_name(tip.module), _audience(tip.audience),
             _("shipped with the bot") if tip.key else _("added by staff")]
    if tip.key and tip.edited:
        facts.append(_("edited by staff: upgrades keep this text"))
    if tip.retired:
        facts.append(_("retired: no longer sent"))
    text = "\n\n".join([" · ".join(html.escape(f) for f in facts),
                        "<b>Bahasa Indonesia</b>\n" + html.escape(tip.text_id),
                        "<b>English</b>\n" + html.escape(tip.text_en)])
    await run.say(text, rows([
        run.button(_("Change the Indonesian text"), CARD, "id"),
        run.button(_("Change the English text"), CARD, "en"),
        run.button(_("Bring it back") if tip.retired else _("Retire it"), CARD, "retire"),
        run.button(_("Back"), CARD, "back")], width=1))


@ask_card.on_button(CARD, ("id", "en", "retire", "back"))
async def card_chosen(run: Run[AdminData], value: str) -> Outcome:
    await run.ack()
    if value == "back":
        return ask_list
    if value in ("id", "en"):
        run.data["language"] = value
        return ask_text
    tip = await _tip(run)
    if tip is not None:
        await tips_db.set_retired(run.svc.sessionmaker, tip.id, not tip.retired,
                                  now=run.svc.clock.now())
        await run.say(_("Brought back: it is sent again.") if tip.retired
                      else _("Retired: it is no longer sent. Its feedback is kept."))
    return ask_card


@ADMIN.step("ta_text", note=N_("Please type the tip's new text."))
async def ask_text(run: Run[AdminData]) -> None:
    if run.data.get("language") == "id":
        await run.say(_("Type the new Indonesian text of the tip. Type /cancel to stop."))
    else:
        await run.say(_("Type the new English text of the tip. Type /cancel to stop."))


def _text_problem(text: str) -> str | None:
    problem = check_text(text)
    return _(_TEXT_NOTES[problem]) if problem else None


@ask_text.on_text()
async def text_typed(run: Run[AdminData], text: str) -> Outcome:
    problem = _text_problem(text)
    if problem:
        return run.retry(problem)
    saved = await tips_db.edit_text(run.svc.sessionmaker, run.data.get("tip", 0),
                                    run.data.get("language", "en"), text.strip(),
                                    staff_id=run.user_id, now=run.svc.clock.now())
    if saved is not None:
        await run.say(_("Saved."))
    return ask_card


@ADMIN.step("ta_new_module", expects=BUTTON)
async def ask_new_module(run: Run[AdminData]) -> None:
    await run.say(_("Which module is the new tip for?"), rows(
        [run.button(_(MODULE_NAMES[m]), NEW_MODULE, str(m)) for m in MODULES], width=1))


@ask_new_module.on_button(NEW_MODULE, [str(m) for m in MODULES])
async def new_module_chosen(run: Run[AdminData], value: str) -> Outcome:
    await run.ack()
    run.data["module"] = int(value)
    return ask_new_audience


@ADMIN.step("ta_new_audience", expects=BUTTON)
async def ask_new_audience(run: Run[AdminData]) -> None:
    await run.say(_("Who is it for? Workers read tips about what they can do or ask for, "
                    "managers tips for running the enterprise."), rows([
        run.button(_("Workers"), NEW_AUDIENCE, WORKER),
        run.button(_("Owners and managers"), NEW_AUDIENCE, MANAGER)], width=1))


@ask_new_audience.on_button(NEW_AUDIENCE, AUDIENCES)
async def new_audience_chosen(run: Run[AdminData], value: str) -> Outcome:
    await run.ack()
    run.data["audience"] = value
    return ask_new_id


@ADMIN.step("ta_new_id", note=N_("Please type the tip in Indonesian."))
async def ask_new_id(run: Run[AdminData]) -> None:
    await run.say(_("Type the tip in Indonesian: a few sentences, with one action for this "
                    "week and who does it. Workers are addressed as Anda, managers as "
                    "Bapak/Ibu. Type /cancel to stop."))


@ask_new_id.on_text()
async def new_id_typed(run: Run[AdminData], text: str) -> Outcome:
    problem = _text_problem(text)
    if problem:
        return run.retry(problem)
    run.data["text_id"] = text.strip()
    return ask_new_en


@ADMIN.step("ta_new_en", note=N_("Please type the tip in English."))
async def ask_new_en(run: Run[AdminData]) -> None:
    await run.say(_("Now type the same tip in English. Type /cancel to stop."))


@ask_new_en.on_text()
async def new_en_typed(run: Run[AdminData], text: str) -> Outcome:
    problem = _text_problem(text)
    if problem:
        return run.retry(problem)
    tip = await tips_db.add_tip(run.svc.sessionmaker, module=run.data.get("module", 1),
                                audience=run.data.get("audience", WORKER),
                                text_id=run.data.get("text_id", ""), text_en=text.strip(),
                                staff_id=run.user_id, now=run.svc.clock.now())
    run.data["tip"] = tip.id
    run.data.pop("text_id", None)
    await run.say(_("Saved. The tip is in use from now on."))
    return ask_card
