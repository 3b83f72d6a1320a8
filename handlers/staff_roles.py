"""/staff: make someone a trainer or staff, or revoke it.

Staff are the ids in STAFF_IDS plus users whose stored role is `staff`; the gate works that
out per update (`context.role`) and the router checks it at the command and at every answer
and button: a staff tool open when the role is revoked ends with a word on what they can do
now (chat/flow.py), and their old buttons do nothing. The person changed is told at once.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Sequence
from typing import TypedDict

from telegram.error import TelegramError

from chat.access import is_staff
from chat.context import BotContext
from chat.flow import BUTTON, END, Flow, Outcome, Run
from chat.i18n import N_, _, use_locale
from chat.labels import role_name
from chat.menu import set_chat_menu
from chat.reply import rows
from db.models import User
from db.queries.users import typed_id
from db.roles import (
    change_role,
    find_people,
    people_by_id,
    person_and_role_after_revoke,
    role_holders,
)
from domain.roles import GIVEN_BY_STAFF

log = logging.getLogger(__name__)



class RolesData(TypedDict, total=False):
    action: str           # one of ACTIONS
    choices: list[int]    # the people found, offered as buttons
    target: int           # the person whose role changes


ROLES: Flow[RolesData] = Flow("staff_roles", command="staff", allowed=is_staff, reentry=True,
                              cancelled=N_("Cancelled. No role was changed."))
ACTIONS = ("trainer", "staff", "revoke")


def _who(user: User) -> str:
    name = html.escape(user.name) if user.name else str(user.id)
    handle = f"@{html.escape(user.username)}, " if user.username else ""
    return f"<b>{name}</b> ({handle}id {user.id})"


@ROLES.entry
async def begin(run: Run[RolesData]) -> Outcome:
    return ask_action


@ROLES.step("sr_menu", expects=BUTTON)
async def ask_action(run: Run[RolesData]) -> None:
    holders = await role_holders(run.svc.sessionmaker, run.svc.settings.staff_ids)

    def names(people: Sequence[User | int]) -> str:
        return ", ".join(html.escape(p.name or str(p.id)) if isinstance(p, User) else str(p)
                         for p in people) or "–"

    await run.say("\n".join([
        _("<b>Roles</b>"),
        _("Staff: {names}").format(names=names([*holders.fixed, *holders.promoted])),
        _("Trainers: {names}").format(names=names(holders.trainers)),
        "",
        _("What would you like to do?"),
    ]), rows([run.button(_("Make someone a trainer"), "srole", "trainer"),
              run.button(_("Make someone staff"), "srole", "staff"),
              run.button(_("Revoke a role"), "srole", "revoke")], width=1))


@ask_action.on_button("srole", ACTIONS)
async def action_chosen(run: Run[RolesData], action: str) -> Outcome:
    await run.ack()
    run.data["action"] = action
    return ask_target


@ROLES.step("sr_target", note=N_("Please type the Telegram user id or @username."))
async def ask_target(run: Run[RolesData]) -> None:
    question = {
        "trainer": _("Who should become a trainer?"),
        "staff": _("Who should become staff?"),
        "revoke": _("Whose role should be revoked?"),
    }[run.data.get("action", "trainer")]
    await run.say(question + "\n" + _(
        "Type their Telegram user id (e.g. 123456789) or @username. They must have written "
        "to the bot before."))


@ask_target.on_text()
async def target_typed(run: Run[RolesData], typed: str) -> Outcome:
    action = run.data.get("action")
    if action not in ACTIONS:
        return ask_action
    staff_ids = run.svc.settings.staff_ids
    found = await find_people(run.svc.sessionmaker, typed)
    fixed = found[0].id if len(found) == 1 else typed_id(typed)
    if fixed is not None and fixed in staff_ids:
        # Checked before "unknown": a STAFF_IDS member may never have written to the bot.
        return run.retry(_(
            "{who} is staff through the bot's settings (STAFF_IDS). That cannot be changed "
            "from the bot.").format(who=_who(found[0]) if found else f"<b>{fixed}</b>"))
    if not found:
        return run.retry(_(
            "I do not know that user. Please check the id or @username. The person must first "
            "write to the bot, e.g. /start."))
    if len(found) > 1:
        run.data["choices"] = [u.id for u in found]
        return ask_which
    return await _chosen(run, found[0])


async def _chosen(run: Run[RolesData], target: User) -> Outcome:
    action = run.data["action"]
    current = target.role.value if target.role else None
    if action == current:
        await run.say(_("{who} already has the role {role}. Nothing was changed.").format(
            who=_who(target), role=role_name(current)))
        return END
    if action == "revoke" and target.role not in GIVEN_BY_STAFF:
        await run.say(_("{who} has no role given by staff (now: {role}). Nothing was "
                        "changed.").format(who=_who(target), role=role_name(current)))
        return END
    run.data["target"] = target.id
    return ask_confirm


@ROLES.step("sr_which", expects=BUTTON)
async def ask_which(run: Run[RolesData]) -> None:
    people = await people_by_id(run.svc.sessionmaker, run.data.get("choices", []))
    await run.say(_("More than one person has that username. Which one?"),
                  rows([run.button(_plain_who(u), "srwho", str(u.id)) for u in people], width=1))


@ask_which.on_button("srwho", lambda value: value.isascii() and value.isdigit())
async def which_chosen(run: Run[RolesData], value: str) -> Outcome:
    if int(value) not in run.data.get("choices", []):
        await run.ack(_("This button is no longer active."))
        return ask_which
    await run.ack()
    people = await people_by_id(run.svc.sessionmaker, [int(value)])
    if not people:
        return ask_target
    return await _chosen(run, people[0])


def _plain_who(user: User) -> str:
    return f"{user.name or user.id} · id {user.id}"


@ROLES.step("sr_confirm", expects=BUTTON)
async def ask_confirm(run: Run[RolesData]) -> None:
    target, after = await person_and_role_after_revoke(run.svc.sessionmaker,
                                                       int(run.data.get("target", 0)))
    if target is None:
        await run.say(_("I do not know that user."))
        return
    now = role_name(target.role.value if target.role else None)
    question = {
        "trainer": _("Make {who} a trainer? Their role now: {role}."),
        "staff": _("Make {who} staff? Their role now: {role}. Staff approve enrolments, send "
                   "broadcasts and give roles."),
        "revoke": _("Revoke the role of {who}? Their role now: {role}. Afterwards: {after}."),
    }[run.data["action"]]
    await run.say(question.format(who=_who(target), role=now,
                                  after=role_name(after.value if after else None)),
                  rows([run.button("✅ " + _("Yes"), "srok", "yes"),
                        run.button("✖ " + _("No"), "srok", "no")]))


@ask_confirm.on_button("srok", ("yes", "no"))
async def confirmed(run: Run[RolesData], answer: str) -> Outcome:
    action, target_id = run.data.get("action"), int(run.data.get("target") or 0)
    if action not in ACTIONS or not target_id:
        await run.ack(_("This button is no longer active."))
        return ask_action
    await run.ack()
    if answer == "no":
        await run.say(_("Nothing was changed."))
        return END
    if target_id in run.svc.settings.staff_ids:
        await run.say(_("That person is staff through the bot's settings (STAFF_IDS). Nothing "
                        "was changed."))
        return END
    changed = await change_role(run.svc.sessionmaker, target_id, action)
    if changed is None:
        await run.say(_("I do not know that user."))
        return END
    target, before, after = changed
    role = after.value if after else None
    if role is None:
        await run.say(_("{who} no longer has a role.").format(who=_who(target)))
    else:
        await run.say(_("{who} now has the role {role}.").format(who=_who(target),
                                                                      role=role_name(role)))
    await run.flush()  # the confirmation first: the target may be this staff member
    await _tell_target(run.context, target, role, before.value if before else None)
    return END


async def _tell_target(context: BotContext, target: User, role: str | None,
                       before: str | None) -> None:
    """Their menu follows the new role, and they hear it in their own language."""
    await set_chat_menu(context.bot, target.id, role, target.language)
    with use_locale(target.language):
        if role == "trainer":
            text = _("You are now a SCORE trainer in this bot. Type /help to see the menu.")
        elif role == "staff":
            text = _("You are now SCORE project staff in this bot. Type /help to see the menu.")
        else:
            text = _("The SCORE team has removed your role in this bot ({role}). Type /help to "
                     "see the menu.").format(role=role_name(before))
        try:
            await context.bot.send_message(target.id, text)
        except TelegramError as exc:
            # They may have blocked the bot; the change stands all the same.
            log.warning("could not tell user=%s of their new role: %s", target.id, exc)
