"""Tests for the sandbox: a real telegram.Bot talking to the in-process Bot API sandbox."""

from __future__ import annotations

import os

# RetryAfter warns about its upcoming timedelta type unless PTB is opted in; set before import.
os.environ["PTB_TIMEDELTA"] = "1"

import asyncio
import datetime as dtm
from collections.abc import AsyncIterator
from typing import TypeVar

import httpx
import pytest
import pytest_asyncio
from telegram import (
    Bot,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
    Update,
)
from telegram.constants import ChatMemberStatus, MessageEntityType
from telegram.error import (
    BadRequest,
    Conflict,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TimedOut,
)
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes

from sandbox import ApiError, BotApiSandbox, format_text

USER = 1001
OTHER = 1002

T = TypeVar("T")


def present(value: T | None) -> T:
    """The value PTB types as optional, which this update or answer does carry."""
    assert value is not None
    return value


def message(update: Update) -> Message:
    return present(update.message)


def query(update: Update) -> CallbackQuery:
    return present(update.callback_query)


def edited(result: Message | bool) -> Message:
    """An edit's answer: the message, for a message the bot sent (True is for inline ones)."""
    assert isinstance(result, Message)
    return result


@pytest.fixture
def sandbox() -> BotApiSandbox:
    return BotApiSandbox()


@pytest_asyncio.fixture
async def bot(sandbox: BotApiSandbox) -> AsyncIterator[Bot]:
    tg_bot = Bot(
        sandbox.token,
        base_url=sandbox.base_url + "/bot",
        base_file_url=sandbox.file_base_url,
        request=sandbox.request(),
        get_updates_request=sandbox.request(),
    )
    async with tg_bot:
        yield tg_bot


def keyboard(*rows: list[tuple[str, str]]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(text, callback_data=data) for text, data in row] for row in rows]
    )


# --- getMe / getUpdates --------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_get_me(bot: Bot, sandbox: BotApiSandbox) -> None:
    me = await bot.get_me()
    assert me.is_bot and me.id == sandbox.bot_id and me.username == sandbox.username
    assert bot.username == "ScoreAssistantBot"
    assert sandbox.calls_of("getMe")[0].error is None


@pytest.mark.asyncio
async def test_text_command_update(bot: Bot, sandbox: BotApiSandbox) -> None:
    sandbox.add_user(USER, "Siti", username="siti", language_code="en")
    first = sandbox.send_text(USER, "/start ref_42")
    second = sandbox.send_text(USER, "hello")
    assert second == first + 1 and sandbox.pending_updates == 2

    updates = await bot.get_updates(timeout=0)
    assert [u.update_id for u in updates] == [first, second]
    message = updates[0].message
    assert isinstance(updates[0], Update) and message is not None
    assert message.text == "/start ref_42"
    assert message.entities[0].type == MessageEntityType.BOT_COMMAND
    assert (message.entities[0].offset, message.entities[0].length) == (0, 6)
    assert message.chat.type == "private" and message.chat.id == USER
    assert message.from_user is not None and message.from_user.username == "siti"
    assert message.from_user.language_code == "en"
    assert updates[1].message is not None and not updates[1].message.entities
    assert sandbox.pending_updates == 0

    # Unconfirmed updates are delivered again; an offset past them confirms them.
    assert len(await bot.get_updates(timeout=0)) == 2
    assert await bot.get_updates(offset=second + 1, timeout=0) == ()
    await sandbox.wait_fetched(timeout=0.1)


