"""First contact: greeting, language, consent, then what the user wants to do first; and
/language at any time."""

from __future__ import annotations

from typing import TypedDict

from telegram import Update

from chat.access import has_no_role
from chat.context import BotContext
from chat.flow import BUTTON, END, Flow, Outcome, Run, current_state
from chat.i18n import N_, _, set_locale
from chat.keyboards import language_buttons
from chat.menu import set_chat_menu
from chat.reply import ack, chat_id_of, rows, send
from db.onboarding import choose_language, record_consent
from domain.join_codes import looks_like_code, parse_start_payload
from domain.roles import Role
from handlers import enrol, join
from handlers.role_help import role_help

LANGUAGES = ("id", "en")



class StartData(TypedDict, total=False):
    pending_join: str     # a join code, waiting through language and consent
    pending_invite: str   # an admin invite's token, likewise
    new: bool             # no consent yet when it began: greeted as a newcomer


FIRST_CONTACT: Flow[StartData] = Flow("start", command="start", cancelled=N_(
    "Cancelled. Nothing was saved. Type /help to see the menu."))


def opens_a_link(context: BotContext) -> bool:
    """/start with a join code or an admin invite: the user just scanned or tapped it, so it
    replaces whatever question was open."""
    args = context.args or []
    return bool(args) and parse_start_payload(args[0]) is not None


def choosing_role(context: BotContext) -> bool:
    """At the role question, /enrol or /join is the answer typed rather than tapped: the
    guides say "choose the owner button, or send /enrol"."""
    state = current_state(context)
    return (state is not None and state.get("name") == FIRST_CONTACT.name
            and state.get("step") == "role")


@FIRST_CONTACT.entry
async def begin(run: Run[StartData], code: str | None = None) -> Outcome:
    """/start (with a link's payload or without), or a newcomer's first message being the
    code from the poster: the code waits through language and consent."""
    payload = parse_start_payload(run.args[0]) if run.args else None
    if code is not None:
        run.data["pending_join"] = code
    elif payload and payload[0] == "join":
        run.data["pending_join"] = payload[1]
    elif payload and payload[0] == "admin":
        run.data["pending_invite"] = payload[1]
    user = run.context.user_row
    assert user is not None
    if user.consent_at is None:
        run.data["new"] = True
        # Declined before: the language was chosen then, so /start asks for consent again.
        return ask_consent if user.consent_declined_at is not None else ask_language
    return await after_consent(run)


@FIRST_CONTACT.step("lang", expects=BUTTON)
async def ask_language(run: Run[StartData]) -> None:
    # Welcomed once: asked again, the question alone follows the note.
    text = (_("Please choose your language.") if run.asked_again else
            _("Welcome to SCORE Assistant, the assistant of the ILO SCORE programme.\n"
              "Please choose your language."))
    await run.say(text, rows(language_buttons(run.keyboard(), "lang")))


@ask_language.on_button("lang", LANGUAGES)
async def language_chosen_first(run: Run[StartData], language: str) -> Outcome:
    await run.ack()
    await _set_language(run.update, run.context, language)
    return ask_consent


@FIRST_CONTACT.step("consent", expects=BUTTON)
async def ask_consent(run: Run[StartData]) -> None:
    await run.say(_("To help you, I keep your name and what you tell me about your enterprise, "
                    "for the ILO SCORE programme. /privacy explains what and why.\n"
                    "Do you agree?"),
                  rows([run.button(_("Yes, I agree"), "consent", "yes"),
                        run.button(_("No"), "consent", "no")]))


@ask_consent.on_button("consent", ("yes", "no"))
async def consent_chosen(run: Run[StartData], answer: str) -> Outcome:
    await run.ack()
    user = run.update.effective_user
    assert user is not None
    now = run.svc.clock.now()
    await record_consent(run.svc.sessionmaker, user.id, agreed=answer == "yes",
                         name=user.full_name, username=user.username, now=now)
    row = run.context.user_row
    assert row is not None
    if answer == "yes":
        # The rest of this update (a join link waiting for consent) sees the consent.
        row.consent_at = now
    if answer != "yes":
        await run.say(_("Understood. I keep nothing about you but your language.\nWithout your "
                        "consent I cannot enrol an enterprise or link you to your workplace. You "
                        "can agree at any time with /start."))
        return END
    return await after_consent(run)


async def after_consent(run: Run[StartData]) -> Outcome:
    if (code := run.data.pop("pending_join", None)) is not None:
        return await join.JOIN.switch(run, code=code)
    if (token := run.data.pop("pending_invite", None)) is not None:
        # A link already used or not valid: someone without a role goes on as anyone new.
        return await join.accept_invite(
            run, token, not_valid=ask_role if run.context.role is None else END)
    if run.context.role is None:
        return ask_role
    greeting = (_("Welcome! Here is what you can do:") if run.data.get("new")
                else _("Welcome back! Here is what you can do:"))
    await run.say(greeting + "\n" + role_help(run.context.role))
    return END


# Only for someone without a role: promoted by staff meanwhile, they hear what they can do
# as trainer or staff instead (the router ends the flow).
@FIRST_CONTACT.step("role", expects=BUTTON, allowed=has_no_role)
async def ask_role(run: Run[StartData]) -> None:
    # What they want to do first: the role follows what they then do, so nothing is locked.
    await run.say(_("Are you here to enrol your enterprise, or to join your workplace as a "
                    "worker? You can do the other later."),
                  rows([run.button(_("Owner / head of an enterprise"), "role", "owner"),
                        run.button(_("Employee / worker"), "role", "worker")], width=1))


@ask_role.on_button("role", ("owner", "worker"))
async def role_chosen(run: Run[StartData], value: str) -> Outcome:
    """What the user wants to do first. It locks nothing: the role follows what they do
    (enrolling makes an owner, joining a worker), so a wrong tap is undone by /cancel."""
    await run.ack()
    if value == Role.OWNER.value:
        return await enrol.ENROL.switch(run)
    return await join.JOIN.switch(run)


@ask_role.on_text()
async def role_typed(run: Run[StartData], text: str) -> Outcome:
    """At the role question, a worker often types the code from the poster straight away."""
    if looks_like_code(text):
        return await join.JOIN.switch(run, code=text)
    return run.retry(_("Please choose one of the buttons below."))


# --- /language, at any time ------------------------------------------------------------------
async def language_command(update: Update, context: BotContext) -> None:
    """/language and /bahasa; inside a flow too (the open question is asked again after)."""
    assert context.user_row is not None
    await send(update, context, _("Choose your language."),
               rows(language_buttons(context.keyboard(), "setlang")))


async def language_chosen(update: Update, context: BotContext) -> None:
    """A language button of /language (the router asks the open question again after)."""
    button = context.button
    assert button is not None
    if button.value not in LANGUAGES:
        await ack(update)
        return
    await ack(update)
    await _set_language(update, context, button.value)
    await send(update, context, _("OK, from now on I will write in English."))


async def _set_language(update: Update, context: BotContext, language: str) -> None:
    user = context.user_row
    assert user is not None
    await choose_language(context.svc.sessionmaker, user.id, language)
    user.language = language
    set_locale(language)
    await set_chat_menu(context.bot, chat_id_of(update), context.role, language)
