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
from typing import Any, Literal, TypedDict, TypeVar

from telegram import InlineKeyboardMarkup, Message, MessageEntity, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest

from chat.access import is_staff
from chat.context import BotContext, Services
from chat.flow import BUTTON, END, STAY, Flow, Outcome, Retry, Run
from chat.i18n import N_, _, current_locale, format_date, format_number, format_time, ngettext
from chat.keyboards import province_rows
from chat.labels import module_name, role_name
from chat.reply import ack, edit_or_send, rows, send, stale_button
from db.broadcasts import (
    audience_size,
    broadcast_with_counts,
    cancel_broadcast,
    confirm_broadcast,
    find_approved,
    recent_with_counts,
)
from db.models import Broadcast, BroadcastStatus
from db.queries import outbox as outbox_db
from db.queries.audience import ROLES as AUDIENCE_ROLES
from db.queries.audience import Audience
from domain import html_errors, quiet_hours, schedule, text_input, typed_dates
from domain.modules import MODULES, module_of
from domain.provinces import PROVINCES, by_code, match_province

log = logging.getLogger(__name__)



class BroadcastData(TypedDict, total=False):
    text_id: str
    text_en: str | None            # None: skipped
    aud: dict[str, Any]            # the Audience, as its to_json()
    sub: str | None                # the audience's sub-menu shown ("role", "prov", ...)
    page: int                      # the page of provinces shown
    pick: list[str] | None         # provinces matching a typed name, offered alone
    found: list[str]               # the ids of enterprises found by a typed name
    ents: dict[str, str]           # the names of the enterprises found so far, by id
    send_at: str                   # "now", or an ISO moment
    zone: str                      # the time zone the moment was typed in
    urgent: bool                   # sent at once, even at night and into conversations


COMPOSE: Flow[BroadcastData] = Flow("broadcast", command="broadcast", allowed=is_staff,
                                    reentry=True,
                                    cancelled=N_("Cancelled. No broadcast was sent."))
MAX_TEXT = 4096  # Telegram's limit for one message
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


def _audience(run: Run[BroadcastData]) -> Audience:
    return Audience.from_json(run.data.get("aud"))


def _set_audience(run: Run[BroadcastData], audience: Audience) -> None:
    run.data["aud"] = audience.to_json()


async def _count(svc: Services, audience: Audience) -> int:
    return await audience_size(svc.sessionmaker, audience, now=svc.clock.now(),
                               staff_ids=svc.settings.staff_ids)


def when_text(moment: datetime, zone: str = "WIB") -> str:
    """In the zone the staff member typed, and in WIB beside it when that was another one:
    the team works from Jakarta, the recipients may not."""
    local = schedule.in_zone(moment, zone)
    shown = _("{date}, {time} {zone}").format(date=format_date(local),
                                              time=format_time(local), zone=zone)
    if zone != "WIB":
        shown += f" ({format_time(schedule.in_wib(moment), zone='WIB')})"
    return shown


def snippet(text: str, limit: int) -> str:
    """A short plain-text, HTML-safe extract of a broadcast (cutting HTML could break it)."""
    plain = " ".join(html.unescape(_TAG.sub("", text)).split())
    if len(plain) > limit:
        plain = plain[:limit - 1] + "…"
    return html.escape(plain)


# --- start ----------------------------------------------------------------------------------
@COMPOSE.entry
async def begin(run: Run[BroadcastData]) -> Outcome:
    """/broadcast: staff only (the router checks it now and again at every answer)."""
    _set_audience(run, Audience())
    await run.say(_("Let's write a broadcast: the text, who receives it, and when. Type "
                    "/cancel to stop."))
    return ask_text_id


# --- the texts ------------------------------------------------------------------------------
_EXAMPLES = '<b>bold</b>, <i>italic</i>, <a href="https://www.ilo.org">link</a>'


@COMPOSE.step("bc_text_id", note=N_("Please send the message as text."))
async def ask_text_id(run: Run[BroadcastData]) -> None:
    await run.say(_(
        "Please send the message in Indonesian. Telegram HTML formatting is allowed, e.g. "
        "{examples}.").format(examples=html.escape(_EXAMPLES)))