@pytest.mark.asyncio
async def test_other_update_kinds(bot: Bot, sandbox: BotApiSandbox) -> None:
    sandbox.share_contact(USER, "+6281234567")
    sandbox.share_contact(USER, "+6289999999", contact_user_id=OTHER, first_name="Budi")
    sandbox.send_photo(USER)
    sandbox.send_sticker(USER)
    sandbox.send_voice(USER)
    sandbox.send_document(USER)
    sandbox.send_location(USER)
    sandbox.send_group_text(USER, -500, "/help@ScoreAssistantBot")
    sandbox.block(USER)
    sandbox.unblock(USER)

    updates = await bot.get_updates(limit=100)
    assert len(updates) == 10
    own, other, photo, sticker, voice, document, location, group = map(message, updates[:8])
    blocked, unblocked = (present(update.my_chat_member) for update in updates[8:])
    own_contact, other_contact = present(own.contact), present(other.contact)
    assert own_contact.user_id == USER and own_contact.phone_number == "+6281234567"
    assert other_contact.user_id == OTHER and other_contact.first_name == "Budi"
    assert photo.photo and sticker.sticker and voice.voice
    assert present(document.document).file_name == "document.pdf"
    assert present(location.location).latitude == pytest.approx(-6.2)
    assert group.chat.type == "group" and group.chat.id == -500
    assert group.entities[0].length == len("/help@ScoreAssistantBot")
    assert blocked.new_chat_member.status == ChatMemberStatus.BANNED
    assert blocked.old_chat_member.status == ChatMemberStatus.MEMBER
    assert unblocked.new_chat_member.status == ChatMemberStatus.MEMBER

    # What a user sent can be downloaded by the bot.
    file = await bot.get_file(photo.photo[-1].file_id)
    assert bytes(await file.download_as_bytearray()).startswith(b"\x89PNG")

    limited = await bot.get_updates(limit=3)
    assert [u.update_id for u in limited] == [u.update_id for u in updates[:3]]


@pytest.mark.asyncio
async def test_long_poll_returns_early_and_honours_timeout(
    bot: Bot, sandbox: BotApiSandbox
) -> None:
    loop = asyncio.get_running_loop()
    polls = sandbox.polls_started
    poll = asyncio.create_task(bot.get_updates(timeout=10))
    await sandbox.wait_until(lambda: sandbox.polls_started > polls, timeout=2)
    assert not poll.done()  # waiting: the update below is what ends it
    started = loop.time()
    update_id = sandbox.send_text(USER, "ping")
    updates = await asyncio.wait_for(poll, 1)
    assert [u.update_id for u in updates] == [update_id]
    assert loop.time() - started < 0.5

    started = loop.time()
    assert await bot.get_updates(offset=update_id + 1, timeout=dtm.timedelta(seconds=0.2)) == ()
    assert 0.15 < loop.time() - started < 1


@pytest.mark.asyncio
async def test_allowed_updates_filter(bot: Bot, sandbox: BotApiSandbox) -> None:
    sandbox.send_text(USER, "hi")
    sandbox.press(USER, "x")
    updates = await bot.get_updates(allowed_updates=["callback_query"])
    assert [u.callback_query is not None for u in updates] == [True]
    await bot.get_updates(offset=updates[-1].update_id + 1)
    await sandbox.wait_fetched(timeout=0.1)


@pytest.mark.asyncio
async def test_wait_until_wakes_on_what_the_bot_does_and_times_out(
    bot: Bot, sandbox: BotApiSandbox
) -> None:
    sandbox.send_text(USER, "/start")
    waiter = asyncio.create_task(
        sandbox.wait_until(lambda: [t for t in sandbox.texts(USER) if "Hello" in t], timeout=2))
    await asyncio.sleep(0)
    assert not waiter.done()
    await bot.send_message(USER, "Hello")
    assert await asyncio.wait_for(waiter, 1) == ["Hello"]  # the condition's value
    with pytest.raises(TimeoutError):
        await sandbox.wait_until(lambda: "Bye" in sandbox.texts(USER), timeout=0.05)


