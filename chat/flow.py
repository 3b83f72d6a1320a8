"""Conversations as declared flows, and the one router that runs them.

A flow is a named conversation: who may use it, the command that starts it, its steps. A step
is declared once: the function that asks it, and what it accepts (buttons of given kinds and
values, text checked by a parser from `domain/`, a shared contact), each with the function
that takes the answer and says what comes next. Everything around the steps is done here, the
same for every flow:

- asking the open question again after input that does not fit, after /help or /privacy,
  and after a language change; answering stale buttons (an earlier step's, an ended run's);
  answering every button press, once, whatever the code it reached did;
- /start, or the open flow's own command, while a question is open shows that question
  again, plainly (Telegram's "Restart bot" sends /start), unless /start itself begins
  something there (a link just opened);
- who may use the flow (and a step, where it says), checked when it starts and again at
  every answer and button press: refused at the start (unseen, or with the flow's own
  `refused` text); failing in the middle, because staff changed the user's role meanwhile,
  the flow ends and the user hears what they can do in their role now;
- /cancel (from a field edited out of a summary: back to the summary unchanged; otherwise
  the flow ends and keeps nothing), any other command ("answer the question first");
- one flow open per user: starting another one (a command, a reminder's button) while a
  question is open says to finish it first, and the open question stays answerable.

A user's open flow lives in the draft (`user_data["flow"]`: name, step, nonce, answers), which
the persistence commits after every update, so a restart continues at the same question. It
is deleted on /cancel, when the flow ends, and after 14 days (`jobs/drafts.py`); PTB's
ConversationHandler and its in-memory timeouts are not used.

Each flow declares the type of its answers, a `TypedDict(total=False)`: `Flow[OrderData]`,
whose steps take a `Run[OrderData]`, whose `data` mypy checks key by key. It is a type only:
the answers stay a plain JSON dict in the draft.

Each run of a flow has its own nonce, signed into its buttons (`chat/buttons.py`): a button of
another run, or of another step of this run, never reaches a step's code.
"""

from __future__ import annotations

import copy
import inspect
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Generic, TypeVar, Union, cast

from telegram import InlineKeyboardButton, Message, Update

from chat.buttons import NO_NONCE, Keyboard, new_nonce
from chat.context import BotContext, Services
from chat.i18n import _
from chat.reply import Markup, ack, edit_pressed, flush, holding, lead, send, stale_button

log = logging.getLogger(__name__)

DRAFT_KEY = "flow"
# Set on a user's draft when jobs/drafts.py deleted an unfinished flow, so that their next
# message is told why the question they were answering is gone.
EXPIRED_KEY = "expired"


# --- what a step's code returns ------------------------------------------------------------
class _Signal:
    def __init__(self, name: str):
        self.name = name

    def __repr__(self) -> str:
        return self.name


END = _Signal("END")    # the flow is over: its draft is cleared
STAY = _Signal("STAY")  # same step, nothing asked again (e.g. a box ticked in place)


@dataclass(frozen=True)
class Retry:
    """Say why the answer did not fit, then ask the open question again."""

    note: str | None = None


# A flow's answers: a TypedDict(total=False) of what its steps keep in `run.data`.
D = TypeVar("D")

Asker = Callable[["Run[D]"], Awaitable[None]]
Allowed = Callable[[BotContext], bool]


def anyone(_context: BotContext) -> bool:
    return True


# --- steps ---------------------------------------------------------------------------------
# What a step expects, for the note after input of the wrong kind.
TEXT, BUTTON, PHONE = "text", "button", "phone"


def _expected_note(expects: str) -> str:
    if expects == BUTTON:
        return _("Please choose one of the buttons below.")
    if expects == PHONE:
        return _("Please share your number with the button, or type it.")
    return _("Please answer with text.")


Parser = Callable[[str | None], tuple[Any, str | None]]
# What a step's code returns: the next step to ask, END, STAY, or Retry(note). Nothing (None)
# is a mistake in the step's code, not a way to stay.
Outcome = Union["Step[Any]", _Signal, Retry]
Handler = Callable[["Run[D]", Any], Awaitable[Outcome]]


@dataclass
class _ButtonAnswer(Generic[D]):
    accepts: Callable[[Run[D], str], bool]
    handler: Handler[D]