@COMPOSE.step("bc_text_en", note=N_("Please send the English text, or press Skip."))
async def ask_text_en(run: Run[BroadcastData]) -> None:
    await run.say(_("Now the same message in English, if you like. Without it, English "
                    "readers get the Indonesian text."),
                  rows([run.button(_("Skip"), "bcskip", "en")]))


def _html_of(message: Message | None) -> str | None:
    """The message as HTML: as typed, or converted when formatted with the client's menu."""
    if message is None or message.text is None:
        return None
    if any(e.type in _FORMATTING for e in message.entities):
        return message.text_html
    return message.text


async def _take_text(run: Run[BroadcastData], key: Literal["text_id", "text_en"]) -> Retry | None:
    """Store a text once Telegram accepted it as a preview (None); else say why and ask
    again."""
    text = _html_of(run.update.message)
    if text is None or not text.strip():
        return run.retry(_("The message is empty."))
    if len(text) > MAX_TEXT:
        return run.retry(_("That is too long: at most {limit} characters, please.").format(
            limit=format_number(MAX_TEXT)))
    try:
        await run.flush()  # the preview comes after anything said before it
        await run.context.bot.send_message(run.user_id, text, parse_mode=ParseMode.HTML)
    except BadRequest as exc:
        return run.retry(_html_problem(exc.message) + "\n" + _(
            "Please correct it and send the text again."))
    run.data[key] = text
    await run.say(_("☝️ This is how recipients will see it."))
    return None


def _html_problem(message: str) -> str:
    """Telegram's complaint, in the user's language; never shown raw."""
    problem = html_errors.explain(message)
    tag, found = html.escape(problem.tag), html.escape(problem.found)
    if problem.kind == html_errors.UNSUPPORTED and not problem.tag.strip():
        # "helm < 5 menit": a plain "<" read as the start of a tag.
        return _("Telegram reads &lt; as the start of formatting. For a plain &lt; sign, "
                 "write &amp;lt; instead.")
    return {
        html_errors.NOT_CLOSED: _("Telegram cannot show this formatting: the tag &lt;{tag}&gt; "
                                  "is not closed. Add &lt;/{tag}&gt; where it should end."),
        html_errors.UNSUPPORTED: _("Telegram cannot show this formatting: it does not know the "
                                   "tag &lt;{tag}&gt;. Use b, i, u, s, a, code or pre."),
        html_errors.CROSSED: _("Telegram cannot show this formatting: &lt;/{found}&gt; comes "
                               "where &lt;/{tag}&gt; should close first."),
        html_errors.STRAY_END: _("Telegram cannot show this formatting: a closing tag has no "
                                 "opening tag."),
        html_errors.UNFINISHED: _("Telegram cannot show this formatting: a tag is not finished. "
                                  "Check the &lt; and &gt; signs."),
    }.get(problem.kind, _("Telegram cannot show this formatting. Check the &lt; and &gt; "
                          "signs.")).format(tag=tag, found=found)


@ask_text_id.on_text()
async def text_id_given(run: Run[BroadcastData], _text: str) -> Outcome:
    return await _take_text(run, "text_id") or ask_text_en


@ask_text_en.on_text()
async def text_en_given(run: Run[BroadcastData], _text: str) -> Outcome:
    return await _take_text(run, "text_en") or ask_audience


@ask_text_en.on_button("bcskip", ("en",))
async def english_skipped(run: Run[BroadcastData], _value: str) -> Outcome:
    await run.ack()
    run.data["text_en"] = None
    return ask_audience


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
        days = audience.active_within_days
        lines.append(ngettext("Only those who wrote to the bot in the last {days} day",
                              "Only those who wrote to the bot in the last {days} days",
                              days).format(days=days))
    return "\n".join(lines)


