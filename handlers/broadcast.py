"""Staff broadcasts: the composer (/broadcast) and the list with cancelling (/broadcasts).

The composer asks for the Indonesian text, an optional English one, the audience, and when;
then shows a summary to confirm. Every text is first sent back to the staff member as a
preview with its HTML formatting, so Telegram itself validates it before anyone else gets it.
"""

from __future__ import annotations

import html
import logging
import re
from datetime import datetime, timedelta

from telegram import InlineKeyboardMarkup, Message, MessageEntity, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest, TelegramError

from chat.buttons import Keyboard
from chat.context import BotContext
from chat.i18n import N_, _, current_locale, format_date, format_number
from db import broadcasts as broadcasts_db
from db import enterprises as ent_db
from db import outbox as outbox_db
from db.audience import ROLES as AUDIENCE_ROLES
from db.audience import Audience, count_recipients
from db.drafts import forget_keys
from db.models import Broadcast, BroadcastStatus
from domain import schedule, text_input
from domain.provinces import PROVINCES, by_code, match_province
from handlers.common import END, ack, rows, send, stale_button
from chat.labels import module_name
from handlers.staff_roles import (
    ROLES,
    Flow,
    is_staff,
    refuse,
    refuse_command,
    role_name,
)

log = logging.getLogger(__name__)

FLOW = Flow("broadcast", "bc", "broadcast", N_("Cancelled. No broadcast was sent."))
MAX_TEXT = 4096  # Telegram's limit for one message
PROVINCE_PAGE = 8
MAX_DAYS = 365
LANGUAGES = {"id": "Bahasa Indonesia", "en": "English"}
RECENT = 10
# Entities a Telegram client adds when staff format with its menu instead of typing HTML.
_FORMATTING = {
    MessageEntity.BOLD, MessageEntity.ITALIC, MessageEntity.UNDERLINE,
    MessageEntity.STRIKETHROUGH, MessageEntity.SPOILER, MessageEntity.CODE, MessageEntity.PRE,
    MessageEntity.TEXT_LINK, MessageEntity.TEXT_MENTION, MessageEntity.BLOCKQUOTE,
    MessageEntity.EXPANDABLE_BLOCKQUOTE, MessageEntity.CUSTOM_EMOJI,
}
_TAG = re.compile(r"<[^>]*>")


def _bc(context: BotContext) -> dict:
    return FLOW.data(context)


def _audience(context: BotContext) -> Audience:
    return Audience.from_json(_bc(context).get("aud"))


def _set_audience(context: BotContext, audience: Audience) -> None:
    _bc(context)["aud"] = audience.to_json()


async def _count(context: BotContext, audience: Audience) -> int:
    svc = context.svc
    async with svc.sessionmaker() as session:
        return await count_recipients(session, audience, now=svc.clock.now(),
                                      staff_ids=svc.settings.staff_ids)


def when_text(moment: datetime) -> str:
    local = schedule.in_wib(moment)
    return _("{date}, {time} WIB").format(date=format_date(local),
                                          time=local.strftime("%H:%M"))


def snippet(text: str, limit: int) -> str:
    """A short plain-text, HTML-safe extract of a broadcast (cutting HTML could break it)."""
    plain = " ".join(html.unescape(_TAG.sub("", text)).split())
    if len(plain) > limit:
        plain = plain[:limit - 1] + "…"
    return html.escape(plain)


# --- start ----------------------------------------------------------------------------------
async def begin(update: Update, context: BotContext) -> str | int:
    """/broadcast: staff only, checked now and again at every answer."""
    if not is_staff(context):
        await refuse_command(update, context, "broadcast")
        return END
    if ROLES.active(context):
        # The /staff question is still open; this conversation comes first in the handler
        # list, so finish that one before starting here.
        await ROLES.reask(update, context, _("Please answer the question first, or /cancel."))
        return END
    FLOW.begin(context)
    _set_audience(context, Audience())
    await send(update, context, _("Let us write a broadcast: the text, who receives it, and "
                                  "when. /cancel stops at any time."))
    return await ask_text_id(update, context)


# --- the texts ------------------------------------------------------------------------------
_EXAMPLES = '<b>bold</b>, <i>italic</i>, <a href="https://www.ilo.org">link</a>'


