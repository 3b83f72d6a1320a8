"""The join code message and its A4 poster, for the owner (and later the trainer): sent as the
reply to /code, or queued in the outbox when staff approve."""

from __future__ import annotations

import asyncio
import html

from telegram import InlineKeyboardMarkup, InputFile
from telegram.constants import ParseMode

from chat import notify
from chat.context import AppBot
from chat.i18n import _, use_locale
from domain.join_codes import deep_link
from rendering.poster import PosterTexts, render_poster


def code_text(bot_username: str, enterprise_name: str, code: str) -> str:
    return _("{name}\nJoin code: <b>{code}</b>\nLink for workers: {link}\n"
             "Print the poster below for the notice board.").format(
        name=html.escape(enterprise_name), code=code, link=deep_link(bot_username, code))


async def poster_png(bot_username: str, enterprise_name: str, code: str) -> bytes:
    """The A4 poster in the current language. Drawing takes a while: off the event loop, so
    other users and the outbox's pacing never wait behind it."""
    texts = PosterTexts(
        headline=_("Join us on Telegram"),
        code_label=_("Join code"),
        steps=(_("Scan this QR code with your phone camera."),
               _("Telegram opens: tap START."),
               _("Can't scan? Search for @{bot} in Telegram, then type the code above.")
               .format(bot=bot_username)),
        footer=_("ILO SCORE Programme · Indonesia"))
    return await asyncio.to_thread(render_poster, enterprise_name=enterprise_name,
                                   link=deep_link(bot_username, code), code=code, texts=texts)


def poster_name(code: str) -> str:
    return f"SCORE-{code}.png"


async def poster_message(bot_username: str, enterprise_name: str, code: str) -> notify.Message:
    """The poster as an outbox message (a file: Telegram would recompress a photo)."""
    png = await poster_png(bot_username, enterprise_name, code)
    return notify.Message(_("A4 poster for the notice board"),
                          media=notify.document(png, poster_name(code)))


async def send_code(bot: AppBot, bot_username: str, chat_id: int, enterprise_name: str,
                    code: str, locale: str, *, lead: str = "", more: str = "",
                    markup: InlineKeyboardMarkup | None = None) -> None:
    """The code and its poster as the reply to the owner's own command: two messages, the
    code's text (after `lead`, before `more`, with `markup`) and the poster file."""
    with use_locale(locale):
        text = "\n\n".join(part for part in (lead, code_text(bot_username, enterprise_name,
                                                                  code), more) if part)
        await bot.send_message(chat_id, text, parse_mode=ParseMode.HTML, reply_markup=markup)
        poster = await poster_png(bot_username, enterprise_name, code)
        caption = _("A4 poster for the notice board")
    # As a file, not a photo: Telegram would recompress a photo to a JPEG unfit for printing.
    await bot.send_document(chat_id, InputFile(poster, filename=poster_name(code)),
                            caption=caption)
