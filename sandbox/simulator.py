"""`score-bot simulate`: chat with the real bot in the terminal, over the in-process Bot API.

The bot's messages are printed with their buttons numbered; typing a number presses that
button; `/as <user-id> [name] [lang]` switches who you are; anything else is sent as text.
Works with piped standard input, one line per message, so sessions can be scripted.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from sandbox.runner import BuildApplication, SandboxBot
from sandbox.state import SandboxMessage, SentCall
from sandbox.transport import BotApiSandbox

SENDING = {"sendMessage", "sendPhoto", "sendDocument", "editMessageText",
           "editMessageReplyMarkup"}


class Simulator:
    def __init__(self, build: BuildApplication, *, allowed_updates: Sequence[str] | None = None,
                 out: TextIO = sys.stdout, media_dir: Path = Path("data") / "simulator"):
        self.sandbox = BotApiSandbox()
        self.bot = SandboxBot(self.sandbox, build, allowed_updates=allowed_updates)
        self.out = out
        self.media_dir = media_dir
        self.user_id = 0
        self.seen = 0
        # What the numbers typed by the current user press: ("inline", data, msg) or ("contact",)
        self.choices: list[tuple[Any, ...]] = []
        self.profiles: dict[int, tuple[str, str]] = {}

    def become(self, user_id: int, name: str | None = None, lang: str | None = None) -> None:
        known_name, known_lang = self.profiles.get(user_id, (f"User{user_id}", "id"))
        name, lang = name or known_name, lang or known_lang
        self.profiles[user_id] = (name, lang)
        self.user_id = user_id
        self.sandbox.add_user(user_id, name, language_code=lang)
        self.out.write(f"-- you are now user {user_id} ({name}, {lang})\n")
        # The numbers now press the buttons of this user's latest message.
        self.choices = []
        try:
            self._print_message(self.sandbox.last_message(user_id), "bot (latest)")
        except LookupError:
            pass

    async def handle(self, line: str) -> bool:
        """One line of input; False when the session should end."""
        line = line.strip()
        if line in ("/quit", "/exit"):
            return False
        if not line:
            return True
        if line.startswith("/as "):
            parts = line.split()
            if len(parts) < 2 or not parts[1].lstrip("-").isdigit():
                self.out.write("-- usage: /as <user-id> [name] [lang]\n")
                return True
            self.become(int(parts[1]), parts[2] if len(parts) > 2 else None,
                        parts[3] if len(parts) > 3 else None)
            return True
        if line.isdigit() and 1 <= int(line) <= len(self.choices):
            choice = self.choices[int(line) - 1]
            if choice[0] == "contact":
                phone = f"+62812{self.user_id % 10_000_000:07d}"
                self.sandbox.share_contact(self.user_id, phone)
            else:
                self.sandbox.press(self.user_id, choice[1], message_id=choice[2])
        else:
            self.sandbox.send_text(self.user_id, line)
        await self.bot.settle()
        self.print_new()
        return True

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
        self._print_message(message, who + (" (edited)" if call.method.startswith("edit") else ""))

    def _print_message(self, message: SandboxMessage, who: str) -> None:
        chat_id = message.chat_id
        edited = ""
        if message.photo is not None:
            path = self._save(f"photo-{chat_id}-{message.message_id}.png", message.photo)
            self.out.write(f"{who}{edited}: [picture saved to {path}]\n")
        if message.document is not None:
            path = self._save(message.document_name or f"file-{message.message_id}",
                              message.document)
            self.out.write(f"{who}{edited}: [file saved to {path}]\n")
        if message.text:
            body = message.text.replace("\n", "\n    ")
            self.out.write(f"{who}{edited}: {body}\n")
        if chat_id != self.user_id:
            return
        choices: list[tuple[Any, ...]] = []
        labels: list[str] = []
        for row in message.buttons:
            for button in row:
                if "callback_data" in button:
                    choices.append(("inline", button["callback_data"], message.message_id))
                    labels.append(button["text"])
        for row in message.reply_keyboard or []:
            for button in row:
                if button.get("request_contact"):
                    choices.append(("contact",))
                    labels.append(button["text"])
        if choices:
            self.choices = choices
            for i, label in enumerate(labels, 1):
                self.out.write(f"    [{i}] {label}\n")

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
                   user_id: int, name: str, lang: str) -> None:
    sim = Simulator(build, allowed_updates=allowed_updates)
    interactive = sys.stdin.isatty()
    sim.out.write("SCORE Assistant simulator: type a message, a number to press a button, "
                  "/as <id> to switch user, /quit to leave.\n")
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
                  user_id: int, name: str, lang: str) -> int:
    """Chat in the terminal with the Application `build` makes (its catalogs loaded already)."""
    try:
        asyncio.run(simulate(build, allowed_updates=allowed_updates, user_id=user_id, name=name,
                             lang=lang))
    except KeyboardInterrupt:
        pass
    return 0
