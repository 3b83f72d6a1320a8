"""`score-bot run` as a real process against a Bot API server at TELEGRAM_API_BASE_URL:
polling over HTTP, migrations at start, and a SIGKILL in the middle of an enrolment."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from sandbox import BotApiSandbox, SandboxServer
from tests.bot_process import BotProcess, wait_for
from tests.conftest import STAFF_ID
from tests.waiting import poll_until

pytestmark = pytest.mark.slow

OWNER = 1001


async def test_killed_process_resumes_enrolment(server: SandboxServer, bot_process: BotProcess,
                                                tmp_path: Path) -> None:
    sandbox = server.sandbox
    bot = bot_process
    await bot.start()
    sandbox.add_user(OWNER, "Sari", language_code="en")
    sandbox.send_text(OWNER, "/start")
    await wait_for(sandbox, OWNER, "choose your language")
    sandbox.press_button(OWNER, "English")
    await wait_for(sandbox, OWNER, "Do you agree?")
    sandbox.press_button(OWNER, "Yes, I agree")
    await wait_for(sandbox, OWNER, "join your workplace")
    sandbox.press_button(OWNER, "Owner")
    await wait_for(sandbox, OWNER, "name of your company")
    sandbox.send_text(OWNER, "PT Proses Nyata")
    await wait_for(sandbox, OWNER, "What does your company make?")
    # The reply leaves just before the commit; kill once the step is safely stored.
    await bot.wait_committed("e_sector")

    assert await bot.stop(signal.SIGKILL) == -signal.SIGKILL
    await bot.start()
    sandbox.press_button(OWNER, "Auto parts")
    await wait_for(sandbox, OWNER, "province")
    sandbox.send_text(OWNER, "DKI Jakarta")
    await wait_for(sandbox, OWNER, "city")
    # A clean stop (SIGTERM) in the middle as well.
    assert await bot.stop(signal.SIGTERM) == 0
    await bot.start()
    sandbox.send_text(OWNER, "Jakarta Utara")
    await wait_for(sandbox, OWNER, "How many workers")
    assert await bot.stop(signal.SIGTERM) == 0

    log = (tmp_path / "bot.log").read_text()
    assert sandbox.token not in log and "PT Proses Nyata" not in log
    assert "update user=1001 command:/start" in log
    # The menu was set through the same server: polling and sending share the base URL.
    assert sandbox.calls_of("setMyCommands")


async def test_owner_staff_and_worker_against_a_bot_api_server(
        server: SandboxServer, bot_process: BotProcess) -> None:
    """The verification of the foundation: an owner enrols in Indonesian, staff approve, a
    worker joins with the code, all through `score-bot run` polling a Bot API server."""
    sandbox, worker = server.sandbox, 2001
    await bot_process.start()
    sandbox.add_user(STAFF_ID, "Rina", language_code="en")
    sandbox.send_text(STAFF_ID, "/start")
    await wait_for(sandbox, STAFF_ID, "choose your language")

    sandbox.add_user(OWNER, "Sari", language_code="id")
    # (type a text or press a button, what, a word of the reply)
    steps = [("text", "/start", "pilih bahasa"), ("press", "Bahasa Indonesia", "setuju"),
             ("press", "Setuju", "bergabung dengan tempat kerja"),
             ("press", "Pemilik", "nama perusahaan"),
             ("text", "PT Logam Jaya", "diproduksi"), ("press", "Suku cadang", "provinsi"),
             ("text", "jateng", "kabupaten"), ("text", "Semarang", "jumlah"),
             ("text", "150", "narahubung"), ("text", "Sari Wulandari", "nomor hp"),
             ("text", "0812-3456-7890", "modul"), ("press", "1.", "modul"),
             ("press", "Selesai", "periksa"), ("press", "Konfirmasi", "terima kasih")]
    for kind, answer, expect in steps:
        if kind == "text":
            sandbox.send_text(OWNER, answer)
        else:
            sandbox.press_button(OWNER, answer)
        await _wait_lower(sandbox, OWNER, expect)

    await wait_for(sandbox, STAFF_ID, "PT Logam Jaya")
    sandbox.press_button(STAFF_ID, "Approve")
    await wait_for(sandbox, OWNER, "Kode bergabung")
    await sandbox.wait_until(lambda: sandbox.last_message(OWNER).document is not None,
                             timeout=30)
    assert sandbox.last_message(OWNER).document is not None  # the A4 poster
    code_message = [t for t in sandbox.texts(OWNER) if "join-" in t][-1]
    payload = code_message.split("start=")[1].split()[0]

    sandbox.add_user(worker, "Ani", language_code="id")
    sandbox.send_text(worker, f"/start {payload}")
    await _wait_lower(sandbox, worker, "pilih bahasa")
    sandbox.press_button(worker, "Bahasa Indonesia")
    await _wait_lower(sandbox, worker, "setuju")
    sandbox.press_button(worker, "Setuju")
    await wait_for(sandbox, worker, "PT Logam Jaya")
    assert await bot_process.stop(signal.SIGTERM) == 0


async def _wait_lower(sandbox: BotApiSandbox, chat_id: int, needle: str,
                      timeout: float = 30) -> None:
    try:
        await sandbox.wait_until(
            lambda: any(needle in t.lower() for t in sandbox.texts(chat_id)[-2:]), timeout)
    except TimeoutError:
        raise AssertionError(f"no {needle!r} in {sandbox.texts(chat_id)[-3:]}") from None


async def test_a_bot_api_server_down_at_start_is_waited_for(
        sandbox: BotApiSandbox, database_url: str, tmp_path: Path) -> None:
    """Started before its Bot API server: retried with one log line per attempt, no
    traceback, and the bot answers once the server is up."""
    probe = SandboxServer(sandbox)
    await probe.start()
    port = probe.port
    await probe.stop()
    server = SandboxServer(sandbox, port=port)
    bot = BotProcess(server, database_url, tmp_path)
    try:
        await bot.start()
        log_path = tmp_path / "bot.log"

        async def retried() -> bool:
            return "not reachable (attempt 2" in log_path.read_text()

        # The bot process writes its log: nothing here is told, so the file is read again.
        try:
            await poll_until(retried, timeout=30, every=0.1, what="no second attempt")
        except AssertionError:
            raise AssertionError(log_path.read_text()) from None
        await server.start()
        sandbox.add_user(OWNER, "Sari", language_code="en")
        sandbox.send_text(OWNER, "/start")
        await wait_for(sandbox, OWNER, "choose your language", timeout=60)
        assert await bot.stop(signal.SIGTERM) == 0
        log = log_path.read_text()
        assert "Traceback" not in log and sandbox.token not in log
    finally:
        await bot.close()
        await server.stop()


async def test_a_webhook_takes_only_telegrams_posts(server: SandboxServer, database_url: str,
                                                     tmp_path: Path) -> None:
    """With WEBHOOK_URL the bot listens on its port; a post without Telegram's secret header
    (anyone who reaches the port) is refused, so no one can speak "from" staff."""
    import socket

    import httpx

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    bot = BotProcess(server, database_url, tmp_path)
    secret = "s3cret_Token-1"
    bot.extra_env = {"WEBHOOK_URL": f"http://127.0.0.1:{port}/hook", "WEBHOOK_SECRET": secret,
                     "WEBHOOK_PORT": str(port)}
    sandbox = server.sandbox
    sandbox.add_user(STAFF_ID, "Rina", language_code="en")
    sandbox.open_chat(STAFF_ID)
    update = {"update_id": 1, "message": {
        "message_id": 1, "date": 0, "text": "/help",
        "from": {"id": STAFF_ID, "is_bot": False, "first_name": "Rina"},
        "chat": {"id": STAFF_ID, "type": "private"},
        "entities": [{"type": "bot_command", "offset": 0, "length": 5}]}}
    try:
        await bot.start()
        async with httpx.AsyncClient() as client:

            async def post_forged() -> httpx.Response | None:
                try:
                    return await client.post(f"http://127.0.0.1:{port}/hook", json=update)
                except httpx.TransportError:
                    return None

            # Until the bot process listens on its port: it tells no one, so it is tried again.
            forged = await poll_until(post_forged, timeout=30, every=0.2,
                                      what="the webhook never listened")
            assert forged.status_code == 403
            real = await client.post(f"http://127.0.0.1:{port}/hook", json=update,
                                     headers={"X-Telegram-Bot-Api-Secret-Token": secret})
            assert real.status_code == 200
        await wait_for(sandbox, STAFF_ID, "/broadcast")
        # The forged post was not handled: one answer, to the real one.
        assert len([t for t in sandbox.texts(STAFF_ID) if "/broadcast" in t]) == 1
        assert await bot.stop(signal.SIGTERM) == 0
    finally:
        await bot.close()
