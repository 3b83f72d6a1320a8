"""A fake Telegram Bot API, in process, for the tests and the terminal simulator.

:class:`BotApiSandbox` is an :class:`httpx.MockTransport` that sits under PTB's own
:class:`telegram.request.HTTPXRequest`, so the whole real request/response path of
python-telegram-bot (parameter encoding, JSON decoding, error mapping, retries) runs without
any network. It keeps just enough state (users, chats, the bot's messages, queued updates,
callback queries, files, commands) to answer like Telegram does, including the error
descriptions Telegram uses, and lets a test act as users and inspect what the bot did::

    sandbox = BotApiSandbox()
    app = sandbox.application_builder().build()   # or Bot(..., request=sandbox.request())
    sandbox.send_text(42, "/start")
    ...
    assert "Welcome" in sandbox.last_message(42).text

Everything runs on the caller's event loop; asyncio primitives are created lazily so the
sandbox can be built outside a running loop. It is not thread safe (it does not need to be).

The files, one job each:

- ``transport.py``: :class:`BotApiSandbox`, routing, decoding, failures, flood limits, records
- ``decoding.py``: a request's parameters and uploads, decoded as PTB encoded them
- ``methods.py``: the Bot API methods and their answers
- ``users.py``: acting as users (messages, button presses, blocking)
- ``state.py``: what the sandbox records, and what tests read from it
- ``rules.py``: Telegram's checks on a message's text and reply markup
- ``formatting.py``: parse modes (HTML, MarkdownV2, Markdown) to text and entities
- ``errors.py``: :class:`ApiError` and Telegram's error descriptions
- ``server.py``: the same sandbox over HTTP on the loopback, for a separate bot process
- ``runner.py``: :class:`SandboxBot`, an Application on the sandbox, started as run_polling does
- ``simulator.py``: the terminal simulator (``score-bot simulate``)

Nothing here imports the bot: whoever starts an Application on the sandbox passes in how to
build it.
"""

from sandbox.decoding import UploadedFile
from sandbox.errors import ApiError
from sandbox.formatting import format_text
from sandbox.runner import SandboxBot
from sandbox.server import SandboxServer
from sandbox.simulator import Simulator, run_simulator
from sandbox.state import SandboxMessage, SentCall
from sandbox.transport import BotApiSandbox

__all__ = [
    "ApiError",
    "BotApiSandbox",
    "SandboxBot",
    "SandboxMessage",
    "SandboxServer",
    "SentCall",
    "Simulator",
    "UploadedFile",
    "format_text",
    "run_simulator",
]