@FLOW.step("bc_text_id", N_("Please send the message as text."))
async def ask_text_id(update: Update, context: BotContext) -> None:
    await send(update, context, _(
        "Please send the message in Indonesian. Telegram HTML formatting is allowed, e.g. "
        "{examples}.").format(examples=html.escape(_EXAMPLES)))


@FLOW.step("bc_text_en", N_("Please send the English text, or press Skip."))
async def ask_text_en(update: Update, context: BotContext) -> None:
    kb = FLOW.keyboard(context)
    await send(update, context, _("Now the same message in English, if you like. Without it, "
                                  "English readers get the Indonesian text."),
               rows([kb.button(_("Skip"), "bcskip", "en")]))


def _html_of(message: Message | None) -> str | None:
    """The message as HTML: as typed, or converted when formatted with the client's menu."""
    if message is None or message.text is None:
        return None
    if any(e.type in _FORMATTING for e in message.entities):
        return message.text_html
    return message.text


async def _take_text(update: Update, context: BotContext, key: str) -> bool:
    """Store a text once Telegram accepted it as a preview; else say why and re-ask."""
    text = _html_of(update.message)
    if text is None or not text.strip():
        await FLOW.reask(update, context, _("The message is empty."))
        return False
    if len(text) > MAX_TEXT:
        await FLOW.reask(update, context, _(
            "That is too long: at most {limit} characters, please.").format(
            limit=format_number(MAX_TEXT)))
        return False
    try:
        await context.bot.send_message(update.effective_chat.id, text,  # type: ignore[union-attr]
                                       parse_mode=ParseMode.HTML)
    except BadRequest as exc:
        await FLOW.reask(update, context, _(
            "Telegram cannot show this formatting: {reason}\nPlease correct it and send the "
            "text again.").format(reason=html.escape(exc.message)))
        return False
    _bc(context)[key] = text
    await send(update, context, _("☝️ This is how recipients will see it."))
    return True


async def text_id_given(update: Update, context: BotContext) -> str | int | None:
    if not await _take_text(update, context, "text_id"):
        return None
    return await ask_text_en(update, context)


async def text_en_given(update: Update, context: BotContext) -> str | int | None:
    if not await _take_text(update, context, "text_en"):
        return None
    return await ask_audience(update, context)


async def english_skipped(update: Update, context: BotContext) -> str | int | None:
    if not FLOW.fresh(context):
        return await FLOW.stale(update, context)
    await ack(update)
    _bc(context)["text_en"] = None
    return await ask_audience(update, context)


# --- the audience ---------------------------------------------------------------------------
# The main menu opens one sub-menu at a time ("sub"); each toggles values and has Back.
_SUBS = ("role", "prov", "mod", "lang", "ent", "act")


def describe_audience(audience: Audience, enterprise_names: dict[str, str]) -> str:
    if audience.everyone:
        return _("Everyone who agreed and did not block the bot")
    locale = current_locale()
    lines = []
    if audience.roles:
        lines.append(_("Roles: {values}").format(values=", ".join(
            role_name(r) for r in AUDIENCE_ROLES if r in audience.roles)))
    if audience.provinces:
        lines.append(_("Provinces: {values}").format(values=", ".join(
            p.name(locale) for p in PROVINCES if p.code in audience.provinces)))
    if audience.modules:
        lines.append(_("Modules: {values}").format(values="; ".join(
            f"{m}. {module_name(m)}" for m in sorted(audience.modules))))
    if audience.languages:
        lines.append(_("Languages: {values}").format(values=", ".join(
            name for code, name in LANGUAGES.items() if code in audience.languages)))
    if audience.enterprise_ids:
        lines.append(_("Enterprises: {values}").format(values=", ".join(
            html.escape(enterprise_names.get(str(e), f"#{e}"))
            for e in audience.enterprise_ids)))
    if audience.active_within_days:
        lines.append(_("Only who wrote to the bot in the last {days} days").format(
            days=audience.active_within_days))
    return "\n".join(lines)


