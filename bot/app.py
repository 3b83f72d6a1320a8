"""Building the Application: handlers in one place, in an order that reads like a table of
contents; group -1 is the gate, group 0 the journeys."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from functools import partial

from telegram import Update
from telegram.ext import (
    ApplicationBuilder,
    ChatMemberHandler,
    ContextTypes,
    TypeHandler,
)
from telegram.request import BaseRequest

from bot.flood_limits import SharedBudget
from bot.persistence import DbPersistence
from bot.processor import PerUserUpdateProcessor
from bot.telegram_channel import TelegramChannel
from chat.access import is_staff
from chat.buttons import ButtonSigner
from chat.clock import Clock
from chat.context import AppBot, BotApplication, BotContext, Services, services_of
from chat.flow import ROUTER_KEY, Router
from chat.menu import set_default_menus, set_staff_menus
from config.settings import Settings
from db.queries.outbox import Outgoing
from db.secrets import get_or_create_secret
from db.session import create_engine, create_sessionmaker
from handlers import (
    broadcast,
    chat_member,
    enrol,
    errors,
    export,
    gate,
    help,
    join,
    kpi,
    modules,
    own_data,
    review,
    round_late,
    round_move,
    staff_roles,
    start,
    stats,
    survey,
    survey_stats,
    tips,
    trainers,
    visit_answer,
    visit_new,
    visits,
    workshop,
    workshop_attendance,
    workshop_rsvp,
)
from jobs import broadcasts as broadcast_jobs
from jobs import drafts, event_reminders, outbox_watch, survey_rounds, visit_reminders, weekly_tips
from jobs import retention as retention_job
from jobs.outbox import OutboxSender, SenderConfig
from jobs.sender_lock import lock_for
from services import tips as tip_service
from services import visits as visit_texts
from services import workshops
from services.surveys import rounds

log = logging.getLogger(__name__)

# Explicit, so that blocking and unblocking (my_chat_member) always reach us.
ALLOWED_UPDATES = [Update.MESSAGE, Update.CALLBACK_QUERY, Update.MY_CHAT_MEMBER]


def build_router() -> Router:
    """Every conversation, command and button of the bot, in one table of contents."""
    router = Router(unknown_command=help.unknown_command, stray_message=help.stray_message,
                    role_changed=help.role_changed)
    # Conversations (flows), each with the command that starts it, if any.
    router.add_flow(start.FIRST_CONTACT, interrupts=start.opens_a_link)
    # At the role question of first contact, /enrol and /join answer it.
    router.add_flow(enrol.ENROL, interrupts=start.choosing_role)
    router.add_flow(join.JOIN,
                    interrupts=lambda context: join.code_given(context)
                    or start.choosing_role(context))
    router.add_flow(join.LEAVE)
    router.add_flow(join.REPLACE_CODE)
    router.add_flow(review.REJECT)
    router.add_flow(broadcast.COMPOSE)
    router.add_flow(staff_roles.ROLES)
    router.add_flow(survey.SURVEY)
    router.add_flow(round_move.MOVE)
    router.add_flow(round_late.LATE)
    router.add_flow(trainers.TRAINERS)
    router.add_flow(visit_new.VISIT_NEW)
    router.add_flow(visit_answer.REPORT)
    router.add_flow(visit_answer.MOVE)
    router.add_flow(visit_answer.CANCEL)
    router.add_flow(workshop.WORKSHOP)
    router.add_flow(workshop_rsvp.RSVP)
    router.add_flow(workshop_attendance.ATTENDANCE)
    router.add_flow(tips.ADMIN)  # /tips admin opens it (staff only)
    router.add_flow(own_data.FORGET)  # everyone: UU PDP
    # Commands that answer at once; inside a flow /help and /privacy ask its question again.
    router.add_command("help", help.help_command, in_flow="reask")
    router.add_command("privacy", help.privacy, in_flow="reask")
    router.add_command("mydata", own_data.mydata_command, in_flow="reask")
    router.add_command(["language", "bahasa"], start.language_command, in_flow="run")
    router.add_command("code", join.code_command)
    router.add_command("invite", join.invite_command)
    router.add_command("kpi", kpi.kpi_command)
    router.add_command("modules", modules.modules_command)
    router.add_command("baseline", survey.start_baseline)
    router.add_command("visits", visits.visits_command, allowed=visits.may_see)
    router.add_command("workshops", workshop_rsvp.workshops_command, in_flow="reask")
    router.add_command("tip", tips.tip_command)
    router.add_command("tips", tips.tips_command)
    # Staff lists also inside a flow (the open question is asked again after them).
    router.add_command("pending", review.pending_command, allowed=is_staff, in_flow="reask")
    router.add_command("broadcasts", broadcast.list_command, allowed=is_staff,
                       in_flow="reask")
    router.add_command("surveys", survey_stats.surveys_command, allowed=is_staff,
                       in_flow="reask")
    router.add_command("stats", stats.stats_command, allowed=is_staff, in_flow="reask")
    router.add_command("export", export.export_command, allowed=is_staff)
    # Buttons that belong to no conversation.
    router.add_action("setlang", start.language_chosen, reask=True)
    router.add_action("rcode", join.REPLACE_CODE.starter("code"))
    router.add_action(rounds.SURVEY_BUTTON, survey.SURVEY.starter("round_id"))
    router.add_action(kpi.PICK, kpi.enterprise_picked)
    # "Did the visit happen?": only the visit's trainer (checked by the flows' entries).
    router.add_action(visit_texts.YES, visit_answer.REPORT.starter("visit"))
    router.add_action(visit_texts.MOVED, visit_answer.MOVE.starter("visit"))
    router.add_action(visit_texts.CANCELLED, visit_answer.CANCEL.starter("visit"))
    router.add_action(visits.ASK, visits.ask_pressed)
    router.add_action(workshops.ATTEND, workshop_rsvp.RSVP.starter("workshop_id"))
    router.add_action(workshops.DECLINE, workshop_rsvp.decline_pressed, outside_flows=True)
    router.add_action(workshop_attendance.OPEN,
                      workshop_attendance.ATTENDANCE.starter("workshop_id"),
                      allowed=workshop_attendance.staff_or_trainer)
    router.add_action(modules.PICK, modules.enterprise_picked)
    router.add_action(tip_service.ANOTHER, tips.another_pressed)
    router.add_action(tip_service.FEEDBACK, tips.feedback_pressed)
    router.add_action("apr", review.approve_pressed, allowed=is_staff)
    router.add_action("rej", review.REJECT.starter("enterprise_id"), allowed=is_staff)
    router.add_action("chok", review.change_pressed, allowed=is_staff)
    router.add_action("chno", review.change_pressed, allowed=is_staff)
    router.add_action("blx", broadcast.cancel_pressed, allowed=is_staff)
    router.add_action("blxy", broadcast.cancel_confirmed, allowed=is_staff)
    router.add_action("blxn", broadcast.keep_pressed, allowed=is_staff)
    router.add_action(survey_stats.SHOW_ROUND, survey_stats.round_pressed, allowed=is_staff)
    router.add_action(survey_stats.EARLIER, survey_stats.earlier_pressed, allowed=is_staff)
    router.add_action(survey_stats.CHART, survey_stats.chart_pressed, allowed=is_staff)
    router.add_action(survey_stats.MOVE_BUTTON, round_move.MOVE.starter("round_id"),
                      allowed=is_staff)
    router.add_action(survey_stats.LATE_BUTTON, round_late.LATE.starter("shown"),
                      allowed=is_staff)
    return router


async def _workshop_reminder(svc: Services, due: event_reminders.DueMessage
                             ) -> Sequence[Outgoing]:
    return await workshops.render_reminder(svc, due.reminder, late=due.late)


# What each kind of event's due reminders say (jobs/event_reminders.py).
EVENT_RENDERERS: dict[str, event_reminders.Render] = {"visit": visit_reminders.render,
                                                      "workshop": _workshop_reminder}


def add_handlers(app: BotApplication) -> None:
    # group -1: who is this, which language and role; forged buttons and groups stop here.
    app.add_handler(TypeHandler(Update, gate.gate), group=-1)
    # group 0: blocking and unblocking, then everything else through the router.
    app.add_handler(ChatMemberHandler(chat_member.my_chat_member,
                                      ChatMemberHandler.MY_CHAT_MEMBER))
    router = build_router()
    app.bot_data[ROUTER_KEY] = router
    app.add_handler(TypeHandler(Update, router.dispatch))
    app.add_error_handler(errors.on_error)


async def _post_init(app: BotApplication, *, start_sender: bool,
                     sender_config: SenderConfig | None) -> None:
    svc = services_of(app)
    secret = await get_or_create_secret(svc.sessionmaker, "buttons")
    svc.signer = ButtonSigner(bytes.fromhex(secret))
    svc.bot_username = app.bot.username
    await drafts.purge_drafts(app)
    await tip_service.load_library(svc)
    await set_default_menus(app.bot)
    await set_staff_menus(app.bot, svc)
    if start_sender:
        sender = make_sender(svc, app.bot, sender_config)
        svc.sender = sender
        sender.start()
    log.info("bot @%s ready", svc.bot_username)


def make_sender(svc: Services, bot: AppBot, config: SenderConfig | None = None) -> OutboxSender:
    config = config or SenderConfig(rate=svc.settings.broadcast_rate,
                                    in_flight=svc.settings.outbox_in_flight)
    return OutboxSender(svc.sessionmaker, TelegramChannel(bot, svc.signer), config=config,
                        clock=svc.clock, lock=lock_for(svc.engine),
                        skip_locked=svc.engine.dialect.name == "postgresql")


async def _post_stop(app: BotApplication) -> None:
    svc = services_of(app)
    sender, svc.sender = svc.sender, None
    if sender is not None:
        await sender.stop()


async def _post_shutdown(app: BotApplication) -> None:
    await services_of(app).engine.dispose()


def build_application(settings: Settings, *, token: str | None = None,
                      request: BaseRequest | None = None,
                      get_updates_request: BaseRequest | None = None,
                      clock: Clock,
                      sender_config: SenderConfig | None = None,
                      start_sender: bool = True,
                      flood_budget: SharedBudget | None = None,
                      survey_schedule: bool = True) -> BotApplication:
    engine = create_engine(settings.database_url)
    sessionmaker = create_sessionmaker(engine)
    persistence = DbPersistence(sessionmaker, clock)
    processor = PerUserUpdateProcessor()
    budget = flood_budget or SharedBudget(clock=clock)
    builder = (
        ApplicationBuilder()
        .token(token or settings.bot_token or "")
        .base_url(settings.api_base_url)
        .base_file_url(settings.api_file_url)
        .persistence(persistence)
        .concurrent_updates(processor)
        .context_types(ContextTypes(context=BotContext))
        # Replies and the outbox share Telegram's flood limits, replies first.
        .rate_limiter(budget)
        .post_init(partial(_post_init, start_sender=start_sender, sender_config=sender_config))
        .post_stop(_post_stop)
        .post_shutdown(_post_shutdown)
    )
    if request is not None:
        builder = builder.request(request)
    if get_updates_request is not None:
        builder = builder.get_updates_request(get_updates_request)
    app = builder.build()

    async def _commit_after_update() -> None:
        await app.update_persistence()
        await persistence.commit()

    processor.after_update = _commit_after_update
    app.bot_data["services"] = Services(settings=settings, engine=engine,
                                        sessionmaker=sessionmaker,
                                        signer=ButtonSigner(b"unset"), clock=clock,
                                        budget=budget)
    add_handlers(app)
    processor.commands = frozenset(app.bot_data[ROUTER_KEY].commands)
    drafts.schedule(app)
    retention_job.schedule(app)
    outbox_watch.schedule(app)
    broadcast_jobs.schedule(app)
    if survey_schedule:
        # Off in tests, which run rounds and reminders on their fake clock by calling the
        # jobs' functions (a job on real seconds would race them).
        survey_rounds.schedule(app)
        event_reminders.schedule(app, EVENT_RENDERERS)
        weekly_tips.schedule(app)  # likewise: tests call services.tips.run_weekly
    return app
