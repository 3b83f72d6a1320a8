"""Workers join with a code and leave; owners show or replace the code and invite admins."""

from __future__ import annotations

import html
from typing import Any, TypedDict

from telegram import Update

from chat.access import role_of
from chat.context import BotContext
from chat.flow import BUTTON, END, STAY, Flow, Outcome, Run
from chat.i18n import N_, _, format_number, ngettext
from chat.menu import set_chat_menu
from chat.reply import rows, send, stale_button
from db.joining import (
    create_admin_invite,
    current_join_code,
    leave_workplace,
    owned_enterprise,
    replace_join_code,
    workplace_of,
)
from db.models import Enterprise, EnterpriseStatus
from domain.join_codes import admin_deep_link, looks_like_code
from domain.join_limits import MAX_WRONG, WARN_FROM
from domain.roles import (
    Role,
    may_accept_admin_invite,
    may_join_as_worker,
    may_manage_enterprise,
    may_replace_join_code,
)
from services import joining
from services.poster import send_code


def _may_join(context: BotContext) -> bool:
    return may_join_as_worker(role_of(context))


class JoinData(TypedDict, total=False):
    # A worker of another enterprise, asked whether they moved: where to, and from where.
    move_to: int
    move_name: str
    move_from: str


# Checked at every answer too: a worker made a trainer at the "do you now work at" question
# must not be moved (and made a worker again).
JOIN: Flow[JoinData] = Flow("join", command="join", reentry=True, allowed=_may_join,
                            refused=N_("Join codes are for workers. Type /help to see the menu."),
                            cancelled=N_("Cancelled. Nothing was saved. Type /help to see the "
                                         "menu."))


def code_given(context: BotContext) -> bool:
    """/join with the code: the user just typed it, so it replaces whatever question was
    open (a wrong tap on "owner" at the first question, say)."""
    return bool(context.args)


@JOIN.entry
async def begin(run: Run[JoinData], code: str | None = None) -> Outcome:
    """/join (with the code or without), a code typed at the role question or outside any
    question, or a join link once language and consent are done."""
    user = run.context.user_row
    if user is None or user.consent_at is None:
        await run.say(_("Please start with /start and agree first."))
        return END
    message = run.update.effective_message
    if code is None and message is not None and (message.text or "").startswith("/join"):
        code = " ".join(run.args) or None
    if code is not None:
        return await try_code(run, code)
    return ask_code


@JOIN.step("join_code")
async def ask_code(run: Run[JoinData]) -> None:
    await run.say(_("Please send the join code of your enterprise. It is on the SCORE poster at "
                    "the factory, or ask HRD, the SCORE trainer or the improvement team (EIT)."))


@ask_code.on_text()
async def code_typed(run: Run[JoinData], text: str) -> Outcome:
    if not looks_like_code(text):
        # Chat while waiting for the code ("ok pak") is not a wrong code: a hint instead.
        await run.say(_("A join code has six letters and numbers, like K7P2QX, never 0, O, 1, I "
                        "or L. It is on the "
                        "SCORE poster at the factory, or ask HRD, the SCORE trainer or the "
                        "improvement team (EIT). Type /cancel to stop."))
        return STAY
    return await try_code(run, text)