@pytest.mark.asyncio
async def test_second_poller_conflicts_and_webhook_blocks_polling(
    bot: Bot, sandbox: BotApiSandbox
) -> None:
    polls = sandbox.polls_started
    first = asyncio.create_task(bot.get_updates(timeout=5))
    await sandbox.wait_until(lambda: sandbox.polls_started > polls, timeout=2)
    second = asyncio.create_task(bot.get_updates(timeout=0))
    with pytest.raises(Conflict, match="terminated by other getUpdates"):
        await first
    assert await second == ()

    await bot.set_webhook("https://example.invalid/hook")
    with pytest.raises(Conflict, match="webhook is active"):
        await bot.get_updates()
    await bot.delete_webhook(drop_pending_updates=True)
    assert await bot.get_updates() == ()


# --- sending and editing -------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_send_message_with_inline_keyboard(bot: Bot, sandbox: BotApiSandbox) -> None:
    sandbox.send_text(USER, "/start")
    sandbox.clear()
    markup = keyboard([("Yes", "answer:yes"), ("No", "answer:no")])
    sent = await bot.send_message(USER, "Ready?", reply_markup=markup)

    assert sent.text == "Ready?" and present(sent.from_user).id == sandbox.bot_id
    assert sent.chat.id == USER
    assert sent.reply_markup == markup
    [call] = sandbox.calls
    assert call.method == "sendMessage" and call.error is None
    assert call.params["chat_id"] == USER and call.params["text"] == "Ready?"
    assert call.params["reply_markup"]["inline_keyboard"][0][1]["callback_data"] == "answer:no"
    assert isinstance(call.result, dict) and call.result["message_id"] == sent.message_id

    last = sandbox.last_message(USER)
    assert last.from_bot and last.message_id == sent.message_id and last.text == "Ready?"
    assert [b["text"] for b in last.buttons[0]] == ["Yes", "No"]
    assert sandbox.texts(USER) == ["Ready?"]


@pytest.mark.asyncio
async def test_reply_keyboard_and_numeric_looking_text(bot: Bot, sandbox: BotApiSandbox) -> None:
    sandbox.send_text(USER, "/start")
    share = KeyboardButton("Share", request_contact=True)
    await bot.send_message(USER, "123", reply_markup=ReplyKeyboardMarkup([[share]]))
    last = sandbox.last_message(USER)
    assert last.text == "123"  # plain strings are not JSON-decoded
    assert last.reply_keyboard == [[{"text": "Share", "request_contact": True}]]
    assert last.buttons == []


@pytest.mark.asyncio
async def test_html_is_stripped_and_kept_with_parse_mode(bot: Bot, sandbox: BotApiSandbox) -> None:
    sandbox.send_text(USER, "/start")
    sent = await bot.send_message(
        USER,
        '<b>Halo</b> &lt;Siti&gt; &amp; <a href="https://ilo.org">ILO</a> '
        '<span class="tg-spoiler">s</span> <tg-spoiler>t</tg-spoiler> <blockquote>q</blockquote>',
        parse_mode="HTML",
    )
    assert sent.text == "Halo <Siti> & ILO s t q"
    assert {e.type for e in sent.entities} >= {"bold", "text_link", "spoiler", "blockquote"}
    last = sandbox.last_message(USER)
    assert last.text == "Halo <Siti> & ILO s t q" and last.parse_mode == "HTML"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("<b>open", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<b>x</i>", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
        ("<div>x</div>", 'Unsupported start tag "div" at byte offset 0'),
        ("x</b>", "Unexpected end tag at byte offset 1"),
        ("1 <3 2", 'Unsupported start tag "3" at byte offset 2'),
        ('<span class="x">s</span>', 'Tag "span" must have class "tg-spoiler"'),
    ],
)
def test_html_parse_errors(text: str, message: str) -> None:
    with pytest.raises(ApiError, match="can't parse entities") as info:
        format_text(text, "HTML")
    assert message in str(info.value)


def test_markdown_v2_reserved_characters() -> None:
    assert format_text(r"*Total:* 5\.0 \- ok", "MarkdownV2")[0] == "Total: 5.0 - ok"
    with pytest.raises(ApiError, match=r"Character '\.' is reserved"):
        format_text("Total 5.0", "MarkdownV2")


