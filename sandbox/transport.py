"""The sandbox's front door: :class:`BotApiSandbox`, a fake Telegram Bot API server inside an
:class:`httpx.MockTransport`. Each request is routed (``/bot<token>/<method>`` or a file
download), decoded, checked against the failures a test injected and the strict flood limits,
answered by its Bot API method and recorded in ``calls``. Also here: wiring it under PTB."""

from __future__ import annotations

import collections
import copy
import inspect
import re
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx
from telegram.request import HTTPXRequest

from sandbox.decoding import Params, as_int, decode_request
from sandbox.errors import ApiError
from sandbox.methods import BotApiMethods
from sandbox.state import SentCall
from sandbox.users import UserActions

if TYPE_CHECKING:
    # ApplicationBuilder() with PTB's default types, as PTB spells it.
    from telegram.ext._applicationbuilder import InitApplicationBuilder


@dataclass
class _Failure:
    method: str | None  # lower-case method name, or None for "any sending method"
    chat_id: int | None
    remaining: int
    error_code: int = 500
    description: str = "Internal Server Error"
    retry_after: int | None = None
    network: type[httpx.RequestError] | None = None


class BotApiSandbox(UserActions, BotApiMethods):
    """A fake Telegram Bot API server living inside an :class:`httpx.MockTransport`.

    One object in several files: its recorded state (`state.py`), what users do (`users.py`)
    and the Bot API methods (`methods.py`) are the classes it is made of."""

    base_url = "http://sandbox.invalid"

    def __init__(
        self,
        *,
        token: str = "123456:SANDBOX-TOKEN",
        bot_id: int | None = None,
        username: str = "ScoreAssistantBot",
        first_name: str = "SCORE Assistant",
    ) -> None:
        super().__init__(token=token, bot_id=bot_id, username=username, first_name=first_name)
        self.transport = httpx.MockTransport(self._handle)
        self._failures: list[_Failure] = []
        # Strict mode: Telegram-like flood limits on every send (off by default).
        self.strict_limits = False
        self.global_limit = 30
        self.chat_burst = 3
        self.limit_hits = 0
        self._sent_times: collections.deque[float] = collections.deque()
        self._chat_times: dict[int, collections.deque[float]] = {}
        # Bot API method names are case-insensitive.
        self._methods = {name.lower(): (name, handler)
                         for name, handler in self._api_methods().items()}

    # --- wiring into PTB ------------------------------------------------------------------------

    @property
    def file_base_url(self) -> str:
        """What to pass as ``base_file_url`` (PTB appends the token)."""
        return self.base_url + "/file/bot"

    def request(self, **kwargs: Any) -> HTTPXRequest:
        """A new :class:`HTTPXRequest` talking to this sandbox; kwargs pass through."""
        httpx_kwargs = dict(kwargs.pop("httpx_kwargs", None) or {})
        httpx_kwargs["transport"] = self.transport
        return HTTPXRequest(httpx_kwargs=httpx_kwargs, **kwargs)

    def application_builder(self) -> InitApplicationBuilder:
        """An :class:`ApplicationBuilder` with token, URLs and requests set to this sandbox."""
        from telegram.ext import ApplicationBuilder

        return (
            ApplicationBuilder()
            .token(self.token)
            .base_url(self.base_url + "/bot")
            .base_file_url(self.file_base_url)
            .request(self.request())
            .get_updates_request(self.request())
        )

    # --- failure injection ----------------------------------------------------------------------

    def fail(
        self,
        method: str | None = None,
        *,
        chat_id: int | None = None,
        error_code: int = 500,
        description: str = "Internal Server Error",
        retry_after: int | None = None,
        times: int = 1,
    ) -> None:
        """Answer the next ``times`` matching calls with this error (method None: any send/edit)."""
        if error_code == 429:
            retry_after = retry_after if retry_after is not None else 1
            if description == "Internal Server Error":
                description = f"Too Many Requests: retry after {retry_after}"
        self._failures.append(
            _Failure(
                method.lower() if method else None, chat_id, times,
                error_code=error_code, description=description, retry_after=retry_after,
            )
        )

    def fail_network(
        self,
        method: str | None = None,
        *,
        chat_id: int | None = None,
        times: int = 1,
        timeout: bool = False,
    ) -> None:
        """Make the transport raise httpx.ConnectError (or httpx.ReadTimeout) for matching calls."""
        self._failures.append(
            _Failure(
                method.lower() if method else None, chat_id, times,
                network=httpx.ReadTimeout if timeout else httpx.ConnectError,
            )
        )

    # --- transport ------------------------------------------------------------------------------

    async def _handle(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        file_match = re.fullmatch(r"/file/bot([^/]+)/(.+)", path)
        if file_match:
            return self._download(*file_match.groups())
        api_match = re.fullmatch(r"/bot([^/]+)/([A-Za-z0-9_]+)/?", path)
        if not api_match:
            return ApiError(404, "Not Found").response()
        token, method_name = api_match.groups()
        if token != self.token:
            return ApiError(401, "Unauthorized").response()
        entry = self._methods.get(method_name.lower())
        method = entry[0] if entry else method_name
        record = method != "getUpdates"  # polling noise is not interesting to tests

        try:
            params, files = decode_request(request)
        except ApiError as exc:
            return exc.response()

        failure = self._take_failure(method, params)
        if failure is None and self.strict_limits and method.lower().startswith("send"):
            error = self._over_limit(as_int(params.get("chat_id")))
            if error is not None:
                if record:
                    self._record(SentCall(method, params, None, error[:2]))
                self.limit_hits += 1
                return ApiError(error[0], error[1], retry_after=error[2]).response()
        if failure is not None and failure.network is not None:
            name = failure.network.__name__
            if record:
                self._record(SentCall(method, params, None, (0, f"network: {name}")))
            raise failure.network(f"sandbox: injected {name}", request=request)
        if failure is not None:
            if record:
                self._record(SentCall(method, params, None,
                                      (failure.error_code, failure.description)))
            return ApiError(failure.error_code, failure.description,
                            retry_after=failure.retry_after).response()

        try:
            if entry is None:
                raise ApiError(404, "Not Found")
            result = entry[1](params, files)
            if inspect.isawaitable(result):
                result = await result
        except ApiError as exc:
            if record:
                self._record(SentCall(method, params, None, (exc.error_code, exc.description)))
            return exc.response()
        # A sandbox bug, whatever it is: make it loud instead of a vague network error.
        except Exception as exc:  # noqa: BLE001
            description = f"Internal Server Error: sandbox failed on {method}: {exc!r}"
            if record:
                self._record(SentCall(method, params, None, (500, description)))
            return ApiError(500, description).response()
        if record:
            self._record(SentCall(method, params, copy.deepcopy(result), None))
        return httpx.Response(200, json={"ok": True, "result": result})

    def _download(self, token: str, path: str) -> httpx.Response:
        if token != self.token:
            return ApiError(401, "Unauthorized").response()
        stored = self._files_by_path.get(path)
        if stored is None:
            return ApiError(404, "Not Found").response()
        return httpx.Response(200, content=stored.content)

    def _over_limit(self, chat_id: int | None) -> tuple[int, str, int] | None:
        """Telegram's flood limits, roughly: about 30 messages a second in all, and short
        bursts only to one chat. Over them, a 429 with retry_after, as Telegram answers."""
        now = time.monotonic()
        window = self._sent_times
        while window and window[0] <= now - 1.0:
            window.popleft()
        chat = self._chat_times.setdefault(chat_id or 0, collections.deque())
        while chat and chat[0] <= now - 1.0:
            chat.popleft()
        if len(window) >= self.global_limit or len(chat) >= self.chat_burst:
            return (429, "Too Many Requests: retry after 1", 1)
        window.append(now)
        chat.append(now)
        return None

    def _take_failure(self, method: str, params: Params) -> _Failure | None:
        lowered = method.lower()
        for failure in self._failures:
            if failure.method is None:
                if not lowered.startswith(("send", "edit", "copy", "forward")):
                    continue
            elif failure.method != lowered:
                continue
            if failure.chat_id is not None and as_int(params.get("chat_id")) != failure.chat_id:
                continue
            failure.remaining -= 1
            if failure.remaining <= 0:
                self._failures.remove(failure)
            return failure
        return None