async def _audience_view(context: BotContext) -> tuple[str, InlineKeyboardMarkup]:
    bc = _bc(context)
    audience = _audience(context)
    sub = bc.get("sub")
    header = {
        None: _("<b>Who receives it?</b> Choose below. A person must match every criterion "
                "you set; within one criterion, any of the chosen values."),
        "role": _("<b>Roles</b>: choose one or more."),
        "prov": _("<b>Provinces</b> of their enterprise: choose one or more, or type a "
                  "province's name."),
        "mod": _("<b>Modules</b> their enterprise is interested in: choose one or more."),
        "lang": _("<b>Language</b>: choose one or both."),
        "ent": _("<b>Enterprises</b>: type part of an enterprise's name to find it, then "
                 "choose."),
        "act": _("<b>Recently active</b>: leave out who has not written to the bot in how many "
                 "days? Type a number from 1 to {max}.").format(max=MAX_DAYS),
    }[sub]
    count = await _count(context, audience)
    text = "\n\n".join([
        header,
        describe_audience(audience, bc.get("ents", {})),
        _("Recipients now: <b>{count}</b>").format(count=format_number(count)),
    ])
    return text, _audience_markup(context, audience)


def _tick(on: bool, label: str) -> str:
    return ("✅ " if on else "▫️ ") + label


def _audience_markup(context: BotContext, audience: Audience) -> InlineKeyboardMarkup:
    bc = _bc(context)
    kb = FLOW.keyboard(context)
    sub = bc.get("sub")
    back = kb.button("‹ " + _("Back"), "bctog", "back")
    if sub is None:
        menu = [
            ("role", _("Roles"), audience.roles), ("prov", _("Provinces"), audience.provinces),
            ("mod", _("Modules"), audience.modules), ("lang", _("Language"), audience.languages),
            ("ent", _("Enterprises"), audience.enterprise_ids),
            ("act", _("Recently active"), audience.active_within_days),
        ]
        buttons = [kb.button(("✅ " if chosen else "") + label, "bcaud", key)
                   for key, label, chosen in menu]
        keyboard = list(rows(buttons).inline_keyboard)
        last = [kb.button(_("Done"), "bcaud", "done")]
        if not audience.everyone:
            last.insert(0, kb.button(_("Everyone"), "bcaud", "clear"))
        return InlineKeyboardMarkup([*keyboard, last])
    if sub == "role":
        buttons = [kb.button(_tick(r in audience.roles, role_name(r)), "bctog", f"r:{r}")
                   for r in AUDIENCE_ROLES]
    elif sub == "prov":
        return _province_markup(context, audience)
    elif sub == "mod":
        return InlineKeyboardMarkup(
            [[kb.button(_tick(m in audience.modules, f"{m}. {module_name(m)}"), "bctog",
                        f"m:{m}")] for m in range(1, 6)] + [[back]])
    elif sub == "lang":
        buttons = [kb.button(_tick(code in audience.languages, name), "bctog", f"l:{code}")
                   for code, name in LANGUAGES.items()]
    elif sub == "ent":
        names = bc.get("ents", {})
        shown = [*audience.enterprise_ids,
                 *(int(i) for i in bc.get("found", []) if int(i) not in audience.enterprise_ids)]
        return InlineKeyboardMarkup(
            [[kb.button(_tick(e in audience.enterprise_ids, names.get(str(e), f"#{e}")[:60]),
                        "bctog", f"e:{e}")] for e in shown] + [[back]])
    else:  # act
        buttons = [kb.button(_("No limit"), "bctog", "a:0")]
    return InlineKeyboardMarkup([*rows(buttons).inline_keyboard, [back]])


def _province_markup(context: BotContext, audience: Audience) -> InlineKeyboardMarkup:
    bc = _bc(context)
    kb = FLOW.keyboard(context)
    locale = current_locale()
    picked = bc.get("pick")
    nav = []
    if picked:
        # A typed name that fits several provinces: those, to choose among.
        shown = [p for p in PROVINCES if p.code in picked]
        nav.append(kb.button(_("All provinces"), "bctog", "pg:0"))
    else:
        pages = (len(PROVINCES) + PROVINCE_PAGE - 1) // PROVINCE_PAGE
        page = max(0, min(int(bc.get("page", 0)), pages - 1))
        shown = list(PROVINCES[page * PROVINCE_PAGE:(page + 1) * PROVINCE_PAGE])
        if page > 0:
            nav.append(kb.button("‹ " + _("Previous"), "bctog", f"pg:{page - 1}"))
        if page < pages - 1:
            nav.append(kb.button(_("More") + " ›", "bctog", f"pg:{page + 1}"))
    buttons = [kb.button(_tick(p.code in audience.provinces, p.name(locale)), "bctog",
                         f"p:{p.code}") for p in shown]
    keyboard = list(rows(buttons).inline_keyboard)
    if nav:
        keyboard.append(nav)
    keyboard.append([kb.button("‹ " + _("Back"), "bctog", "back")])
    return InlineKeyboardMarkup(keyboard)