@dataclass
class _TextAnswer(Generic[D]):
    parse: Parser | None
    errors: Mapping[str, str]
    handler: Handler[D]


class Step(Generic[D]):
    """One question of a flow: how it is asked and what answers it takes."""

    def __init__(self, flow: Flow[D], name: str, ask: Asker[D], expects: str,
                 note: str | Callable[[Run[D]], str] | None, repeat: bool,
                 allowed: Allowed | None = None):
        self.flow, self.name, self._ask = flow, name, ask
        self.expects, self.note, self.repeat = expects, note, repeat
        self.allowed = allowed
        self.buttons: dict[str, _ButtonAnswer[D]] = {}
        self.text: _TextAnswer[D] | None = None
        self.contact: Handler[D] | None = None
        self.location: Handler[D] | None = None

    async def ask(self, run: Run[D]) -> None:
        run.state["step"] = self.name
        await self._ask(run)

    def on_button(self, kind: str, values: Iterable[str] | Callable[[str], bool] | None = None,
                  *, offered: Callable[[Run[D], str], bool] | None = None
                  ) -> Callable[[Handler[D]], Handler[D]]:
        """The step's buttons of `kind`; a value outside `values` is treated as stale. When
        what the step offers depends on the run (a survey question's choices, the months a
        baseline may describe), `offered(run, value)` says whether this run offered it."""
        if offered is not None:
            accepts = offered
        elif callable(values):
            check = values

            def accepts(_run: Run[D], value: str) -> bool:
                return check(value)
        elif values is None:
            def accepts(_run: Run[D], _value: str) -> bool:
                return True
        else:
            allowed = frozenset(values)

            def accepts(_run: Run[D], value: str) -> bool:
                return value in allowed

        def register(handler: Handler[D]) -> Handler[D]:
            self.buttons[kind] = _ButtonAnswer(accepts, handler)
            self.flow.kinds.add(kind)
            return handler

        return register

    def on_text(self, parse: Parser | None = None, errors: Mapping[str, str] | None = None,
                ) -> Callable[[Handler[D]], Handler[D]]:
        """Typed answers. `parse` (from domain/) returns (value, error key); the note for an
        error key comes from `errors` (marked with N_, translated when shown; "*" for any
        other key)."""

        def register(handler: Handler[D]) -> Handler[D]:
            self.text = _TextAnswer(parse, errors or {}, handler)
            return handler

        return register

    def on_contact(self, handler: Handler[D]) -> Handler[D]:
        self.contact = handler
        return handler

    def on_location(self, handler: Handler[D]) -> Handler[D]:
        """A map pin shared from Telegram (a workshop's venue): the handler gets the
        Location."""
        self.location = handler
        return handler

    def wrong_kind_note(self, run: Run[D]) -> str:
        if callable(self.note):
            return self.note(run)
        return _(self.note) if self.note else _expected_note(self.expects)

    def __repr__(self) -> str:
        return f"<Step {self.flow.name}.{self.name}>"


# --- flows ---------------------------------------------------------------------------------
Entry = Callable[..., Awaitable[Outcome]]


