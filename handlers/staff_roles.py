"""Staff roles and access: the checks every staff action makes, the small conversations staff
run beside the main one, and /staff (make a trainer, make staff, revoke).

Staff are the ids in STAFF_IDS plus users whose stored role is `staff`; the gate works that
out per update (`context.role`). Each staff command checks it when it arrives and each staff
button again when it is pressed, so a revoked staff member's old buttons do nothing.
"""

from __future__ import annotations

import functools
import html
import logging
from collections.abc import Awaitable, Callable

from telegram import Update
from telegram.error import TelegramError

from chat.buttons import NO_NONCE, Keyboard, new_nonce
from chat.context import BotContext
from chat.i18n import N_, _, use_locale
from db.models import Role, User
from db.users import find_user, get_user, membership_role, revoke_role, set_role, users_with_role
from handlers.common import END, ack, rows, send, stale_button
from chat.menu import set_chat_menu

log = logging.getLogger(__name__)

Asker = Callable[[Update, BotContext], Awaitable[None]]
Callback = Callable[[Update, BotContext], Awaitable[str | int | None]]

ROLE_NAMES = {
    "owner": N_("Owner"),
    "admin": N_("Enterprise admin"),
    "worker": N_("Worker"),
    "trainer": N_("Trainer"),
    "staff": N_("Staff"),
}


def role_name(role: str | None) -> str:
    return _(ROLE_NAMES[role]) if role in ROLE_NAMES else _("no role")


# --- access ---------------------------------------------------------------------------------
def is_staff(context: BotContext) -> bool:
    return context.role == "staff"


def log_refused(update: Update, context: BotContext) -> None:
    """A staff action by someone who is not staff: a trace for the team, nothing for them."""
    user_id = update.effective_user.id if update.effective_user else None
    if context.button is not None:
        log.warning("staff button %s from non-staff user=%s ignored", context.button.kind,
                    user_id)
    else:
        log.warning("staff action from non-staff user=%s ignored", user_id)


async def refuse(update: Update, context: BotContext) -> None:
    """Log, then answer as if the staff feature did not exist: a button press gets the stale
    note (so it does not spin), a message the reply any unknown input gets."""
    from handlers.start import stray_message, unknown_command  # start imports the journeys

    log_refused(update, context)
    if update.callback_query is not None:
        await stale_button(update, context)
    elif update.message is not None and (update.message.text or "").startswith("/"):
        await unknown_command(update, context)
    elif update.message is not None:
        await stray_message(update, context)


async def refuse_command(update: Update, context: BotContext, command: str) -> None:
    """Non-staff get exactly what any unknown command gets: staff commands stay unseen."""
    from handlers.start import unknown_command  # start imports the journeys; import late

    log.warning("staff command /%s from non-staff user=%s ignored", command,
                update.effective_user.id if update.effective_user else None)
    await unknown_command(update, context)


async def staff_button_elsewhere(update: Update, context: BotContext) -> None:
    """A button of a staff conversation that is not open (ended, restarted, another process)."""
    if not is_staff(context):
        await refuse(update, context)
        return
    await stale_button(update, context)


