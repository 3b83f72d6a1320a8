"""What the sandbox remembers: the calls the bot made, users, chats and the bot's messages in
them, the queue of updates, callback queries, files, commands and menu buttons; and what a
test may read from it. The transport, the Bot API methods and the users' actions all work on
this one state (see `sandbox/transport.py`)."""

from __future__ import annotations

import asyncio
import copy
import dataclasses
import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

# Update types Telegram leaves out unless asked for explicitly (Bot API, getUpdates).
_NOT_DELIVERED_BY_DEFAULT = frozenset({"chat_member", "message_reaction", "message_reaction_count"})

T = TypeVar("T")

# The sandbox's own synthetic media, served when the bot downloads what a "user" sent.
TINY_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


@dataclass
class SentCall:
    """One Bot API call the bot made (``getUpdates`` is not recorded)."""

    method: str
    params: dict[str, Any]
    result: object
    error: tuple[int, str] | None


@dataclass
class SandboxMessage:
    """A bot message in a chat as it currently looks (edits applied)."""

    message_id: int
    chat_id: int
    from_bot: bool
    text: str | None
    buttons: list[list[dict[str, Any]]]
    reply_keyboard: list[list[dict[str, Any]]] | None
    photo: bytes | None
    document: bytes | None
    document_name: str | None
    parse_mode: str | None
    # Extension: the message was sent with ReplyKeyboardRemove.
    remove_keyboard: bool = False
    # A location ({"latitude", "longitude"}) or a venue (Telegram's Venue: location, title,
    # address); a venue message has both, as on Telegram.
    location: dict[str, float] | None = None
    venue: dict[str, Any] | None = None


@dataclass
class StoredMessage:
    view: SandboxMessage
    raw: dict[str, Any]  # the Message object as Telegram would return it
    entities: list[dict[str, Any]]
    inline_markup: dict[str, Any] | None
    # A placeholder created by press() when no bot message exists; hidden until edited.
    synthetic: bool = False


@dataclass
class StoredFile:
    file_id: str
    file_unique_id: str
    content: bytes
    path: str


def drop_none(data: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in data.items() if value is not None}


def buttons_of(inline_markup: dict[str, Any] | None) -> list[list[dict[str, Any]]]:
    return copy.deepcopy(inline_markup["inline_keyboard"]) if inline_markup else []


