"""What the bot says outside any question: /help by role, /privacy, unknown commands and
messages that answer nothing."""

from __future__ import annotations

from telegram import Update

from chat.access import role_of
from chat.context import BotContext
from chat.i18n import _
from chat.reply import send
from domain.join_codes import looks_like_code
from domain.roles import Role, may_join_as_worker
from handlers.join import JOIN
from handlers.role_help import role_help
from handlers.start import FIRST_CONTACT


async def help_command(update: Update, context: BotContext) -> None:
    await send(update, context, role_help(context.role) + "\n\n" + _(
        "This bot is not a complaint channel. If you see serious danger at work, report it to "
        "the labour inspectorate (pengawas ketenagakerjaan) at your provincial manpower office "
        "(Disnaker)."))


async def privacy(update: Update, context: BotContext) -> None:
    await send(update, context,
               _("<b>What SCORE Assistant keeps</b>\n"
                 "Before you agree: only your Telegram id and your language.\n"
                 "After you agree: your name and Telegram username, your role, your enterprise "
                 "and what you answer, for the ILO SCORE programme and its partners, to run the "
                 "training and measure its results. Survey answers are shown to enterprises only "
                 "as totals of at least five workers. Indonesia's Personal Data Protection Law "
                 "(UU PDP No. 27/2022) applies.") + "\n\n" + _(
                   "<b>Your data, your choice</b>\n"
                   "/mydata shows everything stored about you.\n"
                   "/forget deletes it. Your name, username and memberships are deleted. Survey "
                   "answers stay only in the totals, without your name. An enterprise you own "
                   "stays in the programme without its contact person, and the SCORE team is "
                   "told.\n"
                   "What the bot's messages said is deleted after {days} days; only how many "
                   "were delivered stays.").format(days=context.svc.settings.retention_days))


async def unknown_command(update: Update, context: BotContext) -> None:
    await send(update, context, _("I do not know that command. Here is what you can do:") + "\n"
               + role_help(context.role))


async def role_changed(update: Update, context: BotContext) -> None:
    """The question the user was answering was for the role they had: staff changed it
    meanwhile, so the flow ended. What they can do now, as /help lists it."""
    if context.role in (None, Role.WORKER.value):
        lead = _("Your role in this bot has changed, so the question you were answering is "
                 "closed. Here is what you can do:")
    else:
        lead = _("The SCORE team has changed your role in this bot, so the question you were "
                 "answering is closed. Here is what you can do:")
    await send(update, context, lead + "\n" + role_help(context.role))


def _never_met(context: BotContext) -> bool:
    """Someone who has not been through first contact: neither agreed nor declined, and
    without a role staff gave them."""
    user = context.user_row
    return (user is not None and user.consent_at is None and user.consent_declined_at is None
            and context.role is None)


async def stray_message(update: Update, context: BotContext) -> None:
    """A message outside any question. The poster says "type the code": a worker may simply
    type it, without /join first, and a newcomer may make it their very first message. Any
    other first message of a newcomer ("halo") begins first contact, as /start does."""
    text = update.message.text if update.message else None
    user = context.user_row
    if looks_like_code(text) and may_join_as_worker(role_of(context)) and user is not None:
        if user.consent_at is None:
            await FIRST_CONTACT.start(update, context, code=text)
        else:
            await JOIN.start(update, context, code=text)
        return
    if user is not None and _never_met(context):
        # "halo" instead of /start: first contact, as /start would begin it.
        await FIRST_CONTACT.start(update, context)
        return
    await send(update, context, _("I did not understand that. Type /help to see the menu."))
