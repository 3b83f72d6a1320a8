"""The join code message and its A4 poster, for the owner (and later the trainer)."""

from __future__ import annotations

import asyncio
import html

from telegram import InputFile
from telegram.constants import ParseMode
from telegram.ext import ExtBot

from chat.i18n import _, use_locale
from domain.join_codes import deep_link
from domain.poster import PosterTexts, render_poster


async def send_code(bot: ExtBot, bot_username: str, chat_id: int, enterprise_name: str,
                    code: str, locale: str) -> None:
    link = deep_link(bot_username, code)
    with use_locale(locale):
        await bot.send_message(
            chat_id, _("{name}\nJoin code: <b>{code}</b>\nLink for workers: {link}\n"
                       "Print the poster below for the notice board.").format(
                name=html.escape(enterprise_name), code=code, link=link),
            parse_mode=ParseMode.HTML)
        texts = PosterTexts(
            headline=_("Join us on Telegram"),
            code_label=_("Join code"),
            steps=(_("Scan this QR code with your phone camera."),
                   _("Telegram opens: tap START."),
                   _("Can't scan? Search for @{bot} in Telegram, then type the code above.")
                   .format(bot=bot_username)),
            footer=_("ILO SCORE Programme · Indonesia"))
        caption = _("A4 poster for the notice board")
    # Drawing takes a while: off the event loop, so other users and the outbox's pacing
    # never wait behind it.
    poster = await asyncio.to_thread(render_poster, enterprise_name=enterprise_name, link=link,
                                     code=code, texts=texts)
    # As a file, not a photo: Telegram would recompress a photo to a JPEG unfit for printing.
    await bot.send_document(chat_id, InputFile(poster, filename=f"SCORE-{code}.png"),
                            caption=caption)