@pytest.mark.asyncio
async def test_edit_message(bot: Bot, sandbox: BotApiSandbox) -> None:
    sandbox.send_text(USER, "/start")
    sent = await bot.send_message(USER, "Step 1", reply_markup=keyboard([("Next", "next")]))

    done = keyboard([("Done", "done")])
    step2 = edited(await bot.edit_message_text("Step 2", chat_id=USER, message_id=sent.message_id,
                                               reply_markup=done))
    assert step2.text == "Step 2" and step2.edit_date is not None
    assert sandbox.texts(USER) == ["Step 2"]
    assert sandbox.last_message(USER).buttons[0][0]["callback_data"] == "done"

    with pytest.raises(BadRequest, match="(?i)message is not modified"):
        await bot.edit_message_text("Step 2", chat_id=USER, message_id=sent.message_id,
                                    reply_markup=done)
    # Like Telegram, an edit without reply_markup drops the inline keyboard.
    await bot.edit_message_text("Step 2", chat_id=USER, message_id=sent.message_id)
    assert sandbox.last_message(USER).buttons == []

    await bot.edit_message_reply_markup(chat_id=USER, message_id=sent.message_id,
                                        reply_markup=keyboard([("Again", "again")]))
    assert sandbox.last_message(USER).buttons[0][0]["text"] == "Again"

    with pytest.raises(BadRequest, match="(?i)message to edit not found"):
        await bot.edit_message_text("x", chat_id=USER, message_id=999)

    assert await bot.delete_message(USER, sent.message_id)
    assert sandbox.messages(USER) == []
    with pytest.raises(BadRequest, match="(?i)message to delete not found"):
        await bot.delete_message(USER, sent.message_id)


# --- callback queries ----------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_press_button_and_answer(bot: Bot, sandbox: BotApiSandbox) -> None:
    sandbox.send_text(USER, "/start")
    old = await bot.send_message(USER, "Old", reply_markup=keyboard([("Pilih", "old")]))
    new = await bot.send_message(
        USER, "New", reply_markup=keyboard([("Pilih bahasa", "lang"), ("Pilih", "pick")])
    )
    await bot.get_updates()

    update_id = sandbox.press_button(USER, "Pilih")  # exact label on the newest message
    sandbox.press_button(USER, "bahasa")  # substring
    with pytest.raises(LookupError):
        sandbox.press_button(USER, "Nope")

    updates = await bot.get_updates(offset=update_id)
    exact, partial = map(query, updates)
    assert exact.data == "pick" and present(exact.message).message_id == new.message_id
    assert partial.data == "lang" and exact.from_user.id == USER

    # Forged data attaches to the newest bot message; an explicit message id is honoured.
    sandbox.press(USER, "admin:drop")
    sandbox.press(USER, "old", message_id=old.message_id)
    later = await bot.get_updates(offset=updates[-1].update_id + 1)
    forged, explicit = map(query, later)
    assert forged.data == "admin:drop" and present(forged.message).message_id == new.message_id
    assert present(explicit.message).message_id == old.message_id

    assert await exact.answer("Saved")
    with pytest.raises(BadRequest, match="(?i)query is too old"):
        await exact.answer("again")
    with pytest.raises(BadRequest, match="(?i)query ID is invalid"):
        await bot.answer_callback_query("12345")
    assert [a["text"] for a in sandbox.callback_answers(USER)] == ["Saved"]
    assert sandbox.callback_answers(OTHER) == []


@pytest.mark.asyncio
async def test_press_without_any_bot_message(bot: Bot, sandbox: BotApiSandbox) -> None:
    sandbox.press(USER, "forged")
    [update] = await bot.get_updates()
    pressed = query(update)
    assert pressed.data == "forged" and pressed.message is not None
    assert sandbox.messages(USER) == []  # the placeholder stays hidden...
    await pressed.edit_message_text("Expired")
    assert sandbox.texts(USER) == ["Expired"]  # ...until the bot edits it