async def try_code(run: Run[JoinData], text: str) -> Outcome:
    now = run.svc.clock.now()
    result = await joining.join_with_code(run.svc, run.user_id, text)
    if result.locked_until is not None:
        minutes = max(1, -(-int((result.locked_until - now).total_seconds()) // 60))
        await run.say(ngettext("Too many wrong codes. Please try again in {minutes} minute.",
                               "Too many wrong codes. Please try again in {minutes} minutes.",
                               minutes).format(minutes=minutes))
        return END
    if result.replaced_of is not None:
        await run.say(_("This code of {name} was replaced. Please ask for the new one: it is on "
                        "the new poster, or ask HRD or the SCORE trainer.").format(
                            name=html.escape(result.replaced_of)))
        return run.wait(ask_code)
    if result.already:
        await run.say(_("You are already registered at {name}.").format(
            name=html.escape(result.enterprise_name or "")))
        return END
    if result.moving_from is not None:
        # db/joining.py sets where to with where from.
        assert result.enterprise_id is not None and result.enterprise_name is not None
        run.data.update({"move_to": result.enterprise_id, "move_name": result.enterprise_name,
                         "move_from": result.moving_from})
        return ask_move
    if result.enterprise_name is None:
        note = _("I do not know this code. Please check it and send it again. Type /cancel to "
                 "stop.")
        left = result.tries_left
        if left is not None and MAX_WRONG - left >= WARN_FROM:
            note += "\n" + ngettext("You can try {count} more time.",
                                    "You can try {count} more times.", left).format(count=left)
        await run.say(note)
        return run.wait(ask_code)
    return await _welcome(run, result.enterprise_name)


@JOIN.step("join_move", expects=BUTTON)
async def ask_move(run: Run[JoinData]) -> None:
    await run.say(_("You are registered at {old}. Do you now work at {new}?").format(
        old=html.escape(run.data["move_from"]), new=html.escape(run.data["move_name"])),
        rows([run.button(_("Yes, I now work at {new}").format(new=run.data["move_name"])[:60],
                         "jmove", "yes"),
              run.button(_("No, I still work at {old}").format(old=run.data["move_from"])[:60],
                         "jmove", "no")], width=1))


@ask_move.on_button("jmove", ("yes", "no"))
async def move_answered(run: Run[JoinData], answer: str) -> Outcome:
    await run.ack()
    if answer == "no":
        await run.say(_("Fine, you stay registered at {old}.").format(
            old=html.escape(run.data["move_from"])))
        return END
    name = await joining.move_to(run.svc, run.user_id, int(run.data["move_to"]))
    if name is None:
        await run.say(_("This code no longer works. Please ask for the new one."))
        return END
    return await _welcome(run, name)


async def _welcome(run: Run[JoinData], name: str) -> Outcome:
    run.context.role = Role.WORKER.value
    user = run.context.user_row
    assert user is not None
    await set_chat_menu(run.context.bot, run.user_id, Role.WORKER.value, user.language)
    await run.say(_("Welcome! You are now a member of {name}. Thank you for joining.")
                  .format(name=html.escape(name)))
    return END


async def accept_invite(run: Run[Any], token: str, *, not_valid: Outcome = END) -> Outcome:
    """An admin invite link, opened once language and consent are done; `not_valid`: what
    comes after saying that the link was used or is not valid."""
    role = role_of(run.context)
    if not may_accept_admin_invite(role):
        await run.say(_("This link is for an enterprise admin. Please forward it to your admin "
                        "(HRD, QC or K3)."))
        return END
    sender = run.update.effective_user
    admin_name = sender.full_name if sender else str(run.user_id)
    accepted = await joining.accept_admin_invite(run.svc, run.user_id, token, role,
                                                 admin_name=admin_name)
    if accepted is None:
        await run.say(_("This invite link was already used or is not valid. Please ask the "
                        "owner for a new one."))
        return not_valid
    name, role_now = accepted
    run.context.role = role_now.value
    user = run.context.user_row
    assert user is not None
    await set_chat_menu(run.context.bot, run.user_id, role_now.value, user.language)
    await run.say(_("Welcome! You are now an admin of {name}.").format(name=html.escape(name)))
    return END


# --- the owner's code, its poster, admin invites ------------------------------------------------
async def _approved_enterprise(update: Update, context: BotContext
                               ) -> tuple[Enterprise | None, int]:
    if not may_manage_enterprise(role_of(context)):
        await send(update, context, _("This is for the owner of the enterprise. Type /help to "
                                      "see the menu."))
        return None, 0
    assert context.user_row is not None
    owned = await owned_enterprise(context.svc.sessionmaker, context.user_row.id)
    if owned.enterprise is None:
        await send(update, context, _("You have not enrolled an enterprise yet. Please start "
                                      "with /enrol."))
        return None, 0
    if owned.enterprise.status == EnterpriseStatus.REJECTED:
        await send(update, context, _(
            "The SCORE team did not approve {name}.\nReason: {reason}\nPlease correct it with "
            "/enrol and confirm: it goes back to the team.").format(
            name=html.escape(owned.enterprise.name),
            reason=html.escape(owned.enterprise.reject_reason or "–")))
        return None, 0
    if owned.enterprise.status != EnterpriseStatus.APPROVED:
        await send(update, context, _("Your enrolment is waiting for approval by the SCORE "
                                      "team. The join code comes once it is approved."))
        return None, 0
    return owned.enterprise, owned.workers


async def code_command(update: Update, context: BotContext) -> None:
    enterprise, workers = await _approved_enterprise(update, context)
    if enterprise is None or enterprise.join_code is None:
        return
    user = context.user_row
    assert user is not None
    kb = context.keyboard()
    await send_code(context.bot, context.svc.bot_username, user.id, enterprise.name,
                    enterprise.join_code, user.language,
                    more=_("Workers who joined: {count}.\nIf the code leaked, you can replace "
                           "it: the old one stops working.").format(count=format_number(workers)),
                    markup=rows([kb.button(_("Replace the code"), "rcode", enterprise.join_code)]))


def _may_replace(context: BotContext) -> bool:
    return may_replace_join_code(role_of(context))


# For owners (and staff who enrolled one): made a trainer while the question is open, the
# router ends it like any flow.
class ReplaceCodeData(TypedDict, total=False):
    code: str   # the code being replaced


REPLACE_CODE: Flow[ReplaceCodeData] = Flow(
    "replace_code", allowed=_may_replace, cancelled=N_("Nothing was changed."),
    refused=N_("This is for the owner of the enterprise. Type /help to see the menu."))


@REPLACE_CODE.entry
async def replace_begin(run: Run[ReplaceCodeData], code: str) -> Outcome:
    """The Replace button under /code: confirm first, the old code stops working. The
    button of a code already replaced (an older /code) is stale at once: it does not ask
    about a code that no longer works."""
    if await current_join_code(run.svc.sessionmaker, run.user_id) != code:
        await stale_button(run.update)
        return END
    run.data["code"] = code
    return ask_replace


@REPLACE_CODE.step("rc_confirm", expects=BUTTON)
async def ask_replace(run: Run[ReplaceCodeData]) -> None:
    await run.say(_("Replace the join code {code}? The old code stops working, and workers "
                    "need the new one or the new poster.").format(code=run.data["code"]),
                  rows([run.button(_("Yes, replace it"), "rcok", "yes"),
                        run.button(_("No, keep the old code"), "rcok", "no")]))


@ask_replace.on_button("rcok", ("yes", "no"))
async def replace_answered(run: Run[ReplaceCodeData], answer: str) -> Outcome:
    if answer == "no":
        await run.ack()
        await run.say(_("Nothing was changed."))
        return END
    enterprise = await replace_join_code(run.svc.sessionmaker, run.user_id, run.data["code"],
                                         now=run.svc.clock.now())
    if enterprise is None or enterprise.join_code is None:
        await run.ack(_("This button is no longer active."))
        return END
    await run.ack()
    user = run.context.user_row
    assert user is not None
    await run.flush()
    await send_code(run.context.bot, run.svc.bot_username, user.id, enterprise.name,
                    enterprise.join_code, user.language,
                    lead=_("The old code no longer works. Here is the new one."))
    return END


async def invite_command(update: Update, context: BotContext) -> None:
    enterprise, _workers = await _approved_enterprise(update, context)
    if enterprise is None:
        return
    assert context.user_row is not None
    token = await create_admin_invite(context.svc.sessionmaker, enterprise.id,
                                      context.user_row.id, now=context.svc.clock.now())
    await send(update, context, _(
        "Send this link to your enterprise admin (HRD, QC or K3). It works once:\n{link}").format(
        link=admin_deep_link(context.svc.bot_username, token)))


# --- a worker leaves ---------------------------------------------------------------------------
class LeaveData(TypedDict, total=False):
    enterprise: int   # the workplace being left
    name: str


LEAVE: Flow[LeaveData] = Flow("leave", command="leave", cancelled=N_("Fine, nothing changed."))


@LEAVE.entry
async def leave_begin(run: Run[LeaveData]) -> Outcome:
    workplace = await workplace_of(run.svc.sessionmaker, run.user_id)
    if workplace is None:
        await run.say(_("You are not registered at an enterprise."))
        return END
    run.data.update({"enterprise": workplace.enterprise_id, "name": workplace.name})
    return ask_leave


@LEAVE.step("leave_confirm", expects=BUTTON)
async def ask_leave(run: Run[LeaveData]) -> None:
    await run.say(_("Leave {name}?").format(name=html.escape(run.data["name"])),
                  rows([run.button(_("I no longer work here"), "leave", "yes"),
                        run.button(_("No, stay"), "leave", "no")], width=1))


@ask_leave.on_button("leave", ("yes", "no"))
async def leave_answered(run: Run[LeaveData], answer: str) -> Outcome:
    await run.ack()
    if answer == "no":
        await run.say(_("Fine, nothing changed."))
        return END
    if not await leave_workplace(run.svc.sessionmaker, run.user_id, run.data["enterprise"],
                                 now=run.svc.clock.now()):
        await run.say(_("You are not registered at an enterprise."))
        return END
    run.svc.recheck_sender()  # leaving dropped the survey messages not sent to them yet
    await run.say(_("You are no longer a member. Thank you for taking part. You can join another "
                    "enterprise with /join."))
    return END
