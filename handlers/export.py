"""/export for staff: everything stored, as a spreadsheet sent here as a file when ready
(services/export_bot.py has it built in a process of its own; the bot answers meanwhile).
`/export 2026-10-01 2026-12-31` narrows it to those days."""

from __future__ import annotations

from telegram import Update

from chat.context import BotContext
from chat.i18n import N_, _, current_locale
from chat.reply import send
from domain import export_range
from services import export_bot

_ERRORS = {
    export_range.NOT_A_DATE: N_("Write the days as 2026-10-01, e.g. "
                                "<code>/export 2026-10-01 2026-12-31</code>."),
    export_range.TOO_MANY: N_("At most two days: the first and the last, e.g. "
                              "<code>/export 2026-10-01 2026-12-31</code>."),
    export_range.BACKWARDS: N_("The first day comes after the last one. Write the first day "
                               "first, e.g. <code>/export 2026-10-01 2026-12-31</code>."),
}


async def export_command(update: Update, context: BotContext) -> None:
    user = update.effective_user
    assert user is not None
    since, until, error = export_range.read_range(context.args or [])
    if error is not None:
        await send(update, context, _(_ERRORS[error]))
        return
    started = export_bot.start(context.svc, user.id, lang=current_locale(), since=since,
                           until=until, run=context.application.create_task)
    if started:
        await send(update, context, _(
            "Making the export. It comes here as a file when it is ready: a few seconds, "
            "or a minute or two for a large programme."))
    else:
        await send(update, context, _(
            "Your export is still being made. It comes here as a file when it is ready."))