# --- a staff conversation of its own --------------------------------------------------------
class Flow:
    """A small conversation beside the main one. A staff member may be in both, so it keeps
    its answers under its own key of `user_data` and signs its buttons with its own nonce;
    the main conversation's keys ("nonce", "step", ...) are never touched."""

    def __init__(self, name: str, key: str, command: str, cancelled: str):
        self.name, self.key, self.command, self.cancelled = name, key, command, cancelled
        self.nonce_key = f"{key}_nonce"
        self.keys = (key, self.nonce_key)
        # step name -> (function that asks it, the note shown when the answer does not fit)
        self.steps: dict[str, tuple[Callable[[Update, BotContext], Awaitable[str]], str]] = {}

    def step(self, name: str, note: str) -> Callable[[Asker], Callable[..., Awaitable[str]]]:
        def register(func: Asker) -> Callable[..., Awaitable[str]]:
            async def ask(update: Update, context: BotContext) -> str:
                self.data(context)["step"] = name
                await func(update, context)
                return name

            self.steps[name] = (ask, note)
            return ask

        return register

    def data(self, context: BotContext) -> dict:
        return context.draft.setdefault(self.key, {})

    def active(self, context: BotContext) -> bool:
        return self.nonce_key in context.draft

    def begin(self, context: BotContext) -> None:
        self.clear(context)
        context.draft[self.nonce_key] = new_nonce()
        context.draft[self.key] = {}

    def clear(self, context: BotContext) -> None:
        for key in self.keys:
            context.draft.pop(key, None)

    def keyboard(self, context: BotContext) -> Keyboard:
        assert context.user_row is not None
        return Keyboard(context.svc.signer, context.user_row.id,
                        context.draft.get(self.nonce_key, NO_NONCE))

    def fresh(self, context: BotContext) -> bool:
        """The pressed button belongs to this conversation as it is now."""
        button = context.button
        return button is not None and button.nonce == context.draft.get(self.nonce_key)

    async def reask(self, update: Update, context: BotContext,
                    note: str | None = None) -> str | int:
        current = self.data(context).get("step")
        if current not in self.steps:
            await self.expired(update, context)
            return END
        if note:
            await send(update, context, note)
        return await self.steps[current][0](update, context)

    async def expired(self, update: Update, context: BotContext) -> None:
        await ack(update)
        self.clear(context)
        await send(update, context, _("This is no longer open. Please start again with "
                                      "/{command}.").format(command=self.command))

    def guard(self, callback: Callback) -> Callback:
        """Staff only, checked again at every answer; and only while the draft exists."""

        @functools.wraps(callback)
        async def guarded(update: Update, context: BotContext) -> str | int | None:
            if not is_staff(context):
                self.clear(context)
                await refuse(update, context)
                return END
            if not self.active(context):
                await self.expired(update, context)
                return END
            return await callback(update, context)

        return guarded

    # Fallbacks, wrapped with guard() where they are registered (bot/app.py).
    async def cancel(self, update: Update, context: BotContext) -> int:
        self.clear(context)
        await send(update, context, _(self.cancelled))
        return END

    async def help(self, update: Update, context: BotContext) -> str | int:
        from handlers.start import help_command

        await help_command(update, context)
        return await self.reask(update, context)

    async def other_command(self, update: Update, context: BotContext) -> str | int:
        return await self.reask(update, context, _("Please answer the question first, or "
                                                   "/cancel."))

    async def stale(self, update: Update, context: BotContext) -> str | int:
        await stale_button(update, context)
        return await self.reask(update, context)

    async def wrong_input(self, update: Update, context: BotContext) -> str | int:
        current = self.data(context).get("step")
        note = self.steps[current][1] if current in self.steps else None
        return await self.reask(update, context, _(note) if note else None)


ROLES = Flow("staff_roles", "sr", "staff", N_("Cancelled. No role was changed."))
ACTIONS = ("trainer", "staff", "revoke")


def _who(user: User) -> str:
    name = html.escape(user.name) if user.name else str(user.id)
    handle = f"@{html.escape(user.username)}, " if user.username else ""
    return f"<b>{name}</b> ({handle}id {user.id})"


async def staff_command(update: Update, context: BotContext) -> str | int:
    if not is_staff(context):
        await refuse_command(update, context, "staff")
        return END
    ROLES.begin(context)
    return await ask_action(update, context)


@ROLES.step("sr_menu", N_("Please choose one of the buttons below."))
async def ask_action(update: Update, context: BotContext) -> None:
    svc = context.svc
    async with svc.sessionmaker() as session:
        fixed = [await get_user(session, sid) or sid for sid in sorted(svc.settings.staff_ids)]
        promoted = [u for u in await users_with_role(session, Role.STAFF)
                    if not svc.is_staff_id(u.id)]
        staff = [*fixed, *promoted]
        trainers = await users_with_role(session, Role.TRAINER)

    def names(people: list) -> str:
        return ", ".join(html.escape(p.name or str(p.id)) if isinstance(p, User) else str(p)
                         for p in people) or "–"

    kb = ROLES.keyboard(context)
    await send(update, context, "\n".join([
        _("<b>Roles</b>"),
        _("Staff: {names}").format(names=names(staff)),
        _("Trainers: {names}").format(names=names(trainers)),
        "",
        _("What would you like to do?"),
    ]), rows([kb.button(_("Make someone a trainer"), "srole", "trainer"),
              kb.button(_("Make someone staff"), "srole", "staff"),
              kb.button(_("Revoke a role"), "srole", "revoke")], width=1))


async def action_chosen(update: Update, context: BotContext) -> str | int | None:
    button = context.button
    assert button is not None
    if not ROLES.fresh(context) or button.value not in ACTIONS:
        return await ROLES.stale(update, context)
    await ack(update)
    ROLES.data(context)["action"] = button.value
    return await ask_target(update, context)


@ROLES.step("sr_target", N_("Please type the Telegram user id or @username."))
async def ask_target(update: Update, context: BotContext) -> None:
    question = {
        "trainer": _("Who should become a trainer?"),
        "staff": _("Who should become staff?"),
        "revoke": _("Whose role should be revoked?"),
    }[ROLES.data(context).get("action", "trainer")]
    await send(update, context, question + "\n" + _(
        "Type their Telegram user id (e.g. 123456789) or @username. They must have written "
        "to the bot before."))