@FLOW.step("bc_audience", N_("Please choose one of the buttons below."))
async def ask_audience(update: Update, context: BotContext) -> None:
    text, markup = await _audience_view(context)
    await send(update, context, text, markup)


async def _show_audience(update: Update, context: BotContext) -> str:
    """After a button: the same message shows the new selection and count."""
    text, markup = await _audience_view(context)
    query = update.callback_query
    try:
        await query.edit_message_text(text, reply_markup=markup,  # type: ignore[union-attr]
                                      parse_mode=ParseMode.HTML)
    except BadRequest as exc:
        if "not modified" not in exc.message.lower():
            await send(update, context, text, markup)
    return "bc_audience"


async def audience_menu(update: Update, context: BotContext) -> str | int | None:
    button = context.button
    assert button is not None
    value = button.value
    if not FLOW.fresh(context) or value not in (*_SUBS, "clear", "done"):
        return await FLOW.stale(update, context)
    bc = _bc(context)
    if value == "done":
        if await _count(context, _audience(context)) == 0:
            await ack(update, _("Nobody matches this audience. Please change it."))
            return None
        await ack(update)
        return await ask_when(update, context)
    await ack(update)
    if value == "clear":
        _set_audience(context, Audience())
    else:
        bc.update(sub=value, page=0, pick=None, found=[])
    return await _show_audience(update, context)


def _toggle(values: list, value: object) -> list:
    return [v for v in values if v != value] if value in values else [*values, value]


async def audience_toggled(update: Update, context: BotContext) -> str | int | None:
    button = context.button
    assert button is not None
    bc = _bc(context)
    audience = _audience(context)
    kind, _sep, value = button.value.partition(":")
    if not FLOW.fresh(context):
        return await FLOW.stale(update, context)
    if button.value == "back":
        bc.update(sub=None, pick=None, found=[])
    elif kind == "pg" and value.isdigit():
        bc.update(page=int(value), pick=None)
    elif kind == "r" and value in AUDIENCE_ROLES:
        audience.roles = _toggle(audience.roles, value)
    elif kind == "p" and by_code(value) is not None:
        audience.provinces = _toggle(audience.provinces, value)
    elif kind == "m" and value in ("1", "2", "3", "4", "5"):
        audience.modules = _toggle(audience.modules, int(value))
    elif kind == "l" and value in LANGUAGES:
        audience.languages = _toggle(audience.languages, value)
    elif kind == "e" and value.isdigit() and value in bc.get("ents", {}):
        audience.enterprise_ids = _toggle(audience.enterprise_ids, int(value))
    elif button.value == "a:0":
        audience.active_within_days = None
        bc["sub"] = None
    else:
        return await FLOW.stale(update, context)
    await ack(update)
    _set_audience(context, audience)
    return await _show_audience(update, context)


async def audience_typed(update: Update, context: BotContext) -> str | int | None:
    """Typed answers in the audience: a province's name, an enterprise's name, a number of
    days; in the other sub-menus only buttons fit."""
    bc = _bc(context)
    text = update.message.text if update.message else None
    sub = bc.get("sub")
    if sub == "prov":
        return await _province_typed(update, context, text)
    if sub == "ent":
        return await _enterprise_typed(update, context, text)
    if sub == "act":
        days, error = text_input.parse_whole_number(text, lo=1, hi=MAX_DAYS)
        if error:
            return await FLOW.reask(update, context, _(
                "Please give a number of days from 1 to {max}.").format(max=MAX_DAYS))
        audience = _audience(context)
        audience.active_within_days = days
        _set_audience(context, audience)
        bc["sub"] = None
        return await ask_audience(update, context)
    return await FLOW.wrong_input(update, context)


