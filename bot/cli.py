"""`score-bot`: run, simulate, db upgrade."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from telegram.error import InvalidToken
from telegram.ext import Application

from config.settings import ConfigError, Settings, load_settings
from bot.logs import setup_logging

log = logging.getLogger("bot")


def _settings() -> Settings:
    try:
        return load_settings()
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


def _migrate(settings: Settings) -> None:
    from db.migrate import upgrade

    upgrade(settings.database_url)


def _chat_log_level(settings: Settings) -> str:
    # In the terminal the conversation is what matters; per-update lines would drown it.
    return "WARNING" if settings.log_level == "INFO" else settings.log_level


def cmd_run(args: argparse.Namespace) -> int:
    settings = _settings()
    if args.send_only and not settings.bot_token:
        print("configuration error: BOT_TOKEN: needed to send", file=sys.stderr)
        return 2
    if args.send_only and not settings.database_url.startswith("postgresql"):
        # SQLite has no lock between processes: a second sender would double the rate.
        print("configuration error: DATABASE_URL: --send-only needs PostgreSQL",
              file=sys.stderr)
        return 2
    if not settings.bot_token:
        print("No BOT_TOKEN set: starting the terminal simulator instead of the bot.")
        setup_logging(_chat_log_level(settings))
        _migrate(settings)
        return _simulate(settings, user_id=1001, name="Tester", lang=settings.default_locale)
    setup_logging(settings.log_level)
    _migrate(settings)
    if args.send_only:
        from bot.send_only import send_only

        try:
            asyncio.run(send_only(settings))
        except InvalidToken:
            print("configuration error: BOT_TOKEN: rejected by the Bot API server",
                  file=sys.stderr)
            return 2
        return 0
    from bot.app import build_application
    from bot.startup import wait_for_bot_api
    from chat.i18n import load_catalogs

    load_catalogs()
    try:
        asyncio.run(wait_for_bot_api(settings))
        app = build_application(settings)
        _serve(app, settings)
    except InvalidToken:
        # PTB's message would repeat the token; say only which variable is wrong.
        print("configuration error: BOT_TOKEN: rejected by the Bot API server",
              file=sys.stderr)
        return 2
    return 0


def _serve(app: Application, settings: Settings) -> None:
    from bot.app import ALLOWED_UPDATES

    if settings.webhook_url:
        app.run_webhook(listen="0.0.0.0", port=settings.webhook_port,
                        webhook_url=settings.webhook_url, secret_token=settings.webhook_secret,
                        allowed_updates=ALLOWED_UPDATES)
    else:
        app.run_polling(allowed_updates=ALLOWED_UPDATES)


def _simulate(settings: Settings, *, user_id: int, name: str, lang: str) -> int:
    from functools import partial

    from bot.app import ALLOWED_UPDATES, build_application
    from chat.i18n import load_catalogs
    from sandbox import run_simulator

    load_catalogs()
    # The simulator is the bot itself: the token is the sandbox's, STAFF_IDS apply as set.
    return run_simulator(partial(build_application, settings), allowed_updates=ALLOWED_UPDATES,
                         user_id=user_id, name=name, lang=lang)


def cmd_simulate(args: argparse.Namespace) -> int:
    settings = _settings()
    setup_logging(_chat_log_level(settings))
    _migrate(settings)
    return _simulate(settings, user_id=args.user, name=args.name, lang=args.lang)


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    settings = _settings()
    setup_logging(settings.log_level)
    _migrate(settings)
    print("database is up to date")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="score-bot", description="SCORE Assistant")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run the bot (polling, or a webhook when WEBHOOK_URL is set)")
    run.add_argument("--send-only", action="store_true",
                     help="only send the outbox (a standby sender beside the bot, PostgreSQL)")
    run.set_defaults(func=cmd_run)
    sim = sub.add_parser("simulate", help="chat with the bot in the terminal, no token needed")
    sim.add_argument("--user", type=int, default=1001, help="your Telegram user id")
    sim.add_argument("--name", default="Tester", help="your first name")
    sim.add_argument("--lang", default="id", help="your Telegram app language (id or en)")
    sim.set_defaults(func=cmd_simulate)
    db = sub.add_parser("db", help="database tasks")
    dbsub = db.add_subparsers(dest="db_command", required=True)
    dbsub.add_parser("upgrade", help="apply migrations").set_defaults(func=cmd_db_upgrade)
    args = parser.parse_args(argv)
    from chat.i18n import CatalogError

    try:
        return int(args.func(args) or 0)
    except CatalogError as exc:
        print(f"translations: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