async def target_typed(update: Update, context: BotContext) -> str | int | None:
    data = ROLES.data(context)
    action = data.get("action")
    if action not in ACTIONS:
        return await ROLES.reask(update, context)
    typed = (update.message.text if update.message else "") or ""
    async with context.svc.sessionmaker() as session:
        target = await find_user(session, typed)
    fixed = target.id if target else int(typed.strip()) if typed.strip().isdigit() else None
    if fixed is not None and context.svc.is_staff_id(fixed):
        # Checked before "unknown": a STAFF_IDS member may never have written to the bot.
        return await ROLES.reask(update, context, _(
            "{who} is staff through the bot's settings (STAFF_IDS). That cannot be changed "
            "from the bot.").format(who=_who(target) if target else f"<b>{fixed}</b>"))
    if target is None:
        return await ROLES.reask(update, context, _(
            "I do not know that user. Please check the id or @username; the person must "
            "first write to the bot, e.g. /start."))
    current = target.role.value if target.role else None
    if action == current:
        ROLES.clear(context)
        await send(update, context, _("{who} already has the role {role}. Nothing was "
                                      "changed.").format(who=_who(target),
                                                         role=role_name(current)))
        return END
    if action == "revoke" and current not in ("trainer", "staff"):
        ROLES.clear(context)
        await send(update, context, _("{who} has no role given by staff (now: {role}). "
                                      "Nothing was changed.").format(who=_who(target),
                                                                     role=role_name(current)))
        return END
    data["target"] = target.id
    return await ask_confirm(update, context)


@ROLES.step("sr_confirm", N_("Please choose one of the buttons below."))
async def ask_confirm(update: Update, context: BotContext) -> None:
    data = ROLES.data(context)
    async with context.svc.sessionmaker() as session:
        target = await get_user(session, int(data.get("target", 0)))
        after = await membership_role(session, target.id) if target else None
    if target is None:
        await send(update, context, _("I do not know that user."))
        return
    now = role_name(target.role.value if target.role else None)
    question = {
        "trainer": _("Make {who} a trainer? Their role now: {role}."),
        "staff": _("Make {who} staff? Their role now: {role}. Staff approve enrolments, send "
                   "broadcasts and give roles."),
        "revoke": _("Revoke the role of {who}? Their role now: {role}. Afterwards: {after}."),
    }[data["action"]]
    kb = ROLES.keyboard(context)
    await send(update, context,
               question.format(who=_who(target), role=now,
                               after=role_name(after.value if after else None)),
               rows([kb.button("✅ " + _("Yes"), "srok", "yes"),
                     kb.button("✖ " + _("No"), "srok", "no")]))


async def confirmed(update: Update, context: BotContext) -> str | int | None:
    button = context.button
    assert button is not None
    data = ROLES.data(context)
    if not ROLES.fresh(context) or button.value not in ("yes", "no") or \
            data.get("action") not in ACTIONS or not data.get("target"):
        return await ROLES.stale(update, context)
    await ack(update)
    action, target_id = data["action"], int(data["target"])
    ROLES.clear(context)
    if button.value == "no":
        await send(update, context, _("Nothing was changed."))
        return END
    if context.svc.is_staff_id(target_id):
        await send(update, context, _("That person is staff through the bot's settings "
                                      "(STAFF_IDS). Nothing was changed."))
        return END
    async with context.svc.sessionmaker() as session, session.begin():
        target = await get_user(session, target_id)
        if target is None:
            await send(update, context, _("I do not know that user."))
            return END
        before = target.role.value if target.role else None
        if action == "revoke":
            new = await revoke_role(session, target_id)
        else:
            new = Role(action)
            await set_role(session, target_id, new)
    role = new.value if new else None
    await send(update, context, _("Done: {who} now has the role {role}.").format(
        who=_who(target), role=role_name(role)))
    await _tell_target(context, target, role, before)
    return END


async def _tell_target(context: BotContext, target: User, role: str | None,
                       before: str | None) -> None:
    """Their menu follows the new role, and they hear it in their own language."""
    await set_chat_menu(context.bot, target.id, role, target.language)
    with use_locale(target.language):
        if role == "trainer":
            text = _("You are now a SCORE trainer in this bot. /help shows what you can do.")
        elif role == "staff":
            text = _("You are now SCORE project staff in this bot. /help shows what you can "
                     "do.")
        else:
            text = _("The SCORE team has removed your role in this bot ({role}). /help "
                     "shows what you can do.").format(role=role_name(before))
        try:
            await context.bot.send_message(target.id, text)
        except TelegramError as exc:
            # They may have blocked the bot; the change stands all the same.
            log.warning("could not tell user=%s of their new role: %s", target.id, exc)