async def _province_typed(update: Update, context: BotContext, text: str | None) -> str | int:
    matches = match_province(text)
    if not matches:
        return await FLOW.reask(update, context, _("I do not know that province."))
    bc = _bc(context)
    if len(matches) > 1:
        bc["pick"] = [p.code for p in matches]
        return await FLOW.reask(update, context, _("Which one do you mean?"))
    audience = _audience(context)
    if matches[0].code not in audience.provinces:
        audience.provinces = [*audience.provinces, matches[0].code]
    _set_audience(context, audience)
    bc["pick"] = None
    return await ask_audience(update, context)


async def _enterprise_typed(update: Update, context: BotContext, text: str | None) -> str | int:
    name, error = text_input.clean_name(text)
    if error or name is None:
        return await FLOW.reask(update, context, _("Please type part of the enterprise's "
                                                   "name."))
    async with context.svc.sessionmaker() as session:
        found = await ent_db.approved_by_name(session, name)
    if not found:
        return await FLOW.reask(update, context, _(
            "No approved enterprise has “{text}” in its name.").format(text=html.escape(name)))
    bc = _bc(context)
    bc["found"] = [str(e.id) for e in found]
    bc.setdefault("ents", {}).update({str(e.id): e.name for e in found})
    return await ask_audience(update, context)


# --- when -----------------------------------------------------------------------------------
def _example(context: BotContext) -> str:
    tomorrow = schedule.in_wib(context.svc.clock.now()) + timedelta(days=1)
    return tomorrow.strftime("%Y-%m-%d") + " 08:00"


@FLOW.step("bc_when", N_("Please press Send now, or type a date and time."))
async def ask_when(update: Update, context: BotContext) -> None:
    kb = FLOW.keyboard(context)
    await send(update, context, _(
        "When should it go out? Press Send now, or type a date and time in WIB, e.g. {example}. "
        "Add WITA or WIT for those time zones.").format(example=_example(context)),
        rows([kb.button(_("Send now"), "bcnow", "now")]))


async def send_now(update: Update, context: BotContext) -> str | int | None:
    if not FLOW.fresh(context):
        return await FLOW.stale(update, context)
    await ack(update)
    _bc(context)["send_at"] = "now"
    return await ask_summary(update, context)


async def when_typed(update: Update, context: BotContext) -> str | int | None:
    moment, error = schedule.parse_send_time(update.message.text if update.message else None,
                                             now=context.svc.clock.now())
    if error:
        note = {
            schedule.NO_SUCH_DATE: _("That date or time does not exist."),
            schedule.PAST: _("That time has already passed. Please choose a later time."),
            schedule.TOO_FAR: _("That is more than a year ahead. Please check the year."),
        }.get(error, _("Please write the date and time like {example}.").format(
            example=_example(context)))
        return await FLOW.reask(update, context, note)
    assert moment is not None
    _bc(context)["send_at"] = moment.isoformat()
    return await ask_summary(update, context)


def _send_at(bc: dict) -> datetime | None:
    value = bc.get("send_at")
    return datetime.fromisoformat(value) if value and value != "now" else None


# --- summary and confirmation ---------------------------------------------------------------
def _summary(bc: dict, count: int, *, full: bool) -> str:
    def shown(text: str) -> str:
        return text if full else snippet(text, 300)

    send_at = _send_at(bc)
    return "\n".join([
        _("<b>Please check the broadcast</b>"),
        "",
        _("<b>Indonesian:</b>"),
        shown(bc["text_id"]),
        "",
        _("<b>English:</b>"),
        shown(bc["text_en"]) if bc.get("text_en") else
        _("(none: English readers get the Indonesian text)"),
        "",
        _("<b>Audience:</b>"),
        describe_audience(Audience.from_json(bc.get("aud")), bc.get("ents", {})),
        _("Recipients now: <b>{count}</b>").format(count=format_number(count)),
        _("When: {when}").format(when=when_text(send_at) if send_at else _("now")),
    ])


@FLOW.step("bc_confirm", N_("Please choose one of the buttons below."))
async def ask_summary(update: Update, context: BotContext) -> None:
    bc = _bc(context)
    count = await _count(context, _audience(context))
    text = _summary(bc, count, full=True)
    if len(text) > MAX_TEXT:
        text = _summary(bc, count, full=False)
    kb = FLOW.keyboard(context)
    await send(update, context, text, rows([kb.button("✅ " + _("Confirm"), "bcok", "yes"),
                                            kb.button("✖ " + _("Cancel"), "bcok", "no")]))


