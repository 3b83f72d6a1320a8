"""The sandbox served over real HTTP on the loopback, so that a separate `score-bot run`
process can be pointed at it with TELEGRAM_API_BASE_URL, killed and started again."""

from __future__ import annotations

import asyncio
import contextlib
import logging

import httpx

from sandbox.transport import BotApiSandbox

log = logging.getLogger(__name__)


class SandboxServer:
    def __init__(self, sandbox: BotApiSandbox, host: str = "127.0.0.1", port: int = 0):
        self.sandbox, self.host, self.port = sandbox, host, port
        self._server: asyncio.base_events.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._connection, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            for task in list(self._tasks):
                task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.gather(*self._tasks, return_exceptions=True)
            await self._server.wait_closed()

    async def _connection(self, reader: asyncio.StreamReader,
                          writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            while True:  # HTTP/1.1 keep-alive: several requests per connection
                request_line = await reader.readline()
                if not request_line:
                    return
                method, target, _version = request_line.decode("latin-1").split(" ", 2)
                headers: list[tuple[str, str]] = []
                length = 0
                while (line := await reader.readline()) not in (b"\r\n", b"\n", b""):
                    name, _, value = line.decode("latin-1").partition(":")
                    headers.append((name.strip(), value.strip()))
                    if name.strip().lower() == "content-length":
                        length = int(value.strip())
                body = await reader.readexactly(length) if length else b""
                request = httpx.Request(method, f"{self.url}{target}", headers=headers,
                                        content=body)
                response = await self.sandbox.transport.handle_async_request(request)
                payload = await response.aread()
                head = [f"HTTP/1.1 {response.status_code} {response.reason_phrase}",
                        f"Content-Length: {len(payload)}",
                        f"Content-Type: {response.headers.get('content-type', 'application/json')}",
                        "", ""]
                writer.write("\r\n".join(head).encode("latin-1") + payload)
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            return
        finally:
            self._tasks.discard(task)
            writer.close()