class SandboxState:
    """The recorded world of one fake Bot API server, and the read-only view tests use."""

    def __init__(
        self,
        *,
        token: str = "123456:SANDBOX-TOKEN",
        bot_id: int | None = None,
        username: str = "ScoreAssistantBot",
        first_name: str = "SCORE Assistant",
    ) -> None:
        self.token = token
        # Telegram tokens start with the bot's id; keep them consistent unless told otherwise.
        prefix = token.split(":", 1)[0]
        self.bot_id = bot_id if bot_id is not None else int(prefix) if prefix.isdigit() else 123456
        self.username = username
        self.first_name = first_name

        self.calls: list[SentCall] = []

        self._users: dict[int, dict[str, Any]] = {}
        self._chats: dict[int, dict[str, Any]] = {}  # chats the bot may talk to
        self._blocked: set[int] = set()
        self._next_message_id: dict[int, int] = {}
        self._bot_messages: dict[int, dict[int, StoredMessage]] = {}
        self._user_message_ids: dict[int, set[int]] = {}

        self._updates: list[dict[str, Any]] = []  # queued, not yet confirmed
        self._update_ids = itertools.count(10_001)
        self._handed_out_up_to = 0  # highest update_id returned by getUpdates
        self._allowed_updates: list[str] | None = None
        self._poll_generation = 0
        self._webhook_url = ""

        self._query_ids = itertools.count(4_200_000_000_000_001)
        self._query_users: dict[str, int] = {}
        self._answered_queries: set[str] = set()

        self._file_ids = itertools.count(1)
        self._files: dict[str, StoredFile] = {}
        self._files_by_path: dict[str, StoredFile] = {}

        self._commands: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self._menu_buttons: dict[int | None, dict[str, Any]] = {}

        # Created lazily inside the running loop (see _wait_changed).
        self._changed: asyncio.Event | None = None
        self._changed_loop: asyncio.AbstractEventLoop | None = None

    # --- user profiles --------------------------------------------------------------------------

    def add_user(
        self,
        user_id: int,
        first_name: str = "User",
        *,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "id",
    ) -> None:
        """Remember a user profile (it does not open a chat with the bot)."""
        self._users[user_id] = drop_none(
            {
                "id": user_id,
                "is_bot": False,
                "first_name": first_name,
                "last_name": last_name,
                "username": username,
                "language_code": language_code,
            }
        )
        if user_id in self._chats:  # keep a known private chat in sync with the profile
            self._chats[user_id] = self._private_chat_dict(user_id)

    # --- inspection -----------------------------------------------------------------------------

    def calls_of(self, method: str) -> list[SentCall]:
        wanted = method.lower()
        return [call for call in self.calls if call.method.lower() == wanted]

    def messages(self, chat_id: int) -> list[SandboxMessage]:
        """Bot messages currently in the chat (edits applied, deleted ones gone), oldest first."""
        return [
            dataclasses.replace(
                s.view,
                buttons=copy.deepcopy(s.view.buttons),
                reply_keyboard=copy.deepcopy(s.view.reply_keyboard),
                venue=copy.deepcopy(s.view.venue),
            )
            for s in self._bot_messages.get(chat_id, {}).values()
            if not s.synthetic
        ]

    def last_message(self, chat_id: int) -> SandboxMessage:
        messages = self.messages(chat_id)
        if not messages:
            raise LookupError(f"the bot has no message in chat {chat_id}")
        return messages[-1]

    def texts(self, chat_id: int) -> list[str]:
        """Texts (or captions) of the bot messages in the chat; messages without any are skipped."""
        return [m.text for m in self.messages(chat_id) if m.text is not None]

    def callback_answers(self, user_id: int | None = None) -> list[dict[str, Any]]:
        """Parameters of successful answerCallbackQuery calls, optionally for one user's presses."""
        answers = []
        for call in self.calls_of("answerCallbackQuery"):
            presser = self._query_users.get(str(call.params.get("callback_query_id")))
            if call.error is None and (user_id is None or presser == user_id):
                answers.append(dict(call.params))
        return answers

    def commands(
        self, scope: dict[str, Any] | None = None, language_code: str = ""
    ) -> list[dict[str, Any]]:
        """The command list set for exactly this scope and language (like getMyCommands)."""
        return copy.deepcopy(self._commands.get(self._commands_key(scope, language_code), []))

    def menu_button(self, chat_id: int | None = None) -> dict[str, Any] | None:
        """What setChatMenuButton set for the chat (None: the default for all chats)."""
        return copy.deepcopy(self._menu_buttons.get(chat_id))

    def is_blocked(self, user_id: int) -> bool:
        return user_id in self._blocked

    def clear(self) -> None:
        """Forget recorded calls; users, chats, messages and queued updates stay."""
        self.calls.clear()

    # --- settling -------------------------------------------------------------------------------

    @property
    def polls_started(self) -> int:
        """getUpdates calls received so far (they are not in `calls`). Once the count moved,
        a long poll that found nothing is waiting: it reaches its wait without yielding."""
        return self._poll_generation

    @property
    def pending_updates(self) -> int:
        """Updates queued but not yet handed out by getUpdates."""
        return sum(1 for update in self._updates if update["update_id"] > self._handed_out_up_to)

    async def wait_fetched(self, timeout: float = 5.0) -> None:
        """Wait until every queued update was handed out *and* confirmed by a later getUpdates
        offset (PTB confirms right after queueing a batch into its update_queue; it does not
        mean the handlers have run)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self._updates:
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(
                    f"{len(self._updates)} update(s) not confirmed after {timeout}s "
                    f"({self.pending_updates} never fetched) - is the bot polling?"
                )
            await self._wait_changed(remaining)

    async def wait_until(self, condition: Callable[[], T | None], timeout: float = 10.0) -> T:
        """Until `condition()` is true (its value is returned), checked now and again after
        each change of the sandbox: a call the bot made (a message sent, edited, deleted, a
        callback answered), an update queued or handed out. For conditions on what the
        sandbox records; one on something else (a database) would wake only by chance.

        The timeout is a safety net for a test, not a pause: TimeoutError when it passes."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not (value := condition()):
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(f"the sandbox did not reach the condition within {timeout}s")
            await self._wait_changed(remaining)
        return value

    # --- change notification (lazy, loop-bound) -------------------------------------------------

    def _record(self, call: SentCall) -> None:
        """Remember a call the bot made, and wake whoever waits on a change."""
        self.calls.append(call)
        self._notify()

    def _notify(self) -> None:
        event, self._changed = self._changed, None
        if event is not None:
            event.set()

    async def _wait_changed(self, timeout: float) -> None:
        loop = asyncio.get_running_loop()
        if self._changed is None or self._changed_loop is not loop:
            self._changed, self._changed_loop = asyncio.Event(), loop
        try:
            await asyncio.wait_for(self._changed.wait(), timeout)
        except TimeoutError:
            pass

    # --- updates queue --------------------------------------------------------------------------

    def _queue_update(self, payload: dict[str, Any]) -> int:
        update_id = next(self._update_ids)
        self._updates.append({"update_id": update_id, **payload})
        self._notify()
        return update_id

    def _update_allowed(self, update: dict[str, Any]) -> bool:
        kind = next(key for key in update if key != "update_id")
        if self._allowed_updates is None:
            return kind not in _NOT_DELIVERED_BY_DEFAULT
        return kind in self._allowed_updates

    def _drop_updates(self, keep: Callable[[dict[str, Any]], bool]) -> None:
        kept = [update for update in self._updates if keep(update)]
        if len(kept) != len(self._updates):
            self._updates = kept
            self._notify()

    # --- users and chats ------------------------------------------------------------------------

    def _user_dict(self, user_id: int) -> dict[str, Any]:
        if user_id not in self._users:
            self.add_user(user_id)
        return dict(self._users[user_id])

    def _bot_user(self) -> dict[str, Any]:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.first_name,
            "username": self.username,
        }

    def _private_chat_dict(self, user_id: int) -> dict[str, Any]:
        user = self._user_dict(user_id)
        return drop_none(
            {
                "id": user_id,
                "type": "private",
                "first_name": user.get("first_name"),
                "last_name": user.get("last_name"),
                "username": user.get("username"),
            }
        )

    def _open_private_chat(self, user_id: int) -> dict[str, Any]:
        """The user interacts with the bot, so the bot may now write to them."""
        if user_id not in self._chats:
            self._chats[user_id] = self._private_chat_dict(user_id)
        return dict(self._chats[user_id])

    def _allocate_message_id(self, chat_id: int) -> int:
        # Users and the bot share one message id sequence per chat, as in Telegram.
        message_id = self._next_message_id.get(chat_id, 1)
        self._next_message_id[chat_id] = message_id + 1
        return message_id

    # --- files ----------------------------------------------------------------------------------

    def _store_file(self, content: bytes, folder: str, extension: str) -> StoredFile:
        number = next(self._file_ids)
        stored = StoredFile(
            file_id=f"SBX{number:06d}-{folder}",
            file_unique_id=f"U{number:06d}",
            content=content,
            path=f"{folder}/file_{number}.{extension}",
        )
        self._files[stored.file_id] = stored
        self._files_by_path[stored.path] = stored
        return stored

    @staticmethod
    def _photo_size(stored: StoredFile, width: int, height: int) -> dict[str, Any]:
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "width": width,
            "height": height,
            "file_size": len(stored.content),
        }

    # --- the bot's messages ---------------------------------------------------------------------

    def _store_bot_message(
        self,
        chat_id: int,
        content: dict[str, Any],
        *,
        text: str | None,
        entities: list[dict[str, Any]] | None = None,
        parse_mode: str | None = None,
        inline_markup: dict[str, Any] | None = None,
        reply_keyboard: list[list[dict[str, Any]]] | None = None,
        remove_keyboard: bool = False,
        photo: bytes | None = None,
        document: bytes | None = None,
        document_name: str | None = None,
        location: dict[str, float] | None = None,
        venue: dict[str, Any] | None = None,
    ) -> StoredMessage:
        message_id = self._allocate_message_id(chat_id)
        raw: dict[str, Any] = {
            "message_id": message_id,
            "from": self._bot_user(),
            "chat": dict(self._chats[chat_id]),
            "date": int(time.time()),
            **content,
        }
        if inline_markup is not None:
            raw["reply_markup"] = copy.deepcopy(inline_markup)
        view = SandboxMessage(
            message_id=message_id,
            chat_id=chat_id,
            from_bot=True,
            text=text,
            buttons=buttons_of(inline_markup),
            reply_keyboard=reply_keyboard,
            photo=photo,
            document=document,
            document_name=document_name,
            parse_mode=parse_mode,
            remove_keyboard=remove_keyboard,
            location=location,
            venue=venue,
        )
        stored = StoredMessage(view, raw, list(entities or []), inline_markup)
        self._bot_messages.setdefault(chat_id, {})[message_id] = stored
        return stored

    # --- commands -------------------------------------------------------------------------------

    @staticmethod
    def _commands_key(scope: object, language_code: object) -> tuple[str, str]:
        scope_dict = scope if isinstance(scope, dict) and scope else {"type": "default"}
        return json.dumps(scope_dict, sort_keys=True), str(language_code or "")
