"""/visits: the consulting visits a person has to do with. A trainer sees their visits ahead
and those whose time passed without a report; an owner or admin their enterprise's visits
ahead; staff every visit ahead and every one not reported, narrowed by a trainer's name or
a province ("/visits Budi", "/visits JB", "/visits Sulawesi Selatan")."""

from __future__ import annotations

import html

from telegram import Update

from chat.access import is_staff, role_of
from chat.context import BotContext
from chat.i18n import _, current_locale
from chat.labels import module_name
from chat.reply import rows, send
from db import visits as visits_db
from db.visits import Listing, Refusal, VisitInfo
from domain.provinces import by_code, match_province
from domain.roles import Role
from services import visits

SEES = (Role.OWNER, Role.ADMIN, Role.TRAINER, Role.STAFF)
ASK = "vask"  # a trainer's "Answer" under an unreported visit
NAME_CHARS = 30


def _short(name: str) -> str:
    return name if len(name) <= NAME_CHARS else name[:NAME_CHARS - 1] + "…"


def may_see(context: BotContext) -> bool:
    return role_of(context) in SEES


def _line(info: VisitInfo, *, trainer: bool, enterprise: bool) -> str:
    parts = [visits.when_words(info.starts_at, info.zone)]
    if enterprise:
        parts.append(f"<b>{html.escape(info.enterprise)}</b> ({html.escape(info.city)})")
    parts.append(_("module {module}").format(module=module_name(info.module)))
    if trainer:
        parts.append(_("trainer {name}").format(name=html.escape(info.trainer)))
    return "• " + ", ".join(parts)


def _text(listing: Listing, *, title: str, trainer: bool, enterprise: bool,
          unreported: bool) -> str:
    lines = [title, "", _("<b>Visits ahead</b>")]
    lines += [_line(v, trainer=trainer, enterprise=enterprise) for v in listing.upcoming] or [
        _("None scheduled.")]
    if unreported:
        lines += ["", _("<b>Not reported yet</b> (their time has passed)")]
        lines += [_line(v, trainer=trainer, enterprise=enterprise)
                  for v in listing.unreported] or [_("None.")]
    return "\n".join(lines)


async def visits_command(update: Update, context: BotContext) -> None:
    svc = context.svc
    user_id = update.effective_user.id  # type: ignore[union-attr]
    now = svc.clock.now()
    if is_staff(context):
        await _staff(update, context, " ".join(context.args or []))
        return
    if role_of(context) is Role.TRAINER:
        listing = await visits_db.listing(svc.sessionmaker, now=now, trainer_ids=[user_id])
        text = _text(listing, title=_("<b>Your consulting visits</b>"), trainer=False,
                     enterprise=True, unreported=True)
        if listing.unreported:
            text += "\n" + _("Please answer “Did the visit happen?” for each of them: the "
                             "question comes after the visit.")
        text += "\n" + _("To schedule a visit, type /visit.")
        keyboard = context.keyboard()
        # A question missed (or asked while the bot was busy elsewhere) can be had again.
        await send(update, context, text, rows([keyboard.button(
            _("Answer: {name}, {day}").format(name=_short(v.enterprise),
                                               day=visits.short_day(v.starts_at, v.zone)),
            ASK, visits.button_value(v)) for v in listing.unreported], width=1)
            if listing.unreported else None)
        return
    enterprises = await visits_db.told_enterprises(svc.sessionmaker, user_id)
    if not enterprises:
        await send(update, context, _("Consulting visits are planned once the SCORE team has "
                                      "approved your enterprise. Type /help to see the menu."))
        return
    listing = await visits_db.listing(svc.sessionmaker, now=now, enterprise_ids=enterprises)
    await send(update, context, _text(
        listing, title=_("<b>Consulting visits of SCORE trainers</b>"), trainer=True,
        enterprise=len(enterprises) > 1, unreported=False))


async def ask_pressed(update: Update, context: BotContext) -> None:
    """A trainer's Answer button in /visits: "Did the visit happen?" again, with its
    buttons, if the visit is still theirs to answer."""
    button = context.button
    assert button is not None
    read = visits.read_value(button.value)
    user_id = update.effective_user.id  # type: ignore[union-attr]
    refusal = (await visits_db.check(context.svc.sessionmaker, read[0], read[1], user_id)
               if read else Refusal.GONE)
    info = await visits_db.visit(context.svc.sessionmaker, read[0]) if read else None
    if refusal is not None or info is None:
        await send(update, context, visits.refusal_text(refusal or Refusal.GONE))
        return
    message = visits.asked(info)
    keyboard = context.keyboard()
    await send(update, context, message.text, rows(
        [keyboard.button(b.text, b.kind, b.value) for row in message.buttons for b in row],
        width=1))


async def _staff(update: Update, context: BotContext, text: str) -> None:
    svc = context.svc
    now = svc.clock.now()
    text = " ".join(text.split())
    if not text:
        listing = await visits_db.listing(svc.sessionmaker, now=now)
        await send(update, context, _text(
            listing, title=_("<b>All consulting visits</b>"), trainer=True, enterprise=True,
            unreported=True) + "\n" + _("Narrow it with a trainer's name or a province, for "
                                        "example /visits Budi or /visits JB."))
        return
    province = by_code(text) if len(text) <= 3 else None
    trainers = [] if province else await visits_db.trainers_named(svc.sessionmaker, text)
    if province is None and not trainers:
        matches = match_province(text)
        province = matches[0] if len(matches) == 1 else None
    if province is not None:
        listing = await visits_db.listing(svc.sessionmaker, now=now, province=province.code)
        title = _("<b>Consulting visits in {province}</b>").format(
            province=html.escape(province.name(current_locale())))
    elif trainers:
        listing = await visits_db.listing(svc.sessionmaker, now=now,
                                          trainer_ids=[t.id for t in trainers])
        names = ", ".join(html.escape(t.name or str(t.id)) for t in trainers)
        title = _("<b>Consulting visits of {names}</b>").format(names=names)
    else:
        await send(update, context, _("No trainer or province matches “{text}”. Type a "
                                      "trainer's name or a province, for example /visits "
                                      "JB.").format(text=html.escape(text[:60])))
        return
    await send(update, context, _text(listing, title=title, trainer=True, enterprise=True,
                                      unreported=True))
