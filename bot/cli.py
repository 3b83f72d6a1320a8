"""`score-bot`: run, simulate, db upgrade, survey open|close, export."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from datetime import date, datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from sqlalchemy import make_url
from telegram.error import InvalidToken

from bot.logs import setup_logging
from chat.clock import RealClock
from config.settings import TELEGRAM_API_ROOT, ConfigError, Settings, load_settings

if TYPE_CHECKING:
    from chat.context import BotApplication

log = logging.getLogger("bot")


def _settings() -> Settings:
    try:
        return load_settings()
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


def _instant(text: str) -> datetime:
    """--now: an ISO 8601 instant with its zone, e.g. 2026-11-02T08:59+07:00."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is no date and time; write e.g. 2026-11-02T08:59+07:00") from None
    if moment.tzinfo is None:
        raise argparse.ArgumentTypeError(
            f"{text!r} has no time zone; write e.g. 2026-11-02T08:59+07:00 (WIB)")
    return moment


def _clock(args: argparse.Namespace) -> RealClock:
    """The process's one clock: the wall clock, or from --now on (tests, rehearsals), made
    when the command line was read (`main`)."""
    clock: RealClock = args.clock
    return clock


def _migrate(settings: Settings) -> None:
    from db.migrate import upgrade

    upgrade(settings.database_url)


# The simulator's own database and log, relative to the working directory like the bot's
# default database: a scripted session must not continue the bot's (or an earlier session's)
# half-done conversations unless asked to, and log lines must not land inside the transcript.
SIMULATOR_DB = Path("data") / "simulator.db"
SIMULATOR_LOG = Path("data") / "simulator.log"
SIMULATOR_DB_URL = f"sqlite+aiosqlite:///{SIMULATOR_DB}"


def _simulator_database(settings: Settings, *, fresh: bool) -> tuple[Settings, str]:
    """The settings the simulator runs with, and a line saying which database that is."""
    if "database_url" in settings.model_fields_set:
        if fresh:
            print("configuration error: --fresh empties the simulator's own database "
                  f"({SIMULATOR_DB}); it is not used while DATABASE_URL is set",
                  file=sys.stderr)
            raise SystemExit(2)
        return settings, ("database: the one DATABASE_URL names; the bot remembers what "
                          "happened there (/help asks an open question again)")
    if fresh:
        # SQLite in WAL mode keeps recent writes beside the file: those go too.
        for suffix in ("", "-wal", "-shm", "-journal"):
            SIMULATOR_DB.with_name(SIMULATOR_DB.name + suffix).unlink(missing_ok=True)
    settings = settings.model_copy(update={"database_url": SIMULATOR_DB_URL})
    if SIMULATOR_DB.exists():
        # The bot remembers, the terminal does not: earlier messages are not shown again.
        return settings, (f"database: {SIMULATOR_DB}, from an earlier session: the bot "
                          "remembers it (/help asks an open question again); "
                          "`score-bot simulate --fresh` starts from empty")
    return settings, f"database: {SIMULATOR_DB}, new (kept for the next session)"


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
    if args.now is not None and settings.bot_token and (
            settings.telegram_api_base_url == TELEGRAM_API_ROOT):
        # Another day's bot on Telegram would message real people (invitations of a month
        # that has not ended) and take the live bot's updates: rehearse in the simulator.
        print("configuration error: --now: not with Telegram's Bot API (real users would get "
              "the messages); rehearse with `score-bot simulate --now ...` on a copy of the "
              "database, or set TELEGRAM_API_BASE_URL to a test server", file=sys.stderr)
        return 2
    if not settings.bot_token:
        print("No BOT_TOKEN set: starting the terminal simulator instead of the bot.")
        return _simulate(settings, fresh=False, user_id=1001, name="Tester",
                         lang=settings.default_locale, clock=_clock(args))
    setup_logging(settings.log_level)
    _migrate(settings)
    if args.send_only:
        from bot.send_only import send_only

        try:
            asyncio.run(send_only(settings, _clock(args)))
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
        app = build_application(settings, clock=_clock(args))
        _serve(app, settings)
    except InvalidToken:
        # PTB's message would repeat the token; say only which variable is wrong.
        print("configuration error: BOT_TOKEN: rejected by the Bot API server",
              file=sys.stderr)
        return 2
    return 0