async def _audience_view(run: Run[BroadcastData]) -> tuple[str, InlineKeyboardMarkup]:
    audience = _audience(run)
    sub = run.data.get("sub")
    header = {
        None: _("<b>Who receives it?</b> Choose below. A person must match every criterion you "
                "set. Within one criterion, one of the chosen values is enough."),
        "role": _("<b>Roles</b>: choose one or more."),
        "prov": _("<b>Provinces</b> of their enterprise: choose one or more, or type a "
                  "province's name."),
        "mod": _("<b>Modules</b> their enterprise is interested in: choose one or more."),
        "lang": _("<b>Language</b>: choose one or both."),
        "ent": _("<b>Enterprises</b>: type part of an enterprise's name to find it, then "
                 "choose."),
        "act": _("<b>Recently active</b>: only those who wrote to the bot in the last few days. "
                 "How many days? Type a number from 1 to {max}.").format(max=MAX_DAYS),
    }[sub]
    count = await _count(run.svc, audience)
    text = "\n\n".join([
        header,
        describe_audience(audience, run.data.get("ents", {})),
        _("Recipients now: <b>{count}</b>").format(count=format_number(count)),
    ])
    return text, _audience_markup(run, audience)


def _tick(on: bool, label: str) -> str:
    return ("✅ " if on else "▫️ ") + label


def _audience_markup(run: Run[BroadcastData], audience: Audience) -> InlineKeyboardMarkup:
    kb = run.keyboard()
    sub = run.data.get("sub")
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
        return _province_markup(run, audience)
    elif sub == "mod":
        return InlineKeyboardMarkup(
            [[kb.button(_tick(m in audience.modules, f"{m}. {module_name(m)}"), "bctog",
                        f"m:{m}")] for m in MODULES] + [[back]])
    elif sub == "lang":
        buttons = [kb.button(_tick(code in audience.languages, name), "bctog", f"l:{code}")
                   for code, name in LANGUAGES.items()]
    elif sub == "ent":
        names = run.data.get("ents", {})
        shown = [*audience.enterprise_ids,
                 *(int(i) for i in run.data.get("found", [])
                   if int(i) not in audience.enterprise_ids)]
        return InlineKeyboardMarkup(
            [[kb.button(_tick(e in audience.enterprise_ids, names.get(str(e), f"#{e}")[:60]),
                        "bctog", f"e:{e}")] for e in shown] + [[back]])
    else:  # act
        buttons = [kb.button(_("No limit"), "bctog", "a:0")]
    return InlineKeyboardMarkup([*rows(buttons).inline_keyboard, [back]])


def _province_markup(run: Run[BroadcastData], audience: Audience) -> InlineKeyboardMarkup:
    kb = run.keyboard()
    picked = run.data.get("pick")
    keyboard = province_rows(kb, kind="bctog", prefix="p:", page=int(run.data.get("page", 0)),
                             only=picked, ticked=audience.provinces)
    if picked:
        # A typed name that fits several provinces: those, to choose among.
        keyboard.append([kb.button(_("Show all provinces"), "bctog", "p:pg:0")])
    keyboard.append([kb.button("‹ " + _("Back"), "bctog", "back")])
    return InlineKeyboardMarkup(keyboard)


@COMPOSE.step("bc_audience", expects=BUTTON)
async def ask_audience(run: Run[BroadcastData]) -> None:
    text, markup = await _audience_view(run)
    await run.say(text, markup)


async def _show_audience(run: Run[BroadcastData]) -> Outcome:
    """After a button: the same message shows the new selection and count."""
    text, markup = await _audience_view(run)
    await edit_or_send(run.update, run.context, text, markup)
    return STAY


@ask_audience.on_button("bcaud", (*_SUBS, "clear", "done"))
async def audience_menu(run: Run[BroadcastData], value: str) -> Outcome:
    if value == "done":
        if await _count(run.svc, _audience(run)) == 0:
            await run.ack(_("Nobody matches this audience. Please change it."))
            return STAY
        await run.ack()
        return ask_when
    await run.ack()
    if value == "clear":
        _set_audience(run, Audience())
    else:
        run.data.update({"sub": value, "page": 0, "pick": None, "found": []})
    return await _show_audience(run)


T = TypeVar("T")


def _toggle(values: list[T], value: T) -> list[T]:
    return [v for v in values if v != value] if value in values else [*values, value]