# --- Telegram errors -----------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_chat_not_found_and_blocked(bot: Bot, sandbox: BotApiSandbox) -> None:
    sandbox.add_user(USER)  # a profile alone does not open a chat
    with pytest.raises(BadRequest, match="(?i)chat not found"):
        await bot.send_message(USER, "hi")

    sandbox.send_text(USER, "/start")
    sandbox.block(USER)
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(USER, "hi")
    assert sandbox.calls_of("sendMessage")[-1].error == (
        403, "Forbidden: bot was blocked by the user"
    )
    sandbox.unblock(USER)
    await bot.send_message(USER, "hi")

    sandbox.block(USER)
    sandbox.send_text(USER, "/start")  # writing again implies restarting the bot
    assert not sandbox.is_blocked(USER)
    await bot.send_message(USER, "welcome back")


@pytest.mark.asyncio
async def test_content_errors(bot: Bot, sandbox: BotApiSandbox) -> None:
    sandbox.send_text(USER, "/start")
    with pytest.raises(BadRequest, match="(?i)message text is empty"):
        await bot.send_message(USER, "")
    with pytest.raises(BadRequest, match="(?i)message text is empty"):
        await bot.send_message(USER, "<b> </b>", parse_mode="HTML")
    with pytest.raises(BadRequest, match="(?i)message is too long"):
        await bot.send_message(USER, "x" * 4097)
    await bot.send_message(USER, "x" * 4096)
    with pytest.raises(BadRequest, match="(?i)BUTTON_DATA_INVALID"):
        await bot.send_message(USER, "hi", reply_markup=keyboard([("Big", "x" * 65)]))
    with pytest.raises(BadRequest, match="(?i)can't parse entities: Unsupported start tag"):
        await bot.send_message(USER, "a <br> b", parse_mode="HTML")
    with pytest.raises(BadRequest, match="(?i)can't parse entities"):
        await bot.send_message(USER, "<i>oops", parse_mode="HTML")
    assert sandbox.texts(USER) == ["x" * 4096]


@pytest.mark.asyncio
async def test_token_and_unknown_method(sandbox: BotApiSandbox) -> None:
    async with Bot(
        sandbox.token, base_url=sandbox.base_url + "/bot", request=sandbox.request(),
        get_updates_request=sandbox.request(),
    ) as tg_bot:
        with pytest.raises(EndPointNotFound):
            await tg_bot.do_api_request("noSuchMethod")
    assert sandbox.calls_of("noSuchMethod")[0].error == (404, "Not Found")

    wrong = Bot("999:WRONG", base_url=sandbox.base_url + "/bot", request=sandbox.request(),
                get_updates_request=sandbox.request())
    with pytest.raises(InvalidToken):
        await wrong.initialize()
    await wrong.shutdown()


# --- failure injection ---------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_injected_api_errors(bot: Bot, sandbox: BotApiSandbox) -> None:
    sandbox.send_text(USER, "/start")
    sandbox.send_text(OTHER, "/start")

    sandbox.fail("sendMessage", error_code=429, retry_after=7)
    with pytest.raises(RetryAfter) as info:
        await bot.send_message(USER, "flood")
    assert info.value.retry_after == dtm.timedelta(seconds=7)

    sandbox.fail(chat_id=OTHER, times=2)  # any sending method, only this chat
    await bot.send_message(USER, "fine")
    for _ in range(2):
        with pytest.raises(NetworkError, match="Internal Server Error"):
            await bot.send_chat_action(OTHER, "typing")
    await bot.send_chat_action(OTHER, "typing")

    sandbox.fail("getChat", error_code=400, description="Bad Request: custom")
    with pytest.raises(BadRequest, match="(?i)custom"):
        await bot.get_chat(USER)
    assert [c.error for c in sandbox.calls_of("sendMessage")] == [
        (429, "Too Many Requests: retry after 7"),
        None,
    ]


