"""/modules: where an enterprise stands in SCORE, per module it takes: the workshop (date, and
whether its people came), the visits done and the next one, in one short message
(services/module_progress.py).

Its owner and admins see their enterprise; its assigned trainers theirs, picking one when they
have several (as /kpi); staff name it: `/modules maju`, searched as /trainers does. Workers
do not see it: it is the enterprise's path, not theirs.
"""

from __future__ import annotations

import html

from telegram import Update

from chat.access import is_staff
from chat.context import BotContext
from chat.i18n import _
from chat.reply import ack, rows, send
from db import assignments
from db import surveys as surveys_db
from services.module_progress import stand_text
from services.surveys.survey_text import not_approved

PICK = "modp"  # an enterprise picked: a trainer's, or staff's among those found
FOUND_MAX = 8
NAME_CHARS = 40
_WHO = ("owner", "admin", "trainer")  # who of an enterprise sees where it stands


def _short(name: str) -> str:
    return name if len(name) <= NAME_CHARS else name[:NAME_CHARS - 1] + "…"


async def _places(context: BotContext, user_id: int) -> surveys_db.Places:
    found = await surveys_db.places_of(context.svc.sessionmaker, user_id)
    return surveys_db.Places([p for p in found.found if p.entered_as in _WHO], found.unapproved)


async def modules_command(update: Update, context: BotContext) -> None:
    user_id = update.effective_user.id  # type: ignore[union-attr]
    if is_staff(context):
        await _staff_search(update, context, " ".join(context.args or []))
        return
    places = await _places(context, user_id)
    if not places.found and places.unapproved is not None:
        await send(update, context, not_approved(places.unapproved))
        return
    if not places.found:
        await send(update, context, _("/modules shows where an enterprise stands in SCORE, for "
                                      "its owner, admins and trainers. Type /help to see the "
                                      "menu."))
        return
    if len(places.found) == 1:
        await _show(update, context, places.found[0].enterprise_id)
        return
    keyboard = context.keyboard()
    await send(update, context, _("Which enterprise?"),
               rows([keyboard.button(_short(p.name), PICK, str(p.enterprise_id))
                     for p in places.found], width=1))


async def _staff_search(update: Update, context: BotContext, text: str) -> None:
    if not text.strip():
        await send(update, context, _("Type /modules with part of the enterprise's name, for "
                                      "example “/modules maju”."))
        return
    found = await assignments.find_approved(context.svc.sessionmaker, text,
                                            limit=FOUND_MAX + 1)
    if not found:
        await send(update, context, _("No approved enterprise has “{text}” in its name.").format(
            text=html.escape(" ".join(text.split())[:60])))
        return
    if len(found) == 1:
        await _show(update, context, found[0].id)
        return
    words = _("Which one?")
    if len(found) > FOUND_MAX:
        words += "\n" + _("There are more. Type more of the name to see fewer.")
    keyboard = context.keyboard()
    await send(update, context, words,
               rows([keyboard.button(_short(f"{e.name} ({e.city})"), PICK, str(e.id))
                     for e in found[:FOUND_MAX]], width=1))


async def enterprise_picked(update: Update, context: BotContext) -> None:
    """A pick: shown only if the presser may still see that enterprise."""
    button = context.button
    assert button is not None
    await ack(update)
    value = button.value
    allowed = value.isascii() and value.isdigit()
    if allowed and not is_staff(context):
        places = await _places(context, update.effective_user.id)  # type: ignore[union-attr]
        allowed = any(str(p.enterprise_id) == value for p in places.found)
    if not allowed or not await _show(update, context, int(value)):
        await send(update, context, _("This button is no longer active."))


async def _show(update: Update, context: BotContext, enterprise_id: int) -> bool:
    text = await stand_text(context.svc.sessionmaker, enterprise_id, now=context.svc.clock.now())
    if text is None:  # no longer approved
        return False
    await send(update, context, text)
    return True