@ask_audience.on_button("bctog")
async def audience_toggled(run: Run[BroadcastData], pressed: str) -> Outcome:
    audience = _audience(run)
    kind, _sep, value = pressed.partition(":")
    if pressed == "back":
        run.data.update({"sub": None, "pick": None, "found": []})
    elif kind == "p" and value.startswith("pg:") and value[3:].isdigit():
        run.data.update({"page": int(value[3:]), "pick": None})
    elif kind == "r" and value in AUDIENCE_ROLES:
        audience.roles = _toggle(audience.roles, value)
    elif kind == "p" and by_code(value) is not None:
        audience.provinces = _toggle(audience.provinces, value)
    elif kind == "m" and (module := module_of(value)) is not None:
        audience.modules = _toggle(audience.modules, module)
    elif kind == "l" and value in LANGUAGES:
        audience.languages = _toggle(audience.languages, value)
    elif kind == "e" and value.isdigit() and value in run.data.get("ents", {}):
        audience.enterprise_ids = _toggle(audience.enterprise_ids, int(value))
    elif pressed == "a:0":
        audience.active_within_days = None
        run.data["sub"] = None
    else:
        await stale_button(run.update)
        return STAY
    await run.ack()
    _set_audience(run, audience)
    return await _show_audience(run)


@ask_audience.on_text()
async def audience_typed(run: Run[BroadcastData], text: str) -> Outcome:
    """Typed answers in the audience: a province's name, an enterprise's name, a number of
    days; in the other sub-menus only buttons fit."""
    sub = run.data.get("sub")
    if sub == "prov":
        return await _province_typed(run, text)
    if sub == "ent":
        return await _enterprise_typed(run, text)
    if sub == "act":
        days, error = text_input.parse_whole_number(text, lo=1, hi=MAX_DAYS)
        if error:
            return run.retry(_("Please give a number of days from 1 to {max}.").format(
                max=MAX_DAYS))
        audience = _audience(run)
        audience.active_within_days = days
        _set_audience(run, audience)
        run.data["sub"] = None
        return ask_audience
    return run.retry(_("Please choose one of the buttons below."))


async def _province_typed(run: Run[BroadcastData], text: str) -> Outcome:
    matches = match_province(text)
    if not matches:
        return run.retry(_("I do not know that province."))
    if len(matches) > 1:
        run.data["pick"] = [p.code for p in matches]
        return run.retry(_("Which one do you mean?"))
    audience = _audience(run)
    if matches[0].code not in audience.provinces:
        audience.provinces = [*audience.provinces, matches[0].code]
    _set_audience(run, audience)
    run.data["pick"] = None
    return ask_audience


async def _enterprise_typed(run: Run[BroadcastData], text: str) -> Outcome:
    name, error = text_input.clean_name(text)
    if error or name is None:
        return run.retry(_("Please type part of the enterprise's name."))
    found = await find_approved(run.svc.sessionmaker, name)
    if not found:
        return run.retry(_("No approved enterprise has “{text}” in its name.").format(
            text=html.escape(name)))
    run.data["found"] = [str(i) for i in found]
    run.data.setdefault("ents", {}).update({str(i): n for i, n in found.items()})
    return ask_audience


# --- when -----------------------------------------------------------------------------------
# Why a typed time was refused, by domain/typed_dates.py's error key; {date} and {tomorrow}
# are examples that would be read.
_WHEN_NOTES = {
    typed_dates.NO_TIME: N_("Please add the time, e.g. “{date}”."),
    typed_dates.NO_SUCH_TIME: N_("That time does not exist. Please write it like “{date}”."),
    typed_dates.PAST: N_("That time has already passed. Please choose a later time."),
    typed_dates.TOO_FAR: N_("That is more than a year ahead. Please check the year."),
    typed_dates.NOT_A_DATE: N_("Please write the date and time like “{date}” or “{tomorrow}”."),
}