@pytest.mark.asyncio
async def test_injected_network_errors(bot: Bot, sandbox: BotApiSandbox) -> None:
    sandbox.send_text(USER, "/start")
    sandbox.fail_network("sendMessage")
    with pytest.raises(NetworkError, match="ConnectError"):
        await bot.send_message(USER, "a")
    sandbox.fail_network(timeout=True)
    with pytest.raises(TimedOut):
        await bot.send_message(USER, "b")
    await bot.send_message(USER, "c")
    assert sandbox.texts(USER) == ["c"]
    assert sandbox.calls_of("sendMessage")[0].error == (0, "network: ConnectError")


# --- files, commands, chat actions ---------------------------------------------------------------


@pytest.mark.asyncio
async def test_photo_and_document(bot: Bot, sandbox: BotApiSandbox) -> None:
    sandbox.send_text(USER, "/start")
    # Just a PNG signature and IHDR size: enough for the sandbox to read 640x480.
    png = bytes.fromhex("89504e470d0a1a0a0000000d49484452")
    png += (640).to_bytes(4, "big") + (480).to_bytes(4, "big")
    sent = await bot.send_photo(
        USER, png, caption="<b>Poster</b>", parse_mode="HTML",
        reply_markup=keyboard([("Share", "share")]),
    )
    assert sent.caption == "Poster" and (sent.photo[-1].width, sent.photo[-1].height) == (640, 480)
    last = sandbox.last_message(USER)
    assert last.photo == png and last.text == "Poster" and last.buttons[0][0]["text"] == "Share"
    assert sandbox.calls_of("sendPhoto")[0].params["reply_markup"]["inline_keyboard"]

    # Re-sending by file_id reuses the stored bytes.
    await bot.send_photo(USER, sent.photo[-1].file_id)
    assert sandbox.last_message(USER).photo == png

    doc = await bot.send_document(USER, b"a,b\n1,2\n", filename="report.csv")
    assert present(doc.document).file_name == "report.csv"
    last = sandbox.last_message(USER)
    assert last.document == b"a,b\n1,2\n" and last.document_name == "report.csv"
    assert last.text is None

    with pytest.raises(BadRequest, match="(?i)there is no text in the message to edit"):
        await bot.edit_message_text("x", chat_id=USER, message_id=sent.message_id)
    await bot.edit_message_caption(USER, sent.message_id, caption="New caption")
    assert sandbox.messages(USER)[0].text == "New caption"


@pytest.mark.asyncio
async def test_venue_and_location(bot: Bot, sandbox: BotApiSandbox) -> None:
    sandbox.send_text(USER, "/start")
    sent = await bot.send_venue(USER, -6.2, 106.816666, "Hotel Melati", "Jl. Sudirman 1",
                                reply_markup=keyboard([("Open", "open")]))
    venue = present(sent.venue)
    assert (venue.title, venue.address) == ("Hotel Melati", "Jl. Sudirman 1")
    assert (venue.location.latitude, venue.location.longitude) == (-6.2, 106.816666)
    assert present(sent.location).longitude == 106.816666  # a venue carries its location too
    last = sandbox.last_message(USER)
    assert last.venue is not None and last.venue["title"] == "Hotel Melati"
    assert last.location == {"latitude": -6.2, "longitude": 106.816666}
    assert last.text is None and last.buttons[0][0]["text"] == "Open"

    point = await bot.send_location(USER, 1.5, -2.25)
    assert present(point.location).latitude == 1.5 and point.venue is None
    assert sandbox.last_message(USER).location == {"latitude": 1.5, "longitude": -2.25}

    # Telegram (tdlib) refuses a point off the globe, and says which coordinate is missing.
    for latitude, longitude in ((90.5, 1.0), (1.0, -180.01), (float("nan"), 1.0)):
        with pytest.raises(BadRequest, match="(?i)wrong venue location specified"):
            await bot.send_venue(USER, latitude, longitude, "X", "Y")
        with pytest.raises(BadRequest, match="(?i)wrong location specified"):
            await bot.send_location(USER, latitude, longitude)
    answer = await sandbox.transport.handle_async_request(httpx.Request(
        "POST", f"https://api.telegram.org/bot{sandbox.token}/sendVenue",
        json={"chat_id": USER, "longitude": 1, "title": "X", "address": "Y"}))
    await answer.aread()
    assert answer.status_code == 400
    assert answer.json()["description"] == "Bad Request: latitude is empty"
    with pytest.raises(BadRequest, match="(?i)there is no caption in the message to edit"):
        await bot.edit_message_caption(USER, sent.message_id, caption="x")
    assert len(sandbox.messages(USER)) == 2


