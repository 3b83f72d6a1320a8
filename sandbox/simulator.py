"""`score-bot simulate`: chat with the real bot in the terminal, over the in-process Bot API.

Every bot message with buttons is shown with its number (``bot #7:``) and its buttons
numbered (``[1] ...``). A bare number presses a button of the bot's last message, and only
when that message has buttons: otherwise it is text, an answer like any other (a question
such as "How many workers?" has no buttons, so "5" is the answer; "=1" sends "1" as text
where the message has buttons, such as a survey's "Not recorded"). A button of an earlier
message is pressed with ``#7.1`` or ``/press 7 1``. ``/as <user-id> [name] [lang]`` switches
who you are, ``/sim`` explains all this, ``/quit`` leaves; anything else is sent as typed.

Works with piped standard input, one line per message, so sessions can be scripted; each
piped line is echoed (``> 150``) so the output reads as the conversation it was.
"""

from __future__ import annotations

import asyncio
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from sandbox.runner import BuildApplication, SandboxBot
from sandbox.state import SandboxMessage, SentCall
from sandbox.transport import BotApiSandbox

SENDING = {"sendMessage", "sendPhoto", "sendDocument", "sendVenue", "sendLocation",
           "editMessageText", "editMessageReplyMarkup"}

# "=1": a number sent as text even where a bare number presses a button.
_AS_TEXT = re.compile(r"^=\s*\d")
# "#7.2" or "/press 7 2": button 2 of bot message 7.
_EXPLICIT = re.compile(r"^(?:#(\d+)\.(\d+)|/press\s+#?(\d+)\s+(\d+))$")

HELP = """\
-- simulator commands (anything else is sent to the bot as you typed it):
   3              press button [3] of the bot's last message, if that message has
                  buttons; otherwise "3" is sent as text (e.g. the answer to "How many?")
   =3             send "3" as text even where the last message has buttons (a number
                  typed at a question whose button is "Not recorded")
   #7.2           press button [2] of an earlier bot message, the one shown as "bot #7"
   /press 7 2     the same
   /as <id> [name] [lang]   become another user (STAFF_IDS says who is staff)
   /sim           this help
   /quit          leave
"""


@dataclass(frozen=True)
class _Choice:
    """A button a user can press: an inline button's data, or a reply keyboard's
    "share my number" (data None)."""

    label: str
    data: str | None


def _choices(message: SandboxMessage) -> list[_Choice]:
    choices = [_Choice(button["text"], button["callback_data"])
               for row in message.buttons for button in row if "callback_data" in button]
    choices += [_Choice(button["text"], None) for row in message.reply_keyboard or []
                for button in row if button.get("request_contact")]
    return choices


def point_words(location: dict[str, float]) -> str:
    """"-6.20000, 106.80000": a point as a map reads it, to five decimals (about a metre)."""
    return f"{location['latitude']:.5f}, {location['longitude']:.5f}"


def place_words(venue: dict[str, Any]) -> str:
    """A venue as one line: its title, address and point."""
    return f"{venue['title']}, {venue['address']} ({point_words(venue['location'])})"


