"""The user's own data (UU PDP No. 27/2022): /mydata shows everything stored about them,
/forget deletes it after a Yes (docs/decisions/0013-users-own-data.md)."""

from __future__ import annotations

from typing import TypedDict

from telegram import InputFile, Update

from chat.context import BotContext
from chat.flow import BUTTON, END, Flow, Outcome, Run
from chat.i18n import N_, _
from chat.menu import set_chat_menu
from chat.reply import chat_id_of, rows, send
from db.own_data import Forgotten, Refusal
from domain.roles import Role
from services import own_data


async def mydata_command(update: Update, context: BotContext) -> None:
    user_id = chat_id_of(update)
    shown = await own_data.my_data(context.svc, user_id)
    if shown is None:
        await send(update, context, _("Nothing is stored about you."))
        return
    await send(update, context, shown.message)
    if shown.document is not None:
        await context.bot.send_document(user_id, InputFile(shown.document,
                                                           filename=shown.filename))


class ForgetData(TypedDict, total=False):
    owner: bool


FORGET: Flow[ForgetData] = Flow("forget", command="forget",
                                cancelled=N_("Fine, nothing was deleted."))


def _refused(refusal: Refusal) -> str:
    if refusal is Refusal.STAFF:
        return _("SCORE staff accounts cannot be deleted from the bot: your decisions are the "
                 "programme's records. Ask another staff member to take your staff role away "
                 "with /staff (or the administrator to remove your id from STAFF_IDS), then "
                 "type /forget again.")
    if refusal is Refusal.TRAINER:
        return _("Trainer accounts cannot be deleted while you support enterprises. Ask the "
                 "SCORE team to take your trainer role away, then type /forget again.")
    return _("Nothing is stored about you.")


@FORGET.entry
async def forget_begin(run: Run[ForgetData]) -> Outcome:
    user = run.context.user_row
    if (refused := own_data.refusal(user, in_staff_ids=run.svc.is_staff_id(run.user_id))):
        await run.say(_refused(refused))
        return END
    run.data["owner"] = bool(await own_data.owned(run.svc, run.user_id))
    return ask_forget


@FORGET.step("forget_confirm", expects=BUTTON)
async def ask_forget(run: Run[ForgetData]) -> None:
    if run.context.role == Role.WORKER.value or run.context.role is None:
        lead = _("Delete all your personal data? Your name, username, enterprise membership, "
                 "tips and unfinished answers are deleted. Your survey answers stay only in "
                 "the totals, without your name. This cannot be undone.")
    else:
        lead = _("Delete all your personal data? Your name, username, role, memberships, "
                 "tips and unfinished answers are deleted. Survey answers and reports stay "
                 "only in the totals, without your name. This cannot be undone.")
    if run.data.get("owner"):
        lead += "\n\n" + _("Your enterprise stays in the SCORE programme, but its contact "
                           "person and mobile number are deleted. The SCORE team is told, so "
                           "they can ask the enterprise for a new contact.")
    await run.say(lead + "\n\n" + _("Type /mydata first to see what is stored."),
                  rows([run.button(_("Yes, delete my data"), "fgt", "yes"),
                        run.button(_("No, keep my data"), "fgt", "no")], width=1))


@ask_forget.on_button("fgt", ("yes", "no"))
async def forget_answered(run: Run[ForgetData], answer: str) -> Outcome:
    await run.ack()
    if answer == "no":
        await run.say(_("Fine, nothing was deleted."))
        return END
    result = await own_data.forget(run.svc, run.user_id)
    if isinstance(result, Refusal):
        await run.say(_refused(result))
        return END
    assert isinstance(result, Forgotten)
    user = run.context.user_row
    if user is not None:
        await set_chat_menu(run.context.bot, run.user_id, None, user.language)
    await run.say(_("Your personal data is deleted. If you write to the bot again, it greets "
                    "you as a new user. Thank you for taking part in SCORE."))
    return END