def _examples(svc: Services) -> dict[str, str]:
    """Two ways to write tomorrow at 08.00 WIB, in the reader's language: "9/12 08.00" (day
    first, as Indonesians write it) and "besok 08.00" / "tomorrow 08:00"."""
    tomorrow = schedule.in_wib(svc.clock.now()) + timedelta(days=1)
    eight = format_time(tomorrow.replace(hour=8, minute=0))
    return {"date": f"{tomorrow.day}/{tomorrow.month} {eight}",
            "tomorrow": _("tomorrow {time}").format(time=eight)}


@COMPOSE.step("bc_when", note=N_("Please press Send now, or type a date and time."))
async def ask_when(run: Run[BroadcastData]) -> None:
    await run.say(_(
        "When should it go out? Press Send now, or type a date and time in WIB, e.g. “{date}” "
        "or “{tomorrow}”. Add WITA or WIT for those time zones.").format(**_examples(run.svc)),
        rows([run.button(_("Send now"), "bcnow", "now")]))


@ask_when.on_button("bcnow", ("now",))
async def send_now(run: Run[BroadcastData], _value: str) -> Outcome:
    await run.ack()
    run.data["send_at"] = "now"
    return ask_summary


@ask_when.on_text()
async def when_typed(run: Run[BroadcastData], text: str) -> Outcome:
    """Read like every typed date of the product (domain/typed_dates.py): WIB unless the text
    names a zone, within a year; the summary then says the reading in words."""
    moment, error = typed_dates.read_coming_moment(text, run.svc.clock.now())
    if error or moment is None:
        note = _WHEN_NOTES.get(error or "", _WHEN_NOTES[typed_dates.NOT_A_DATE])
        return run.retry(_(note).format(**_examples(run.svc)))
    run.data["send_at"] = moment.isoformat()
    run.data["zone"] = typed_dates.zone_named(text) or "WIB"
    return ask_summary


def _send_at(bc: BroadcastData) -> datetime | None:
    value = bc.get("send_at")
    return datetime.fromisoformat(value) if value and value != "now" else None


# --- summary and confirmation ---------------------------------------------------------------
def _zones(zones: list[str]) -> str:
    return ", ".join(quiet_hours.ZONE_NAMES[z] for z in zones)


def timing_note(moment: datetime, urgent: bool) -> str:
    """What really happens at `moment`: night hours and conversations make it wait, unless
    it is urgent (domain/quiet_hours.py)."""
    if urgent:
        return _("⚡ <b>Urgent</b>: it goes out at once, even at night and to people in the "
                 "middle of a survey.")
    lines = []
    night = quiet_hours.night_zones(moment)
    if night == list(quiet_hours.ZONES):
        lines.append(_("🌙 That is night time (21:00–06:00) in every zone: it goes out at 06:00 "
                       "in each recipient's zone."))
    elif night:
        lines.append(_("🌙 That is night time (21:00–06:00) in {zones}: recipients there get it "
                       "at 06:00 their time.").format(zones=_zones(night)))
    lines.append(_("Someone in the middle of a survey or another conversation with the bot gets "
                   "it when they finish, at most 2 hours later."))
    return "\n".join(lines)


def _summary(bc: BroadcastData, count: int, now: datetime, *, full: bool) -> str:
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
        shown(text_en) if (text_en := bc.get("text_en")) else
        _("(none: English readers get the Indonesian text)"),
        "",
        _("<b>Audience:</b>"),
        describe_audience(Audience.from_json(bc.get("aud")), bc.get("ents", {})),
        _("Recipients now: <b>{count}</b>").format(count=format_number(count)),
        _("When: {when}").format(when=when_text(send_at, bc.get("zone", "WIB")) if send_at
                                 else _("now")),
        timing_note(send_at or now, bool(bc.get("urgent"))),
    ])


async def _summary_view(run: Run[BroadcastData]) -> tuple[str, InlineKeyboardMarkup]:
    count = await _count(run.svc, _audience(run))
    now = run.svc.clock.now()
    text = _summary(run.data, count, now, full=True)
    if len(text) > MAX_TEXT:
        text = _summary(run.data, count, now, full=False)
    urgent = bool(run.data.get("urgent"))
    return text, InlineKeyboardMarkup([
        [run.button("✅ " + _("Confirm"), "bcok", "yes"),
         run.button("✖ " + _("Cancel"), "bcok", "no")],
        [run.button(_("Not urgent: wait for daytime") if urgent
                    else "⚡ " + _("Urgent: send at once"), "bcurg", "off" if urgent else "on")]])