class Simulator:
    def __init__(self, build: BuildApplication, *, allowed_updates: Sequence[str] | None = None,
                 out: TextIO = sys.stdout, media_dir: Path = Path("data") / "simulator",
                 echo: bool = False):
        self.sandbox = BotApiSandbox()
        self.bot = SandboxBot(self.sandbox, build, allowed_updates=allowed_updates)
        self.out = out
        self.media_dir = media_dir
        # Piped input is not shown by any terminal: write each line as the user's.
        self.echo = echo
        self.user_id = 0
        self.seen = 0
        self.profiles: dict[int, tuple[str, str]] = {}

    def become(self, user_id: int, name: str | None = None, lang: str | None = None) -> None:
        known_name, known_lang = self.profiles.get(user_id, (f"User{user_id}", "id"))
        name, lang = name or known_name, lang or known_lang
        self.profiles[user_id] = (name, lang)
        self.user_id = user_id
        self.sandbox.add_user(user_id, name, language_code=lang)
        self.out.write(f"-- you are now user {user_id} ({name}, {lang})\n")
        # Their latest message is what a bare number now presses.
        try:
            self._print_message(self.sandbox.last_message(user_id), "bot", "latest")
        except LookupError:
            pass

    async def handle(self, line: str) -> bool:
        """One line of input; False when the session should end."""
        line = line.strip()
        if not line:
            return True
        if self.echo:
            self.out.write(f"> {line}\n")
        if line in ("/quit", "/exit"):
            return False
        if line == "/sim":
            self.out.write(HELP)
            return True
        if line == "/as" or line.startswith("/as "):
            parts = line.split()
            user_id = parts[1].lstrip("-") if len(parts) > 1 else ""
            if not (user_id.isascii() and user_id.isdigit()):
                self.out.write("-- usage: /as <user-id> [name] [lang]\n")
                return True
            self.become(int(parts[1]), parts[2] if len(parts) > 2 else None,
                        parts[3] if len(parts) > 3 else None)
            return True
        if line == "/press" or line.startswith("/press ") or _EXPLICIT.match(line):
            if not self._press_explicit(line):
                return True
        elif _AS_TEXT.match(line):
            # "=1": the number as text, where a bare "1" would press a button ("1" workers
            # at a question whose only button is "Not recorded").
            self.sandbox.send_text(self.user_id, line[1:].strip())
        elif not self._press_last(line):
            self.sandbox.send_text(self.user_id, line)
        await self.bot.settle()
        self.print_new()
        return True

    def _press_last(self, line: str) -> bool:
        """A bare number that is a button of the bot's last message: pressed (True)."""
        if not (line.isascii() and line.isdigit()):  # "²" is a digit to str, not to int()
            return False
        try:
            message = self.sandbox.last_message(self.user_id)
        except LookupError:
            return False
        choices = _choices(message)
        if not 1 <= int(line) <= len(choices):
            return False
        self._press(message, choices[int(line) - 1])
        return True

    def _press_explicit(self, line: str) -> bool:
        """`#7.2` or `/press 7 2`; a line saying what is wrong (False) when it presses nothing."""
        match = _EXPLICIT.match(line)
        if match is None:
            self.out.write("-- usage: #<message>.<button> or /press <message> <button>, "
                           "e.g. #7.2 (/sim explains)\n")
            return False
        message_id, number = (int(g) for g in match.groups() if g is not None)
        message = next((m for m in self.sandbox.messages(self.user_id)
                        if m.message_id == message_id), None)
        choices = _choices(message) if message is not None else []
        if message is None or not choices:
            self.out.write(f"-- there is no bot message #{message_id} with buttons here\n")
            return False
        if not 1 <= number <= len(choices):
            self.out.write(f"-- message #{message_id} has buttons [1] to [{len(choices)}]\n")
            return False
        self._press(message, choices[number - 1])
        return True

    def _press(self, message: SandboxMessage, choice: _Choice) -> None:
        if choice.data is None:
            phone = f"+62812{self.user_id % 10_000_000:07d}"
            self.sandbox.share_contact(self.user_id, phone)
        else:
            self.sandbox.press(self.user_id, choice.data, message_id=message.message_id)

    def print_new(self) -> None:
        calls = self.sandbox.calls[self.seen:]
        self.seen = len(self.sandbox.calls)
        for call in calls:
            if call.method in SENDING:
                self._print_call(call)
            elif call.method == "answerCallbackQuery" and call.params.get("text"):
                self.out.write(f"   (notice: {call.params['text']})\n")
        self.out.flush()

    def _print_call(self, call: SentCall) -> None:
        if call.error is not None:
            self.out.write(f"   (Telegram refused {call.method}: {call.error[1]})\n")
            return
        result = call.result if isinstance(call.result, dict) else {}
        chat_id = int(call.params.get("chat_id") or result.get("chat", {}).get("id") or 0)
        message_id = result.get("message_id") or call.params.get("message_id")
        message = next((m for m in self.sandbox.messages(chat_id)
                        if m.message_id == message_id), None)
        if message is None:
            return
        who = "bot" if chat_id == self.user_id else f"bot -> {chat_id}"
        self._print_message(message, who, "edited" if call.method.startswith("edit") else "")

    def _print_message(self, message: SandboxMessage, who: str, note: str = "") -> None:
        chat_id = message.chat_id
        # Only the current user's buttons can be pressed: only their messages show them.
        choices = _choices(message) if chat_id == self.user_id else []
        head = who + (f" #{message.message_id}" if choices else "") + (f" ({note})" if note
                                                                          else "")
        if message.photo is not None:
            path = self._save(f"photo-{chat_id}-{message.message_id}.png", message.photo)
            self.out.write(f"{head}: [picture saved to {path}]\n")
        if message.document is not None:
            path = self._save(message.document_name or f"file-{message.message_id}",
                              message.document)
            self.out.write(f"{head}: [file saved to {path}]\n")
        if message.venue is not None:
            self.out.write(f"{head}: [venue: {place_words(message.venue)}]\n")
        elif message.location is not None:
            self.out.write(f"{head}: [location: {point_words(message.location)}]\n")
        if message.text:
            body = "\n".join(f"    {line}" if line else "" for line in
                             message.text.split("\n")).removeprefix("    ")
            self.out.write(f"{head}: {body}\n")
        for i, choice in enumerate(choices, 1):
            self.out.write(f"    [{i}] {choice.label}\n")

    def _save(self, name: str, content: bytes) -> Path:
        self.media_dir.mkdir(parents=True, exist_ok=True)
        path = self.media_dir / name
        path.write_bytes(content)
        return path


