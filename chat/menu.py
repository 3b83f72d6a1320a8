"""The command menu, per language and role.

Telegram's `language_code` scope follows the app's language, not the user's choice in the bot,
so after a language or role change the menu is set for that one chat.
"""

from __future__ import annotations

import logging

from telegram import BotCommand, BotCommandScopeChat
from telegram.error import TelegramError

from chat.context import AppBot, Services
from chat.i18n import N_, _, use_locale
from db.queries.staff import staff_ids
from db.queries.users import get_user

log = logging.getLogger(__name__)

_COMMANDS: dict[str, tuple[tuple[str, str], ...]] = {
    "": (("start", N_("Begin")),),
    "owner": (("enrol", N_("Enrol or update your enterprise")),
              ("code", N_("Join code and poster for workers")),
              ("invite", N_("Invite an enterprise admin")),
              ("survey", N_("Monthly KPI report")),
              ("kpi", N_("Your enterprise's trend")),
              ("baseline", N_("KPIs before training")),
              ("visits", N_("Trainers' visits")),
              ("workshops", N_("Workshops: invitations and your answer")),
              ("modules", N_("Where your enterprise stands in SCORE"))),
    "admin": (("survey", N_("Monthly KPI report")),
              ("kpi", N_("Your enterprise's trend")),
              ("visits", N_("Trainers' visits")),
              ("workshops", N_("Workshops: invitations and your answer")),
              ("modules", N_("Where your enterprise stands in SCORE"))),
    "worker": (("join", N_("Join your enterprise")),
               ("survey", N_("Monthly workers' survey")),
               ("leave", N_("Leave your enterprise"))),
    "trainer": (("survey", N_("KPI report of an enterprise")),
                ("baseline", N_("KPIs before training")),
                ("kpi", N_("An enterprise's trend")),
                ("visit", N_("Schedule a visit")),
                ("visits", N_("Your visits")),
                ("workshops", N_("Workshops of your enterprises, attendance")),
                ("modules", N_("Where an enterprise stands in SCORE"))),
    "staff": (("pending", N_("Enrolments waiting for approval")),
              ("broadcast", N_("Write a broadcast")),
              ("broadcasts", N_("Recent broadcasts and their progress")),
              ("staff", N_("Make someone a trainer or staff")),
              ("surveys", N_("Survey rounds: who answered, moving a round, chart")),
              ("stats", N_("The programme in numbers")),
              ("trainers", N_("Assign trainers to enterprises")),
              ("visit", N_("Schedule a trainer's visit")),
              ("visits", N_("Visits: ahead and not reported")),
              ("workshop", N_("Create or change a workshop")),
              ("workshops", N_("Upcoming workshops and their answers")),
              ("modules", N_("Where an enterprise stands in SCORE")),
              ("export", N_("Everything stored, as a spreadsheet"))),
}
# Everyone with a role gets a good-practice tip in the menu.
_TIPS = (("tip", N_("A good-practice tip")),)
_COMMON = (("help", N_("What I can do")), ("language", N_("Change language")),
           ("privacy", N_("What we keep about you")), ("mydata", N_("Everything stored about you")),
           ("forget", N_("Delete your data")), ("cancel", N_("Stop the current step")))


def commands_for(role: str | None, locale: str) -> list[BotCommand]:
    with use_locale(locale):
        return [BotCommand(name, _(desc))
                for name, desc in (*_COMMANDS.get(role or "", ()), *(_TIPS if role else ()),
                                   *_COMMON)]


async def set_default_menus(bot: AppBot) -> None:
    await bot.set_my_commands(commands_for(None, "id"))
    await bot.set_my_commands(commands_for(None, "en"), language_code="en")


async def set_staff_menus(bot: AppBot, svc: Services) -> None:
    """Staff (STAFF_IDS and those promoted with /staff) have their menu from the start,
    before any language or role change."""
    async with svc.sessionmaker() as session:
        languages = {sid: (u.language if (u := await get_user(session, sid))
                           else svc.settings.default_locale)
                     for sid in await staff_ids(session, svc.settings.staff_ids)}
    for staff_id, language in languages.items():
        await set_chat_menu(bot, staff_id, "staff", language)


async def set_chat_menu(bot: AppBot, chat_id: int, role: str | None, locale: str) -> None:
    try:
        await bot.set_my_commands(commands_for(role, locale),
                                  scope=BotCommandScopeChat(chat_id))
    except TelegramError:
        # The menu is a convenience; the conversation must go on without it.
        log.warning("could not set the menu for chat=%s", chat_id, exc_info=True)