async def confirmed(update: Update, context: BotContext) -> str | int | None:
    button, user = context.button, context.user_row
    assert button is not None and user is not None
    bc = _bc(context)
    if not FLOW.fresh(context) or button.value not in ("yes", "no") or not bc.get("text_id") \
            or not bc.get("send_at"):
        return await FLOW.stale(update, context)
    await ack(update)
    if button.value == "no":
        return await FLOW.cancel(update, context)
    svc = context.svc
    now = svc.clock.now()
    send_at = _send_at(bc) or now
    if send_at <= now and bc["send_at"] != "now":
        # The time passed while the summary was open: ask again rather than send at once.
        await send(update, context, _("That time has passed meanwhile. Please choose the "
                                      "time again."))
        return await ask_when(update, context)
    chat_id = update.effective_chat.id  # type: ignore[union-attr]
    async with svc.sessionmaker() as session, session.begin():
        broadcast = await broadcasts_db.create(
            session, created_by=user.id, text_id=bc["text_id"], text_en=bc.get("text_en"),
            audience=_audience(context), send_at=send_at, now=now,
            staff_ids=svc.settings.staff_ids)
        queued = broadcast.status == BroadcastStatus.QUEUED
        count = broadcast.recipient_count if queued else await count_recipients(
            session, _audience(context), now=now, staff_ids=svc.settings.staff_ids)
        # The draft goes with the broadcast, in one transaction: after a crash here the
        # Confirm button is stale, never a second broadcast.
        await forget_keys(session, FLOW.name, chat_id, user.id, FLOW.keys)
        broadcast_id = broadcast.id
    FLOW.clear(context)
    log.info("broadcast %s by staff=%s: %s recipients, %s", broadcast_id, user.id, count,
             "queued" if queued else f"scheduled for {send_at.isoformat()}")
    if queued:
        svc.wake_sender()
        await send(update, context, _(
            "Broadcast #{id} is on its way. Recipients: {count}.\n/broadcasts shows the "
            "progress.").format(id=broadcast_id, count=format_number(count or 0)))
    else:
        await send(update, context, _(
            "Broadcast #{id} is scheduled for {when}. Recipients now: {count}; the audience "
            "is worked out again at that time.\n/broadcasts shows the progress.").format(
            id=broadcast_id, when=when_text(send_at), count=format_number(count or 0)))
    return END


# --- /broadcasts ----------------------------------------------------------------------------
def _unfinished(broadcast: Broadcast, counts: outbox_db.Counts) -> bool:
    return broadcast.status == BroadcastStatus.SCHEDULED or (
        broadcast.status == BroadcastStatus.QUEUED and counts.pending > 0)


def _status(broadcast: Broadcast, counts: outbox_db.Counts) -> str:
    if broadcast.status == BroadcastStatus.SCHEDULED:
        return _("Scheduled")
    if broadcast.status == BroadcastStatus.CANCELLED:
        return _("Cancelled")
    return _("Sending") if counts.pending else _("Finished")


def _block(broadcast: Broadcast, counts: outbox_db.Counts, matching: int | None) -> str:
    lines = [
        f"<b>#{broadcast.id}</b> · {_status(broadcast, counts)} · {when_text(broadcast.send_at)}",
        f"<i>{snippet(broadcast.text_id, 80)}</i>",
    ]
    if matching is not None:
        lines.append(_("Recipients if sent now: {count}").format(count=format_number(matching)))
    else:
        recipients = broadcast.recipient_count if broadcast.recipient_count is not None \
            else counts.total
        lines.append(_("Recipients: {count} · sent {sent} · pending {pending} · skipped "
                       "{skipped} · failed {failed}").format(
            count=format_number(recipients), sent=format_number(counts.sent),
            pending=format_number(counts.pending), skipped=format_number(counts.skipped),
            failed=format_number(counts.failed)))
    if counts.failed_by_reason:
        lines.append(_("Failed: {reasons}").format(reasons="; ".join(
            f"{html.escape(reason)}: {format_number(n)}"
            for reason, n in sorted(counts.failed_by_reason.items()))))
    return "\n".join(lines)