class Flow(Generic[D]):
    """A conversation: its name, who may use it, how it starts, and its steps; `D`, the type
    of its answers (`run.data`).

    - `command`: the command that starts it (without the slash), if any.
    - `allowed`: who may use it; checked when it starts and at every answer and button.
    - `refused`: what someone it does not allow hears when they try to start it (marked
      with N_, or a function of the context, which may be async when it reads the
      database); without it they get the reply to unknown input, so staff tools stay unseen.
    - `cancelled`: what /cancel says (marked with N_), or a function of the run.
    - `reentry`: its own command while it is open starts it afresh.
    - `lifetime`: a run not answered within this time is dropped at the next update.
    """

    def __init__(self, name: str, *, command: str | None = None, allowed: Allowed = anyone,
                 cancelled: str | Callable[[Run[D]], str], reentry: bool = False,
                 lifetime: timedelta | None = None,
                 refused: str | Callable[[BotContext], str | Awaitable[str]] | None = None):
        self.name, self.command, self.allowed = name, command, allowed
        self.refused = refused
        self.cancelled, self.reentry, self.lifetime = cancelled, reentry, lifetime
        self.steps: dict[str, Step[D]] = {}
        self.kinds: set[str] = set()
        self._entry: Entry | None = None

    def step(self, name: str, *, expects: str = TEXT,
             note: str | Callable[[Run[D]], str] | None = None, repeat: bool = True,
             allowed: Allowed | None = None) -> Callable[[Asker[D]], Step[D]]:
        """Declare a step by the function that asks it. `note` replaces the default note for
        input of the wrong kind (marked with N_, or a function of the run); with
        `repeat=False` a note is not followed by the question (the note asks it). `allowed`:
        who may answer it, besides the flow's own check (the role question of first contact
        is only for someone without a role)."""

        def register(ask: Asker[D]) -> Step[D]:
            if name in self.steps:
                raise ValueError(f"step {name} declared twice in flow {self.name}")
            step = Step(self, name, ask, expects, note, repeat, allowed)
            self.steps[name] = step
            return step

        return register

    def cancelled_text(self, run: Run[D]) -> str:
        """What /cancel says, in the user's language."""
        return self.cancelled(run) if callable(self.cancelled) else _(self.cancelled)

    def entry(self, func: Entry) -> Entry:
        """The function that opens a run: it may seed the answers and returns the first step
        (or END, having said why the flow cannot start)."""
        self._entry = func
        return func

    async def start(self, update: Update, context: BotContext, **seed: Any) -> None:
        """Open a run of this flow for the user, unless another flow's question is open."""
        open_state = current_state(context)
        if open_state is not None and not (open_state["name"] == self.name and self.reentry):
            await _finish_first(update, context)
            return
        await self._open(update, context, seed)

    def starter(self, seed: str) -> Callable[[Update, BotContext], Awaitable[None]]:
        """An action for a button that opens this flow: the button's value is the entry's
        `seed` argument (Reject on a staff notice opens the reason, with the enterprise). The
        press is answered by the router, once, whatever the entry does; an entry answers it
        itself only to say something in the popup (`run.ack(note)`)."""

        async def start(update: Update, context: BotContext) -> None:
            button = context.button
            assert button is not None, "an action runs for a verified button"
            await self.start(update, context, **{seed: button.value})

        return start

    async def switch(self, run: Run[Any], **seed: Any) -> _Signal:
        """From inside another flow: end that one and continue in this one (first contact
        hands over to enrolment or joining)."""
        clear(run.context)  # ended even when this one refuses the user
        await self._open(run.update, run.context, seed)
        return _HANDED_OVER

    async def _open(self, update: Update, context: BotContext, seed: Mapping[str, Any]) -> None:
        assert self._entry is not None, f"flow {self.name} has no entry"
        if not self.allowed(context):
            if self.refused is None:
                await refuse(update, context, what=self.command or self.name)
            else:
                await ack(update)
                text = self.refused(context) if callable(self.refused) else _(self.refused)
                await send(update, context, await text if inspect.isawaitable(text) else text)
            return
        state: dict[str, Any] = {"name": self.name, "nonce": new_nonce(), "step": None, "data": {},
                 "started": context.svc.clock.now().isoformat()}
        context.draft[DRAFT_KEY] = state
        run: Run[D] = Run(self, update, context, state)
        outcome = await self._entry(run, **seed)
        await run.apply(outcome)

    def __repr__(self) -> str:
        return f"<Flow {self.name}>"


_HANDED_OVER = _Signal("HANDED_OVER")


def current_state(context: BotContext) -> dict[str, Any] | None:
    state = context.draft.get(DRAFT_KEY)
    return state if isinstance(state, dict) else None


def clear(context: BotContext) -> None:
    context.draft.pop(DRAFT_KEY, None)