@COMPOSE.step("bc_confirm", expects=BUTTON)
async def ask_summary(run: Run[BroadcastData]) -> None:
    await run.say(*await _summary_view(run))


@ask_summary.on_button("bcurg", ("on", "off"))
async def urgency_chosen(run: Run[BroadcastData], value: str) -> Outcome:
    """Urgent or not: the same message shows what will happen then."""
    await run.ack()
    run.data["urgent"] = value == "on"
    await edit_or_send(run.update, run.context, *await _summary_view(run))
    return STAY


@ask_summary.on_button("bcok", ("yes", "no"))
async def confirmed(run: Run[BroadcastData], answer: str) -> Outcome:
    bc = run.data
    if not bc.get("text_id") or not bc.get("send_at"):
        await stale_button(run.update)
        return ask_summary
    await run.ack()
    if answer == "no":
        await run.say(COMPOSE.cancelled_text(run))
        return END
    svc = run.svc
    now = svc.clock.now()
    send_at = _send_at(bc) or now
    if send_at <= now and bc["send_at"] != "now":
        # The time passed while the summary was open: ask again rather than send at once.
        await run.say(_("That time has passed meanwhile. Please choose the time again."))
        return ask_when
    urgent = bool(bc.get("urgent"))
    # The draft goes with the broadcast, in one transaction: after a crash here the
    # Confirm button is stale, never a second broadcast.
    stored = await confirm_broadcast(
        svc.sessionmaker, created_by=run.user_id, text_id=bc["text_id"],
        text_en=bc.get("text_en"), audience=_audience(run), send_at=send_at, now=now,
        staff_ids=svc.settings.staff_ids, urgent=urgent)
    log.info("broadcast %s by staff=%s: %s recipients, %s%s", stored.id, run.user_id,
             stored.count, "queued" if stored.queued else f"scheduled for {send_at.isoformat()}",
             ", urgent" if urgent else "")
    night = [] if urgent else quiet_hours.night_zones(send_at)
    everywhere = night == list(quiet_hours.ZONES)
    count = format_number(stored.count)
    if stored.queued:
        svc.wake_sender()
        lines = [_("Broadcast #{id} goes out at 06:00 in each recipient's zone: it is night "
                   "now. Recipients: {count}.").format(id=stored.id, count=count) if everywhere
                 else _("Broadcast #{id} is on its way. Recipients: {count}.").format(
                     id=stored.id, count=count)]
        if night and not everywhere:
            lines.append(_("It is night now in {zones}: recipients there get it at 06:00 their "
                           "time.").format(zones=_zones(night)))
    else:
        lines = [_("Broadcast #{id} is scheduled for {when}. Recipients now: {count}. The "
                   "audience is worked out again at that time.").format(
            id=stored.id, when=when_text(send_at, bc.get("zone", "WIB")), count=count)]
        if everywhere:
            lines.append(_("That is night time in every zone: it goes out at 06:00 in each "
                           "recipient's zone."))
        elif night:
            lines.append(_("It is night then in {zones}: recipients there get it at 06:00 "
                           "their time.").format(zones=_zones(night)))
    lines.append(_("/broadcasts shows the progress."))
    await run.say("\n".join(lines))
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
    urgent = " · ⚡ " + _("Urgent") if broadcast.urgent else ""
    lines = [
        f"<b>#{broadcast.id}</b> · {_status(broadcast, counts)} · {when_text(broadcast.send_at)}"
        + urgent,
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
    svc = context.svc
    items = await recent_with_counts(svc.sessionmaker, RECENT, now=svc.clock.now(),
                                     staff_ids=svc.settings.staff_ids)
    waited = _replies_waited(svc)
    if not items:
        await send(update, context, "\n\n".join(
            [_("No broadcasts yet. /broadcast writes one."), *waited]))
        return
    kb = context.keyboard()
    buttons = [kb.button("✖ " + _("Cancel #{id}").format(id=b.id), "blx", str(b.id))
               for b, counts, _m in items if _unfinished(b, counts)]
    await send(update, context, "\n\n".join([*(_block(*item) for item in items), *waited]),
               rows(buttons, width=2) if buttons else None)


# How long a minute in which replies waited for Telegram's limit stays in /broadcasts.
WAITED_SHOWN_FOR = timedelta(hours=1)


def _replies_waited(svc: Services) -> list[str]:
    """The last minute, within the hour, in which people noticed their replies wait for
    Telegram's limit (jobs/outbox_watch.py): how close the bot runs to it."""
    waits, at = svc.reply_waits, svc.reply_waits_at
    if waits is None or at is None or svc.clock.now() - at > WAITED_SHOWN_FOR:
        return []
    return [_("⏱ Replies waited for Telegram's limit of about 30 messages a second, in the "
              "minute until {time} WIB: {waited} of {replies}. The slowest 5% waited {p95} s "
              "or more, the longest {longest} s.").format(
        time=format_time(schedule.in_wib(at)), waited=format_number(waits.waited),
        replies=format_number(waits.replies), p95=format_number(round(waits.p95, 1)),
        longest=format_number(round(waits.longest, 1)))]


async def _load(context: BotContext, broadcast_id: int) -> tuple[Broadcast | None,
                                                                   outbox_db.Counts | None]:
    return await broadcast_with_counts(context.svc.sessionmaker, broadcast_id)


async def _pressed_broadcast(context: BotContext
                             ) -> tuple[Broadcast | None, outbox_db.Counts | None]:
    """The broadcast a staff button names, with its counts (the router checked the role)."""
    button = context.button
    assert button is not None
    if not button.value.isdigit():
        return None, None
    return await _load(context, int(button.value))


async def cancel_pressed(update: Update, context: BotContext) -> None:
    broadcast, counts = await _pressed_broadcast(context)
    if broadcast is None or counts is None or not _unfinished(broadcast, counts):
        await stale_button(update)
        return
    await ack(update)
    kb = context.keyboard()
    await send(update, context, _(
        "Cancel broadcast #{id}? Messages not sent yet are dropped. Those already sent stay "
        "sent.").format(id=broadcast.id),
        rows([kb.button(_("Yes, cancel it"), "blxy", str(broadcast.id)),
              kb.button(_("No, keep it"), "blxn", str(broadcast.id))]))


async def cancel_confirmed(update: Update, context: BotContext) -> None:
    broadcast, counts = await _pressed_broadcast(context)
    if broadcast is None or counts is None or broadcast.status == BroadcastStatus.CANCELLED:
        await stale_button(update)
        return
    if not _unfinished(broadcast, counts):
        await ack(update, _("This broadcast has already been sent."))
        return
    dropped = await cancel_broadcast(context.svc.sessionmaker, broadcast.id,
                                     now=context.svc.clock.now())
    context.svc.recheck_sender()
    if dropped is None:
        # Cancelled meanwhile, by another staff member or another press.
        await stale_button(update)
        return
    await ack(update)
    # Messages already on their way when it was cancelled arrive all the same: once their
    # outcomes are recorded they count as sent, not dropped, so the counts add up.
    await context.svc.outbox_settled()
    _broadcast, after = await _load(context, broadcast.id)
    if after is not None:
        dropped = max(0, dropped - (after.sent - counts.sent))
    log.info("broadcast %s cancelled by staff=%s: %s messages dropped", broadcast.id,
             context.user_row.id if context.user_row else None, dropped)
    await edit_or_send(update, context, _(
        "Broadcast #{id} is cancelled. Messages dropped before sending: {dropped}. Already "
        "sent: {sent}.").format(id=broadcast.id, dropped=format_number(dropped),
                                          sent=format_number(after.sent if after else 0)))


async def keep_pressed(update: Update, context: BotContext) -> None:
    await ack(update)
    await edit_or_send(update, context, _("Not cancelled."))