async def list_command(update: Update, context: BotContext) -> None:
    """/broadcasts: the latest ones with their counts, and Cancel for those not finished."""
    if not is_staff(context):
        await refuse_command(update, context, "broadcasts")
        return
    svc = context.svc
    async with svc.sessionmaker() as session:
        items = []
        for broadcast in await broadcasts_db.recent(session, RECENT):
            counts = await outbox_db.broadcast_counts(session, broadcast.id)
            matching = await count_recipients(
                session, Audience.from_json(broadcast.audience), now=svc.clock.now(),
                staff_ids=svc.settings.staff_ids) \
                if broadcast.status == BroadcastStatus.SCHEDULED else None
            items.append((broadcast, counts, matching))
    if not items:
        await send(update, context, _("No broadcasts yet. /broadcast writes one."))
        return
    kb = _plain_keyboard(context)
    buttons = [kb.button("✖ " + _("Cancel #{id}").format(id=b.id), "blx", str(b.id))
               for b, counts, _m in items if _unfinished(b, counts)]
    await send(update, context, "\n\n".join(_block(*item) for item in items),
               rows(buttons, width=2) if buttons else None)


def _plain_keyboard(context: BotContext) -> Keyboard:
    """Buttons of /broadcasts belong to no conversation: no nonce, only the role check."""
    assert context.user_row is not None
    return Keyboard(context.svc.signer, context.user_row.id)


async def _load(context: BotContext, broadcast_id: int) -> tuple[Broadcast | None,
                                                                   outbox_db.Counts | None]:
    async with context.svc.sessionmaker() as session:
        broadcast = await broadcasts_db.get(session, broadcast_id)
        counts = await outbox_db.broadcast_counts(session, broadcast_id) if broadcast else None
    return broadcast, counts


async def _pressed_broadcast(update: Update, context: BotContext
                             ) -> tuple[Broadcast | None, outbox_db.Counts | None] | None:
    """The broadcast a staff button names, with its counts; None when the presser is not
    staff (refused and logged)."""
    button = context.button
    assert button is not None
    if not is_staff(context):
        await refuse(update, context)
        return None
    if not button.value.isdigit():
        return None, None
    return await _load(context, int(button.value))


async def cancel_pressed(update: Update, context: BotContext) -> None:
    if (pressed := await _pressed_broadcast(update, context)) is None:
        return
    broadcast, counts = pressed
    if broadcast is None or counts is None or not _unfinished(broadcast, counts):
        await stale_button(update, context)
        return
    await ack(update)
    kb = _plain_keyboard(context)
    await send(update, context, _(
        "Cancel broadcast #{id}? Messages not sent yet are dropped; those already sent stay "
        "sent.").format(id=broadcast.id),
        rows([kb.button(_("Yes, cancel it"), "blxy", str(broadcast.id)),
              kb.button(_("No, keep it"), "blxn", str(broadcast.id))]))


async def _edit_or_send(update: Update, context: BotContext, text: str) -> None:
    try:
        await update.callback_query.edit_message_text(  # type: ignore[union-attr]
            text, parse_mode=ParseMode.HTML)
    except TelegramError:
        await send(update, context, text)


async def cancel_confirmed(update: Update, context: BotContext) -> None:
    if (pressed := await _pressed_broadcast(update, context)) is None:
        return
    broadcast, counts = pressed
    if broadcast is None or counts is None or broadcast.status == BroadcastStatus.CANCELLED:
        await stale_button(update, context)
        return
    if not _unfinished(broadcast, counts):
        await ack(update, _("This broadcast has already been sent."))
        return
    async with context.svc.sessionmaker() as session, session.begin():
        dropped = await broadcasts_db.cancel(session, broadcast.id, now=context.svc.clock.now())
    context.svc.recheck_sender()
    if dropped is None:
        # Cancelled meanwhile, by another staff member or another press.
        await stale_button(update, context)
        return
    log.info("broadcast %s cancelled by staff=%s: %s messages dropped", broadcast.id,
             context.user_row.id if context.user_row else None, dropped)
    await ack(update)
    _broadcast, after = await _load(context, broadcast.id)
    await _edit_or_send(update, context, _(
        "Broadcast #{id} is cancelled. Messages dropped before sending: {dropped}. Already "
        "sent: {sent}.").format(id=broadcast.id, dropped=format_number(dropped),
                                          sent=format_number(after.sent if after else 0)))


async def keep_pressed(update: Update, context: BotContext) -> None:
    if not is_staff(context):
        await refuse(update, context)
        return
    await ack(update)
    await _edit_or_send(update, context, _("Not cancelled."))