# --- a run: the open flow, seen from inside one update --------------------------------------
class Run(Generic[D]):
    """What a step's code works with: the update, the user's answers, and replying."""

    def __init__(self, flow: Flow[D], update: Update, context: BotContext, state: dict[str, Any]):
        self.flow, self.update, self.context, self.state = flow, update, context, state
        # The open question is being shown again (after wrong input, /help, /start): its
        # step may leave out what only its first asking says (a greeting).
        self.asked_again = False

    @property
    def data(self) -> D:
        """This run's answers (the flow's part of the draft): a plain dict, typed as the
        flow declares it."""
        return cast(D, self.state.setdefault("data", {}))

    @property
    def svc(self) -> Services:
        return self.context.svc

    @property
    def user_id(self) -> int:
        user = self.update.effective_user
        assert user is not None
        return user.id

    @property
    def args(self) -> list[str]:
        return list(self.context.args or [])

    @property
    def step(self) -> Step[D] | None:
        return self.flow.steps.get(self.state.get("step") or "")

    def may_go_on(self) -> bool:
        """Whether the user may still use this flow and answer its open step: staff may have
        changed their role since it was asked."""
        step = self.step
        return self.flow.allowed(self.context) and (
            step is None or step.allowed is None or step.allowed(self.context))

    def keyboard(self) -> Keyboard:
        return Keyboard(self.svc.signer, self.user_id, self.state["nonce"])

    def button(self, label: str, kind: str, value: str = "") -> InlineKeyboardButton:
        """A button of this run: pressed later, it reaches the open step only."""
        return self.keyboard().button(label, kind, value)

    async def say(self, text: str, markup: Markup | None = None) -> None:
        """Reply. Text without buttons is held to lead the next message of this update (the
        question that follows a "Thank you."), and sent alone when the update is done:
        one message per update where one can say it (chat/reply.py)."""
        await send(self.update, self.context, text, markup, hold=True)

    async def flush(self) -> None:
        """Send held text now: before calling the Bot API directly (a photo, a preview)."""
        await flush(self.update, self.context)

    async def ack(self, text: str | None = None) -> None:
        await ack(self.update, text)

    def retry(self, note: str | None = None) -> Retry:
        return Retry(note)

    def wait(self, step: Step[D]) -> _Signal:
        """Wait for an answer to `step` without asking it again (the reply just sent says
        what to send)."""
        self.go_to(step)
        return STAY

    def go_to(self, step: Step[D]) -> None:
        """From now on `step` is the open one, not asked yet: what the code returns next
        (a retry, STAY) is about it."""
        self.state["step"] = step.name

    # Editing one field from a summary: its step is asked, then the summary again; /cancel
    # meanwhile restores the answers as they were.
    def edit(self, step: Step[D], back: Step[D]) -> Step[D]:
        self.state["edit"] = {"back": back.name, "saved": copy.deepcopy(self.data)}
        return step

    @property
    def editing(self) -> bool:
        """Whether one field is being changed from a summary (`edit`)."""
        return "edit" in self.state

    def edit_kept(self) -> None:
        """The field's new answer stands: no /cancel back to the answers as they were, and
        the next answer goes on as the flow does (not back to the summary)."""
        self.state.pop("edit", None)

    def then(self, following: Step[D]) -> Step[D]:
        """After an answer: the summary again when editing, else the following step."""
        edit = self.state.pop("edit", None)
        if edit is not None:
            return self.flow.steps[edit["back"]]
        return following

    async def apply(self, outcome: Outcome) -> None:
        if outcome is _HANDED_OVER or current_state(self.context) is not self.state:
            return  # another flow took over, or the step's code already ended this one
        if outcome is END:
            clear(self.context)
        elif isinstance(outcome, Step):
            await outcome.ask(self)
        elif isinstance(outcome, Retry):
            await self.reask(outcome.note)
        elif outcome is not STAY:
            raise TypeError(f"{self.step}: the step's code returned {outcome!r}, not an "
                            "Outcome (a Step, END, STAY or a retry)")

    async def resume(self) -> None:
        """Show the open question again, plainly, without a note on what was sent: /start
        while it is open (Telegram's "Restart bot", or a returning user's first message)."""
        step = self.step
        assert step is not None, "a run of the router is at a step"
        lead(self.update, _("Let's continue where we left off."))
        self.asked_again = True
        await step.ask(self)

    async def reask(self, note: str | None = None, *, in_place: bool = False) -> None:
        """Ask the open question again, `note` (what was wrong) as its first line: one
        message. `in_place`: in the message whose button was pressed (a stale button of
        this flow), where Telegram allows it."""
        step = self.step
        if step is None:  # a run that never asked anything: nothing to show again
            if note:
                await self.say(note)
            clear(self.context)
            return
        if note:
            lead(self.update, note)
            if not step.repeat:
                return  # the note asks the question itself (sent when the update is done)
        if in_place:
            edit_pressed(self.update)
        self.asked_again = True
        await step.ask(self)