@pytest.mark.asyncio
async def test_commands_menu_and_chat(bot: Bot, sandbox: BotApiSandbox) -> None:
    from telegram import BotCommand, BotCommandScopeChat, MenuButtonCommands

    await bot.set_my_commands([BotCommand("start", "Mulai")], language_code="id")
    await bot.set_my_commands([BotCommand("start", "Start"), BotCommand("help", "Help")])
    await bot.set_my_commands([BotCommand("admin", "Admin")], scope=BotCommandScopeChat(USER))
    assert [c.description for c in await bot.get_my_commands(language_code="id")] == ["Mulai"]
    assert [c.command for c in await bot.get_my_commands()] == ["start", "help"]
    chat_scope = BotCommandScopeChat(USER)
    assert [c.command for c in await bot.get_my_commands(scope=chat_scope)] == ["admin"]
    assert sandbox.commands({"type": "chat", "chat_id": USER}) == [
        {"command": "admin", "description": "Admin"}
    ]
    await bot.delete_my_commands(language_code="id")
    assert await bot.get_my_commands(language_code="id") == ()
    with pytest.raises(BadRequest, match="(?i)BOT_COMMAND_INVALID"):
        await bot.set_my_commands([BotCommand("Bad-Name", "x")])

    await bot.set_chat_menu_button(menu_button=MenuButtonCommands())
    assert sandbox.menu_button() == {"type": "commands"}

    sandbox.send_text(USER, "/start")
    assert (await bot.get_chat(USER)).id == USER
    assert await bot.send_chat_action(USER, "typing")
    with pytest.raises(BadRequest, match="(?i)chat not found"):
        await bot.get_chat(424242)


# --- with a real Application polling -------------------------------------------------------------


@pytest.mark.asyncio
async def test_application_polling_round_trip(sandbox: BotApiSandbox) -> None:
    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await present(update.effective_message).reply_text("Welcome",
                                                           reply_markup=keyboard([("OK", "ok")]))

    async def pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await query(update).answer()
        await query(update).edit_message_text("Thanks")

    app: Application = sandbox.application_builder().build()
    app.add_handler(CommandHandler("start", start))
    app.add_handler(CallbackQueryHandler(pressed))

    async def handled() -> None:
        # wait_fetched means PTB took (and confirmed) the updates; handlers may still be
        # running until update_queue.join() returns: PTB marks each done once handled.
        await sandbox.wait_fetched(timeout=2)
        await asyncio.wait_for(app.update_queue.join(), 2)

    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(timeout=dtm.timedelta(seconds=5))
        try:
            sandbox.send_text(USER, "/start")
            await handled()
            assert sandbox.texts(USER) == ["Welcome"]
            sandbox.press_button(USER, "OK")
            await handled()
            assert sandbox.texts(USER) == ["Thanks"]
            assert len(sandbox.callback_answers(USER)) == 1
        finally:
            await app.updater.stop()
            await app.stop()