def _serve(app: BotApplication, settings: Settings) -> None:
    from bot.app import ALLOWED_UPDATES

    if settings.webhook_url:
        # Listen on the path Telegram is told to post to.
        path = urlsplit(settings.webhook_url).path.strip("/")
        app.run_webhook(listen="0.0.0.0", port=settings.webhook_port, url_path=path,
                        webhook_url=settings.webhook_url, secret_token=settings.webhook_secret,
                        allowed_updates=ALLOWED_UPDATES)
    else:
        app.run_polling(allowed_updates=ALLOWED_UPDATES)


def _simulate(settings: Settings, *, fresh: bool, user_id: int, name: str, lang: str,
              clock: RealClock) -> int:
    from bot.app import ALLOWED_UPDATES, build_application
    from chat.i18n import load_catalogs
    from sandbox import run_simulator

    settings, database = _simulator_database(settings, fresh=fresh)
    setup_logging(settings.log_level, file=SIMULATOR_LOG)
    _migrate(settings)
    load_catalogs()
    # The simulator is the bot itself: the token is the sandbox's, STAFF_IDS apply as set.
    return run_simulator(partial(build_application, settings, clock=clock),
                         allowed_updates=ALLOWED_UPDATES,
                         user_id=user_id, name=name, lang=lang,
                         notes=[database, f"log: {SIMULATOR_LOG}"],
                         known=asyncio.run(_known_users(settings)))


async def _known_users(settings: Settings) -> list[tuple[int, str, str]]:
    """Who has used the bot in this database: their chats exist in the simulator too."""
    from db.contact import chat_users
    from db.session import create_engine, create_sessionmaker

    engine = create_engine(settings.database_url)
    try:
        return await chat_users(create_sessionmaker(engine))
    finally:
        await engine.dispose()


def cmd_simulate(args: argparse.Namespace) -> int:
    return _simulate(_settings(), fresh=args.fresh, user_id=args.user, name=args.name,
                     lang=args.lang, clock=_clock(args))


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    settings = _settings()
    setup_logging(settings.log_level)
    _migrate(settings)
    print("database is up to date")
    return 0


def cmd_survey(args: argparse.Namespace) -> int:
    from bot.survey_admin import close_now, open_now
    from chat.i18n import load_catalogs

    settings = _settings()
    setup_logging(settings.log_level)
    _migrate(settings)
    load_catalogs()
    action = (partial(open_now, late=args.late) if args.survey_command == "open"
              else close_now)
    # Which database this was: the bot's, the simulator's (data/simulator.db) or a copy.
    print(f"database: {make_url(settings.database_url).render_as_string(hide_password=True)}")
    try:
        print(asyncio.run(action(settings, args.survey, args.period, clock=_clock(args))))
    except ValueError as exc:
        print(f"survey: {exc}", file=sys.stderr)
        return 2
    return 0


def _day(text: str) -> date:
    """--since/--until: a day, ISO 8601 (2026-10-01)."""
    from domain.export_range import read_day

    day = read_day(text)
    if day is None:
        raise argparse.ArgumentTypeError(f"{text!r} is no day; write e.g. 2026-10-01")
    return day


def cmd_export(args: argparse.Namespace) -> int:
    from services.export import Request, write_in_process

    settings = _settings()
    setup_logging(settings.log_level)
    if args.since and args.until and args.since > args.until:
        print("export: --since comes after --until", file=sys.stderr)
        return 2
    _migrate(settings)
    # Which database this was: the bot's, the simulator's (data/simulator.db) or a copy.
    print(f"database: {make_url(settings.database_url).render_as_string(hide_password=True)}")
    out = Path(args.out)
    if args.format == "xlsx" and out.is_dir():
        print(f"export: {out} is a folder; --format xlsx writes one file", file=sys.stderr)
        return 2
    summary = write_in_process(settings.database_url, Request(
        fmt=args.format, out=out, lang=args.lang, now=_clock(args).now(), since=args.since,
        until=args.until))
    for sheet, rows in summary.rows.items():
        print(f"{sheet}: {rows} rows")
    where = out if args.format == "xlsx" else f"{out}/ ({len(summary.files)} files)"
    print(f"written: {where}, {summary.size / 1_000_000:.1f} MB")
    return 0