# --- refusing ------------------------------------------------------------------------------
async def refuse(update: Update, context: BotContext, *, what: str) -> None:
    """Someone used what their role does not allow: a trace for the team, and for them the
    answer any unknown input gets, so staff features stay unseen."""
    user_id = update.effective_user.id if update.effective_user else None
    if update.callback_query is not None:
        kind = context.button.kind if context.button else "?"
        log.warning("staff button %s from non-staff user=%s ignored", kind, user_id)
        await stale_button(update)
        return
    log.warning("staff action /%s from non-staff user=%s ignored", what, user_id)
    text = update.message.text if update.message else None
    if text and text.startswith("/"):
        await router_of(context).unknown_command(update, context)
    else:
        # Not the stray-message fallback: what was typed for a staff question must not be
        # taken as anything else (a join code, say).
        await send(update, context, _("I did not understand that. Type /help to see the menu."))


async def _finish_first(update: Update, context: BotContext) -> None:
    await ack(update)
    await reask_open(update, context, _("Please finish this first. Type /cancel to stop."))


async def reask_open(update: Update, context: BotContext, note: str | None = None) -> bool:
    """Ask the open flow's question again (after /help, a language change, a reminder);
    False when no flow is open."""
    run = router_of(context).run_of(update, context)
    if run is None:
        return False
    await run.reask(note)
    return True


# --- the router ----------------------------------------------------------------------------
Plain = Callable[[Update, BotContext], Awaitable[None]]


async def _nothing(_update: Update, _context: BotContext) -> None:
    return None


@dataclass
class Command:
    handler: Plain
    # What it does while a flow's question is open: "answer" (say to answer first and ask
    # again), "reask" (run it, then ask the open question again), "run" (just run it).
    in_flow: str = "answer"
    allowed: Allowed = anyone
    # Used while a flow is open, it abandons that flow (a deep link the user just opened).
    interrupts: Callable[[BotContext], bool] | None = None
    # The flow it starts, if any: used again while that flow is open, a reentry restarts it.
    flow: Flow[Any] | None = None


@dataclass
class Action:
    """A button that belongs to no flow (Approve on a staff notice, a language choice, a
    reminder's button): it runs whenever pressed, if its presser may use it."""

    handler: Plain
    allowed: Allowed = anyone
    # Ask the open flow's question again afterwards (a language change).
    reask: bool = False
    # Refused while a flow's question is open ("finish this first"), as a flow's starter
    # is: an answer to an invitation that changes what is stored, mid-conversation.
    outside_flows: bool = False


