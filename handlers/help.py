"""What the bot says outside any question: /help by role, /privacy, unknown commands and
messages that answer nothing."""

from __future__ import annotations

from telegram import Update

from chat.context import BotContext
from chat.i18n import _
from chat.reply import send
from handlers import join


def role_help(role: str | None) -> str:
    lines = {
        "owner": _("/enrol – enrol or update your enterprise\n"
                   "/code – the join code and poster for your workers\n"
                   "/invite – a one-time link for an enterprise admin"),
        "admin": _("Monthly KPI reports will come here. The owner of your enterprise added you."),
        "worker": _("/join – join your enterprise with its code\n"
                    "/leave – you no longer work there"),
        "trainer": _("Visit reminders will come here."),
        "staff": _("/pending – enrolments waiting for approval\n"
                   "/broadcast – write a message to many users\n"
                   "/broadcasts – recent broadcasts, their progress, cancelling\n"
                   "/staff – make someone a trainer or staff, or revoke it"),
    }.get(role or "", _("/start – begin: enrol an enterprise or join one as a worker"))
    common = _("/language – change language\n/privacy – what we keep\n/cancel – stop the current step")
    return f"{lines}\n{common}"


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
                 "(UU PDP No. 27/2022) applies."))


async def unknown_command(update: Update, context: BotContext) -> None:
    await send(update, context, _("I do not know that command. Here is what you can do:") + "\n"
               + role_help(context.role))


async def stray_message(update: Update, context: BotContext) -> None:
    """A message outside any question. A worker may simply type the code from the poster,
    without /join first."""
    text = update.message.text if update.message else None
    user = context.user_row
    if (join.looks_like_code(text) and context.role in (None, "worker")
            and user is not None and user.consent_at is not None):
        await join.JOIN.start(update, context, code=text)
        return
    await send(update, context, _("Please use a command from the menu; /help lists them."))