async def _read_line(interactive: bool) -> str | None:
    if interactive:
        sys.stdout.write("> ")
        sys.stdout.flush()
    line = await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    return line if line else None


async def simulate(build: BuildApplication, *, allowed_updates: Sequence[str] | None,
                   user_id: int, name: str, lang: str, notes: Sequence[str] = (),
                   known: Sequence[tuple[int, str, str]] = ()) -> None:
    interactive = sys.stdin.isatty()
    sim = Simulator(build, allowed_updates=allowed_updates, echo=not interactive)
    # Users of an earlier session started the bot then: as on Telegram, it may write to them
    # (an invitation, a reminder) before they write again.
    for known_id, known_name, known_lang in known:
        sim.sandbox.open_chat(known_id, known_name, language_code=known_lang)
        sim.profiles.setdefault(known_id, (known_name, known_lang))
    sim.out.write("SCORE Assistant simulator: type a message; a number presses a button of "
                  "the bot's last message; /sim explains the rest; /quit leaves.\n")
    for note in notes:
        sim.out.write(f"-- {note}\n")
    sim.become(user_id, name, lang)
    await sim.bot.start()
    sim.print_new()  # nothing yet, but marks the start-up calls (menus) as seen
    try:
        while (line := await _read_line(interactive)) is not None:
            if not await sim.handle(line):
                break
    finally:
        await sim.bot.stop()


def run_simulator(build: BuildApplication, *, allowed_updates: Sequence[str] | None = None,
                  user_id: int, name: str, lang: str, notes: Sequence[str] = (),
                  known: Sequence[tuple[int, str, str]] = ()) -> int:
    """Chat in the terminal with the Application `build` makes (its catalogs loaded already);
    `notes` are printed under the banner (where the database and the log are); `known`
    users (id, name, language) have a chat with the bot already."""
    try:
        asyncio.run(simulate(build, allowed_updates=allowed_updates, user_id=user_id, name=name,
                             lang=lang, notes=notes, known=known))
    except KeyboardInterrupt:
        pass
    return 0