@dataclass
class Router:
    """Every update of a private chat that passed the gate comes here (one PTB handler in
    group 0): to the open flow's step, a command, a button's action, or a fallback."""

    unknown_command: Plain = _nothing
    stray_message: Plain = _nothing
    # The open flow ended because the user's role changed (say what they can do now).
    role_changed: Plain = _nothing
    flows: dict[str, Flow[Any]] = field(default_factory=dict)
    commands: dict[str, Command] = field(default_factory=dict)
    actions: dict[str, Action] = field(default_factory=dict)
    _kind_owner: dict[str, Flow[Any] | Action] = field(default_factory=dict)

    # --- registration, from the wiring ------------------------------------------------------
    def add_flow(self, flow: Flow[Any], *, interrupts: Callable[[BotContext], bool] | None = None
                 ) -> None:
        if flow.name in self.flows:
            raise ValueError(f"flow {flow.name} registered twice")
        self.flows[flow.name] = flow
        for kind in flow.kinds:
            self._own(kind, flow)
        if flow.command:
            async def start(update: Update, context: BotContext, flow: Flow[Any] = flow) -> None:
                await flow.start(update, context)

            # A flow that says why it refuses someone checks them itself, when it opens.
            allowed = flow.allowed if flow.refused is None else anyone
            self.add_command(flow.command, start, allowed=allowed, interrupts=interrupts)
            self.commands[flow.command].flow = flow

    def add_command(self, names: str | Iterable[str], handler: Plain, *, in_flow: str = "answer",
                    allowed: Allowed = anyone,
                    interrupts: Callable[[BotContext], bool] | None = None) -> None:
        for name in [names] if isinstance(names, str) else names:
            if name in self.commands:
                raise ValueError(f"command /{name} registered twice")
            self.commands[name] = Command(handler, in_flow, allowed, interrupts)

    def add_action(self, kind: str, handler: Plain, *, allowed: Allowed = anyone,
                   reask: bool = False, outside_flows: bool = False) -> None:
        action = Action(handler, allowed, reask, outside_flows)
        self.actions[kind] = action
        self._own(kind, action)

    def _own(self, kind: str, owner: Flow[Any] | Action) -> None:
        if kind in self._kind_owner and self._kind_owner[kind] is not owner:
            raise ValueError(f"button kind {kind} has two owners")
        self._kind_owner[kind] = owner

    # --- the open flow ---------------------------------------------------------------------
    def run_of(self, update: Update, context: BotContext) -> Run[Any] | None:
        state = current_state(context)
        if state is None:
            return None
        flow = self.flows.get(state.get("name", ""))
        if flow is None or state.get("step") not in flow.steps:
            clear(context)  # a flow renamed or removed since the draft was written
            return None
        if flow.lifetime is not None and _older_than(state, flow.lifetime, context):
            clear(context)
            return None
        return Run(flow, update, context, state)

    # --- dispatching: one PTB handler in group 0 calls this for every update ----------------
    async def dispatch(self, update: Update, context: BotContext) -> None:
        try:
            await self._dispatch(update, context)
        finally:
            # Text held to lead a message that never came goes out alone (also when the
            # update failed: before the error handler's apology).
            await flush(update, context)
        # Every press is answered, so it stops spinning on the phone, whatever the code it
        # reached did: a button that opens a flow, an action, a step. Code that answered
        # already (with a note, or first thing) is not answered twice.
        await ack(update)

    async def _dispatch(self, update: Update, context: BotContext) -> None:
        if context.draft.pop(EXPIRED_KEY, None) and current_state(context) is None:
            # Said once, leading the reply to what they sent now, which is handled as usual
            # (a survey's answers given so far are stored as given: only the question
            # left open went).
            await send(update, context, _("The question left unanswered for 14 days was "
                                          "closed."), hold=True)
        message = update.effective_message
        text = (message.text or "") if update.callback_query is None and message else ""
        run = self.run_of(update, context)
        if run is not None and not run.may_go_on():
            await self._role_changed(run)
            if text.startswith("/") and self._opens_a_link(context, text):
                await self._command(update, context, text)
            return
        if update.callback_query is not None:
            await self._button(update, context)
            return
        if message is None:
            return
        if text.startswith("/"):
            await self._command(update, context, text)
            return
        if run is None:
            await self.stray_message(update, context)
            return
        await self._answer(run, message)

    async def _role_changed(self, run: Run[Any]) -> None:
        """The open flow, or its open step, is no longer for this user: staff changed their
        role after it was asked. What they sent now (most likely meant for that question) is
        not taken for anything else: the flow ends, keeping nothing, and they hear what they
        can do in their role now. The next update is handled as usual."""
        log.info("flow %s ended at step %s for user=%s: their role is now %s",
                 run.flow.name, run.state.get("step"), run.user_id, run.context.role)
        clear(run.context)
        await ack(run.update)
        await self.role_changed(run.update, run.context)

    def _opens_a_link(self, context: BotContext, text: str) -> bool:
        """A command that replaces any open question (a link the user just opened)."""
        command = self.commands.get(_command_name(text))
        context.args = text.split()[1:]
        return bool(command and command.interrupts and command.interrupts(context))

    async def _answer(self, run: Run[Any], message: Message) -> None:
        step = run.step
        assert step is not None
        if message.text is not None and step.text is not None:
            answer = step.text
            value: Any = message.text
            if answer.parse is not None:
                value, error = answer.parse(message.text)
                if error is not None:
                    note = answer.errors.get(error) or answer.errors.get("*")
                    await run.reask(_(note) if note else step.wrong_kind_note(run))
                    return
            await run.apply(await answer.handler(run, value))
        elif message.contact is not None and step.contact is not None:
            await run.apply(await step.contact(run, message.contact))
        elif message.location is not None and step.location is not None:
            await run.apply(await step.location(run, message.location))
        else:
            await run.reask(step.wrong_kind_note(run))

    async def _command(self, update: Update, context: BotContext, text: str) -> None:
        name = _command_name(text)
        # As PTB's CommandHandler would: the words after the command.
        context.args = text.split()[1:]
        command = self.commands.get(name)
        run = self.run_of(update, context)
        if command is not None and not command.allowed(context):
            if run is None:
                await refuse(update, context, what=name)
                return
            # Inside a question: what a refused command gets leads the question again.
            with holding(update):
                await refuse(update, context, what=name)
            await run.reask()
            return
        if run is None:
            if command is not None:
                await command.handler(update, context)
            elif name == "cancel":
                await send(update, context, _("There is nothing to cancel. Type /help to see the "
                                              "menu."))
            else:
                await self.unknown_command(update, context)
            return
        if name == "cancel":
            await self._cancel(run)
            return
        if command is not None and command.flow is run.flow and run.flow.reentry:
            await command.handler(update, context)
        elif command is not None and command.interrupts and command.interrupts(context):
            clear(context)
            await command.handler(update, context)
        elif name == "start" or (command is not None and command.flow is run.flow):
            # Not "answer first": Telegram's "Restart bot" sends /start, and a user coming
            # back types it, or the command of what they were doing (/survey after a day
            # away). Where they were is shown again.
            await run.resume()
        elif command is not None and command.in_flow == "reask":
            # What the command says (/help's list) leads the question asked again.
            with holding(update):
                await command.handler(update, context)
            await run.reask()
        elif command is not None and command.in_flow == "run":
            await command.handler(update, context)
        else:
            await run.reask(_("Please answer the question first. Type /cancel to stop."))

    async def _cancel(self, run: Run[Any]) -> None:
        edit = run.state.pop("edit", None)
        if edit is not None:
            # Editing one field: back to the summary, with the answers as they were.
            run.state["data"] = edit["saved"]
            await run.apply(run.flow.steps[edit["back"]])
            return
        clear(run.context)
        await run.say(run.flow.cancelled_text(run))

    async def _button(self, update: Update, context: BotContext) -> None:
        button = context.button
        assert button is not None, "the gate verifies every button"
        owner = self._kind_owner.get(button.kind)
        run = self.run_of(update, context)
        if owner is not None and not owner.allowed(context):
            await refuse(update, context, what=button.kind)
            return
        if isinstance(owner, Action):
            if button.nonce != NO_NONCE:
                await stale_button(update)
                return
            if owner.outside_flows and run is not None:
                await _finish_first(update, context)
            elif owner.reask and run is not None:
                # What the action says ("I will write in English") leads the question.
                with holding(update):
                    await owner.handler(update, context)
                await run.reask()
            else:
                await owner.handler(update, context)
            return
        if run is None or owner is not run.flow or button.nonce != run.state["nonce"]:
            # An earlier run's button, another flow's, or a kind we no longer know. An
            # earlier run of this flow: its message shows the open question instead; another
            # flow's message (an invitation) is left as it is, and the question comes anew.
            await stale_button(update)
            if run is not None:
                await run.reask(in_place=owner is run.flow)
            return
        step = run.step
        assert step is not None
        answer = step.buttons.get(button.kind)
        if answer is None or not answer.accepts(run, button.value):
            await stale_button(update)
            await run.reask(in_place=True)
            return
        await run.apply(await answer.handler(run, button.value))


def _command_name(text: str) -> str:
    return text.split()[0][1:].split("@", 1)[0].lower()


def _older_than(state: Mapping[str, Any], lifetime: timedelta, context: BotContext) -> bool:
    started = state.get("started")
    if not started:
        return False
    return context.svc.clock.now() - datetime.fromisoformat(started) > lifetime


ROUTER_KEY = "router"


def router_of(context: BotContext) -> Router:
    """The application's router, placed in bot_data by the wiring."""
    router: Router = context.application.bot_data[ROUTER_KEY]
    return router