def _now_option(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--now", type=_instant, default=None, metavar="INSTANT",
        help="run as if it were this instant (ISO 8601 with its zone, e.g. "
             "2026-11-02T08:59+07:00); the clock then runs on from there. For tests, and to "
             "rehearse a month's survey rounds on a copy of the database; never on the live "
             "database")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="score-bot", description="SCORE Assistant")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run the bot (polling, or a webhook when WEBHOOK_URL is set)")
    run.add_argument("--send-only", action="store_true",
                     help="only send the outbox (a standby sender beside the bot, PostgreSQL)")
    _now_option(run)
    run.set_defaults(func=cmd_run)
    sim = sub.add_parser(
        "simulate", help="chat with the bot in the terminal, no token needed",
        description="Chat with the bot in the terminal, as any user, with no token and no "
                    "network. Unless DATABASE_URL is set, the simulator keeps its own database, "
                    f"{SIMULATOR_DB} (migrated at start), kept from one session to the next; "
                    "--fresh starts from empty. `score-bot run` without BOT_TOKEN starts this "
                    f"simulator with the same database. Logs go to {SIMULATOR_LOG}, not the "
                    "terminal. Type /sim in the simulator for its commands.")
    sim.add_argument("--fresh", action="store_true",
                     help=f"delete {SIMULATOR_DB} first: start from an empty database "
                          "(refused while DATABASE_URL is set)")
    sim.add_argument("--user", type=int, default=1001, help="your Telegram user id")
    sim.add_argument("--name", default="Tester", help="your first name")
    sim.add_argument("--lang", default="id", help="your Telegram app language (id or en)")
    _now_option(sim)
    sim.set_defaults(func=cmd_simulate)
    db = sub.add_parser("db", help="database tasks")
    dbsub = db.add_subparsers(dest="db_command", required=True)
    dbsub.add_parser("upgrade", help="apply migrations").set_defaults(func=cmd_db_upgrade)
    survey = sub.add_parser("survey", help="open or close a survey round at once")
    survey_sub = survey.add_subparsers(dest="survey_command", required=True)
    for name, text in (("open", "open a round now: its invitations are sent at once "
                                 "(opening twice sends nothing new)"),
                       ("close", "close a round now: unsent invitations and reminders are "
                                  "dropped")):
        command = survey_sub.add_parser(name, help=text)
        command.add_argument("--survey", choices=("kpi", "pulse"), required=True)
        command.add_argument("--period", required=True, help="the month asked about: YYYY-MM")
        if name == "open":
            command.add_argument("--late", action="store_true",
                                 help="a month whose round never ran: open it now, with its "
                                      "own dates from today")
        _now_option(command)
        command.set_defaults(func=cmd_survey)
    export = sub.add_parser(
        "export", help="everything stored, for staff: an .xlsx workbook or CSV files",
        description="Write everything the bot stores into an .xlsx workbook (a sheet per "
                    "table) or a folder of CSV files, for staff. Workers appear only by a "
                    "pseudonym; docs/decisions/0012-export.md says what is in it.")
    export.add_argument("--format", choices=("xlsx", "csv"), default="xlsx")
    export.add_argument("--out", required=True,
                        help="the .xlsx file to write, or the folder for the CSV files")
    export.add_argument("--since", type=_day, default=None, metavar="DAY",
                        help="from this day on (2026-10-01, WIB)")
    export.add_argument("--until", type=_day, default=None, metavar="DAY",
                        help="up to and including this day (WIB)")
    export.add_argument("--lang", choices=("id", "en"), default="id",
                        help="the language of the headers")
    _now_option(export)
    export.set_defaults(func=cmd_export)
    args = parser.parse_args(argv)
    # The clock starts now, before migrations and start-up: `--now` is the instant the
    # command was started at, so two processes given the same instant agree to within their
    # start-up, not to within whatever each did before it read the clock.
    args.clock = RealClock(getattr(args, "now", None))
    from chat.i18n import CatalogError

    try:
        return int(args.func(args) or 0)
    except CatalogError as exc:
        print(f"translations: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
