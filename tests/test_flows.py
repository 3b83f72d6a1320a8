"""The conversation mechanism (chat/flow.py), through the real Application: a flow declared
here in a few lines gets re-asking, stale buttons, /cancel, /help, role checks and the
one-flow-at-a-time rule without writing any of it."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import TypedDict

import pytest

from chat.access import is_staff
from chat.buttons import Keyboard
from chat.clock import FakeClock
from chat.context import services_of
from chat.flow import BUTTON, END, ROUTER_KEY, Flow, Outcome, Run
from chat.reply import rows
from config.settings import Settings
from db.models import User
from domain import text_input
from tests.conftest import STAFF_ID
from tests.harness import BotHarness
from tests.journeys import answer_enrolment, enrol, onboard

# Draft expiry, the join lock, scheduled sends: `make test-dates` runs these at several instants.
pytestmark = pytest.mark.dates

OWNER, OWNER2, OUTSIDER = 1001, 1002, 4004

# --- a flow as a journey would write it: three steps and a confirmation ---------------------
class OrderData(TypedDict, total=False):
    item: str
    count: int


ORDER: Flow[OrderData] = Flow("order", command="order",
                              cancelled="Cancelled. Nothing was ordered.")


@ORDER.entry
async def order_begin(run: Run[OrderData]) -> Outcome:
    return ask_item


@ORDER.step("item", expects=BUTTON)
async def ask_item(run: Run[OrderData]) -> None:
    await run.say("Which item?", rows([run.button("Bolts", "oitem", "bolts"),
                                       run.button("Nuts", "oitem", "nuts")]))


@ask_item.on_button("oitem", ("bolts", "nuts"))
async def item_chosen(run: Run[OrderData], item: str) -> Outcome:
    await run.ack()
    run.data["item"] = item
    return run.then(ask_count)


@ORDER.step("count")
async def ask_count(run: Run[OrderData]) -> None:
    await run.say("How many?")


@ask_count.on_text(lambda t: text_input.parse_whole_number(t, lo=1, hi=99),
                   {"*": "A number from 1 to 99, please."})
async def count_given(run: Run[OrderData], count: int) -> Outcome:
    run.data["count"] = count
    return run.then(ask_confirm)


@ORDER.step("confirm", expects=BUTTON)
async def ask_confirm(run: Run[OrderData]) -> None:
    await run.say(f"{run.data['count']} {run.data['item']}?",
                  rows([run.button("Yes", "ook", "yes"), run.button("Change item", "ook", "edit")]))


@ask_confirm.on_button("ook", ("yes", "edit"))
async def confirmed(run: Run[OrderData], answer: str) -> Outcome:
    await run.ack()
    if answer == "edit":
        return run.edit(ask_item, back=ask_confirm)
    await run.say(f"Ordered {run.data['count']} {run.data['item']}.")
    return END
# --- 52 lines, the blank ones included ----------------------------------------------------------

class NoData(TypedDict):
    pass


SECRET: Flow[NoData] = Flow("secret", command="secret", allowed=is_staff, cancelled="Cancelled.")


@SECRET.entry
async def secret_begin(run: Run[NoData]) -> Outcome:
    return ask_secret


@SECRET.step("s1")
async def ask_secret(run: Run[NoData]) -> None:
    await run.say("The password?")


@ask_secret.on_text()
async def secret_given(run: Run[NoData], text: str) -> Outcome:
    if text == "forgot":
        # A step's code that forgets to say what comes next: the mechanism must not take it
        # for "stay" and leave the user without an answer.
        return None  # type: ignore[return-value]
    await run.say("Accepted.")
    return END


VOTE: Flow[NoData] = Flow("vote", command="vote", allowed=lambda c: c.role != "worker",
                          refused="Votes are for people without a role.", cancelled="Cancelled.")


@VOTE.entry
async def vote_begin(run: Run[NoData]) -> Outcome:
    return ask_agree


@VOTE.step("v1", expects=BUTTON)
async def ask_agree(run: Run[NoData]) -> None:
    await run.say("Agree to vote?", rows([run.button("Agree", "vagree", "yes")]))


@ask_agree.on_button("vagree", ("yes",))
async def agreed(run: Run[NoData], _value: str) -> Outcome:
    await run.ack()
    return ask_vote


@VOTE.step("v2", expects=BUTTON, allowed=lambda c: c.role is None)
async def ask_vote(run: Run[NoData]) -> None:
    await run.say("Your vote?", rows([run.button("Yes", "vote", "yes")]))


@ask_vote.on_button("vote", ("yes",))
async def voted(run: Run[NoData], _value: str) -> Outcome:
    await run.ack()
    await run.say("Voted.")
    return END


# A flow opened by a button (an invitation's, say): its entry does not answer the press.
class PickupData(TypedDict, total=False):
    item: str


PICKUP: Flow[PickupData] = Flow("pickup", cancelled="Cancelled.")


@PICKUP.entry
async def pickup_begin(run: Run[PickupData], item: str) -> Outcome:
    if item == "gone":
        await run.ack("Sold out.")  # a note in the popup: the only answer
        return END
    run.data["item"] = item
    return ask_pickup


@PICKUP.step("p1")
async def ask_pickup(run: Run[PickupData]) -> None:
    await run.say(f"How many {run.data['item']} to pick up?")


@ask_pickup.on_text()
async def pickup_given(run: Run[PickupData], _text: str) -> Outcome:
    return END


@pytest.fixture
async def flow_bot(settings: Settings, sandbox: object) -> AsyncIterator[BotHarness]:
    clock = FakeClock(datetime(2026, 12, 1, 3, 0, tzinfo=UTC))
    harness = BotHarness(settings, sandbox, clock=clock)  # type: ignore[arg-type]
    await harness.start()
    assert harness.app is not None
    router = harness.app.bot_data[ROUTER_KEY]
    router.add_flow(ORDER)
    router.add_flow(SECRET)
    router.add_flow(VOTE)
    router.add_flow(PICKUP)
    router.add_action("pickb", PICKUP.starter("item"))
    try:
        yield harness
    finally:
        await harness.stop()


async def _order_until_count(bot: BotHarness) -> None:
    await onboard(bot, OWNER, "en", role=None)
    await bot.text(OWNER, "/cancel")  # the role question of first contact
    await bot.text(OWNER, "/order")
    await bot.press(OWNER, "Bolts")
    assert bot.last_text(OWNER) == "How many?"


async def test_a_declared_flow_runs_end_to_end(flow_bot: BotHarness) -> None:
    bot = flow_bot
    await _order_until_count(bot)
    await bot.text(OWNER, "12")
    await bot.press(OWNER, "Yes")
    assert bot.last_text(OWNER) == "Ordered 12 bolts."
    assert bot.open_flow(OWNER) is None


async def test_bad_input_is_re_asked_by_the_mechanism(flow_bot: BotHarness) -> None:
    bot = flow_bot
    await _order_until_count(bot)
    await bot.text(OWNER, "lots")
    # One message: the note is the first line of the question asked again.
    assert bot.replies(OWNER) == ["A number from 1 to 99, please.\n\nHow many?"]
    bot.sandbox.send_sticker(OWNER)
    await bot.settle()
    assert bot.texts(OWNER)[-1] == "Please answer with text.\n\nHow many?"
    await bot.text(OWNER, "/help")
    # /help inside a question: its list leads the question, one message.
    [reply] = bot.replies(OWNER)
    assert "/language" in reply and reply.endswith("\n\nHow many?")
    await bot.text(OWNER, "/code")
    assert bot.replies(OWNER) == [
        "Please answer the question first. Type /cancel to stop.\n\nHow many?"]
    assert bot.step(OWNER) == "count"


async def test_earlier_steps_and_ended_runs_have_stale_buttons(flow_bot: BotHarness) -> None:
    bot = flow_bot
    await _order_until_count(bot)
    item_message = [m for m in bot.sandbox.messages(OWNER) if m.text == "Which item?"][-1]
    nuts = item_message.buttons[0][1]["callback_data"]
    bot.sandbox.press(OWNER, nuts, message_id=item_message.message_id)
    await bot.settle()
    assert "no longer active" in (bot.sandbox.callback_answers(OWNER)[-1].get("text") or "")
    assert bot.last_text(OWNER) == "How many?" and bot.draft(OWNER)["item"] == "bolts"
    await bot.text(OWNER, "/cancel")
    assert bot.last_text(OWNER) == "Cancelled. Nothing was ordered."
    # A new run has a new nonce: the first run's buttons stay stale.
    await bot.text(OWNER, "/order")
    bot.sandbox.press(OWNER, nuts, message_id=item_message.message_id)
    await bot.settle()
    assert "no longer active" in (bot.sandbox.callback_answers(OWNER)[-1].get("text") or "")
    assert bot.step(OWNER) == "item" and "item" not in bot.draft(OWNER)


async def test_cancel_while_editing_goes_back_unchanged(flow_bot: BotHarness) -> None:
    bot = flow_bot
    await _order_until_count(bot)
    await bot.text(OWNER, "3")
    await bot.press(OWNER, "Change item")
    assert bot.last_text(OWNER) == "Which item?"
    await bot.text(OWNER, "/cancel")
    assert bot.last_text(OWNER) == "3 bolts?"
    await bot.press(OWNER, "Change item")
    await bot.press(OWNER, "Nuts")
    # After an edit the flow returns to where it was, not to the following step.
    assert bot.last_text(OWNER) == "3 nuts?"


async def test_enrolment_field_edit_cancelled_keeps_the_old_value(bot: BotHarness) -> None:
    await onboard(bot, OWNER, "en")
    await answer_enrolment(bot, OWNER, "en", company="PT Lama")
    await bot.press(OWNER, "✏️ Company")
    await bot.text(OWNER, "/cancel")
    assert "Please check" in bot.last_text(OWNER) and "PT Lama" in bot.last_text(OWNER)
    await bot.press(OWNER, "✏️ Company")
    await bot.text(OWNER, "PT Baru")
    assert "PT Baru" in bot.last_text(OWNER) and "Please check" in bot.last_text(OWNER)


async def test_another_flows_button_says_finish_first(bot: BotHarness) -> None:
    bot.sandbox.add_user(STAFF_ID, "Staff", language_code="en")
    await bot.text(STAFF_ID, "/help")
    await enrol(bot, OWNER2, "en", company="PT Tunggu")
    # The staff member is in the middle of /staff when the notice's Reject is pressed.
    await bot.text(STAFF_ID, "/staff")
    await bot.press(STAFF_ID, "Make someone a trainer")
    notice = [m for m in bot.sandbox.messages(STAFF_ID) if "PT Tunggu" in (m.text or "")][0]
    bot.sandbox.press(STAFF_ID, notice.buttons[0][1]["callback_data"],
                      message_id=notice.message_id)
    await bot.settle()
    assert bot.last_text(STAFF_ID).startswith("Please finish this first. Type /cancel to stop.\n\n")
    assert "Who should become a trainer?" in bot.last_text(STAFF_ID)
    assert bot.open_flow(STAFF_ID) == "staff_roles"
    await bot.text(STAFF_ID, "/cancel")
    bot.sandbox.press(STAFF_ID, notice.buttons[0][1]["callback_data"],
                      message_id=notice.message_id)
    await bot.settle()
    assert "Why is PT Tunggu rejected?" in bot.last_text(STAFF_ID)


async def test_role_is_checked_at_every_answer(flow_bot: BotHarness,
                                               caplog: pytest.LogCaptureFixture) -> None:
    bot = flow_bot
    bot.sandbox.add_user(OUTSIDER, "Jane", language_code="en")
    with caplog.at_level(logging.WARNING):
        await bot.text(OUTSIDER, "/secret")
    assert "do not know that command" in bot.last_text(OUTSIDER)
    assert bot.open_flow(OUTSIDER) is None
    # Promoted, starts it; revoked before answering: the answer reaches nothing.
    async with bot.sessionmaker() as session, session.begin():
        user = await session.get(User, OUTSIDER)
        assert user is not None
        user.role = "staff"  # type: ignore[assignment]
    await bot.text(OUTSIDER, "/secret")
    assert bot.last_text(OUTSIDER) == "The password?"
    async with bot.sessionmaker() as session, session.begin():
        user = await session.get(User, OUTSIDER)
        assert user is not None
        user.role = None
    caplog.clear()
    with caplog.at_level(logging.INFO):
        await bot.text(OUTSIDER, "hunter2")
    assert "Accepted." not in bot.texts(OUTSIDER)
    assert bot.open_flow(OUTSIDER) is None
    # Not silence: the flow was theirs when it asked, so they hear why it ended, and what
    # they can do now (a user without a role: /start).
    assert "Your role in this bot has changed" in bot.last_text(OUTSIDER)
    assert "/start" in bot.last_text(OUTSIDER) and "/broadcast" not in bot.last_text(OUTSIDER)
    assert f"flow secret ended at step s1 for user={OUTSIDER}" in caplog.text
    # Typing on reaches nothing of it: someone who never agreed to anything is greeted as
    # a newcomer.
    await bot.text(OUTSIDER, "the password is hunter2")
    assert "Accepted." not in bot.texts(OUTSIDER)
    assert "choose your language" in bot.last_text(OUTSIDER)


async def test_a_step_for_some_roles_ends_the_flow_when_the_role_changes(
        flow_bot: BotHarness) -> None:
    """A step's own `allowed`: the rest of the flow is for anyone, that question is not."""
    bot = flow_bot
    await onboard(bot, OWNER, "en", role=None)
    await bot.text(OWNER, "/cancel")
    await bot.text(OWNER, "/vote")
    await bot.press(OWNER, "Agree")  # the first step is for anyone
    assert bot.last_text(OWNER) == "Your vote?"
    async with bot.sessionmaker() as session, session.begin():
        user = await session.get(User, OWNER)
        assert user is not None
        user.role = "owner"  # type: ignore[assignment]
    before = len(bot.sandbox.callback_answers(OWNER))
    await bot.press(OWNER, "Yes")
    assert "Voted." not in bot.texts(OWNER)
    assert "The SCORE team has changed your role" in bot.last_text(OWNER)
    assert "/enrol" in bot.last_text(OWNER)  # the owner's commands
    assert bot.open_flow(OWNER) is None
    # The press is answered (it does not spin), without the stale note.
    answers = bot.sandbox.callback_answers(OWNER)[before:]
    assert len(answers) == 1 and not answers[0].get("text")


async def test_a_flow_may_say_why_it_refuses_at_the_start(flow_bot: BotHarness) -> None:
    bot = flow_bot
    bot.sandbox.add_user(OUTSIDER, "Jane", language_code="en")
    async with bot.sessionmaker() as session, session.begin():
        session.add(User(id=OUTSIDER, language="en", role="worker", created_at=bot.clock.now(),
                         last_seen_at=bot.clock.now()))
    await bot.text(OUTSIDER, "/vote")
    assert bot.last_text(OUTSIDER) == "Votes are for people without a role."
    assert bot.open_flow(OUTSIDER) is None


async def test_a_reason_not_given_within_the_hour_is_not_waited_for(flow_bot: BotHarness) -> None:
    bot = flow_bot
    bot.sandbox.add_user(STAFF_ID, "Staff", language_code="en")
    await bot.text(STAFF_ID, "/help")
    await enrol(bot, OWNER2, "en", company="PT Nanti")
    await bot.press(STAFF_ID, "Reject")
    assert bot.open_flow(STAFF_ID) == "reject"
    assert bot.app is not None
    clock = services_of(bot.app).clock
    assert isinstance(clock, FakeClock)
    clock.advance(timedelta(hours=1, minutes=1).total_seconds())
    await bot.text(STAFF_ID, "Too late, this is chat")
    assert bot.open_flow(STAFF_ID) is None
    assert "/help" in bot.last_text(STAFF_ID)


async def test_a_button_that_opens_a_flow_is_answered_once(flow_bot: BotHarness) -> None:
    """Whatever the entry does (asks, or only notes something in the popup), the press is
    answered exactly once: it stops spinning, and Telegram refuses no second answer."""
    bot = flow_bot
    await onboard(bot, OWNER, "en", role=None)
    await bot.text(OWNER, "/cancel")
    assert bot.app is not None
    keyboard = Keyboard(services_of(bot.app).signer, OWNER)

    async def press(value: str) -> list[dict[str, object]]:
        before = len(bot.sandbox.calls_of("answerCallbackQuery"))
        data = keyboard.button("Pick up", "pickb", value).callback_data
        assert isinstance(data, str)  # our buttons carry signed strings, not arbitrary objects
        bot.sandbox.press(OWNER, data)
        await bot.settle()
        calls = bot.sandbox.calls_of("answerCallbackQuery")[before:]
        assert [call.error for call in calls] == [None]
        return [dict(call.params) for call in calls]

    answers = await press("bolts")
    assert not answers[0].get("text")
    assert bot.last_text(OWNER) == "How many bolts to pick up?"
    # Pressed again with the question open: "finish this first", answered once.
    await press("nuts")
    assert bot.last_text(OWNER) == ("Please finish this first. Type /cancel to stop.\n\n"
                                    "How many bolts to pick up?")
    await bot.text(OWNER, "/cancel")
    answers = await press("gone")
    assert answers[0].get("text") == "Sold out." and bot.open_flow(OWNER) is None
    # A step's own early answer is not answered over either.
    await bot.text(OWNER, "/order")
    before = len(bot.sandbox.calls_of("answerCallbackQuery"))
    await bot.press(OWNER, "Bolts")
    assert [c.error for c in bot.sandbox.calls_of("answerCallbackQuery")[before:]] == [None]


async def test_start_with_a_question_open_shows_it_again(flow_bot: BotHarness) -> None:
    """Telegram's "Restart bot" sends /start: the open question again, no "answer first"."""
    bot = flow_bot
    await _order_until_count(bot)
    await bot.text(OWNER, "/start")
    assert bot.replies(OWNER) == ["Let's continue where we left off.\n\nHow many?"]
    assert bot.step(OWNER) == "count"
    await bot.text(OWNER, "12")
    await bot.text(OWNER, "/start")
    assert bot.replies(OWNER) == ["Let's continue where we left off.\n\n12 bolts?"]
    await bot.press(OWNER, "Yes")
    assert bot.last_text(OWNER) == "Ordered 12 bolts."
    # With nothing open, /start is first contact's own: someone who agreed is welcomed back.
    await bot.text(OWNER, "/start")
    assert bot.open_flow(OWNER) == "start" and bot.step(OWNER) == "role"


async def test_a_step_that_returns_nothing_is_an_error_not_a_silent_stay(
        flow_bot: BotHarness, caplog: pytest.LogCaptureFixture) -> None:
    bot = flow_bot
    bot.sandbox.add_user(STAFF_ID, "Staff", language_code="en")
    await bot.text(STAFF_ID, "/secret")
    await bot.text(STAFF_ID, "forgot")
    assert "the step's code returned None" in caplog.text
    assert bot.replies(STAFF_ID) == [
        "Sorry, something went wrong on our side. Your earlier answers are kept: please try "
        "again in a moment.\n\nThe password?"]
    await bot.text(STAFF_ID, "open sesame")
    assert bot.last_text(STAFF_ID) == "Accepted."


# --- one reply per update (chat/reply.py) ----------------------------------------------------
async def test_a_stale_button_of_the_flow_shows_the_question_in_its_own_message(
        flow_bot: BotHarness) -> None:
    """Bolts pressed again on the item question, which is answered: no new message, the
    pressed message becomes the open question (with its buttons), the popup says why."""
    bot = flow_bot
    await _order_until_count(bot)
    item_question = next(m for m in bot.sandbox.messages(OWNER) if m.text == "Which item?")
    await bot.press(OWNER, "Bolts")
    assert bot.replies(OWNER) == []
    edited = next(m for m in bot.sandbox.messages(OWNER)
                  if m.message_id == item_question.message_id)
    assert edited.text == "How many?"
    answers = bot.sandbox.callback_answers(OWNER)
    assert "no longer active" in (answers[-1].get("text") or "")
    await bot.text(OWNER, "12")  # the question shown in place is answered as usual
    assert bot.last_text(OWNER) == "12 bolts?"


async def test_a_finished_flow_and_an_answer_each_get_one_message(flow_bot: BotHarness) -> None:
    bot = flow_bot
    await _order_until_count(bot)
    await bot.text(OWNER, "12")
    assert bot.replies(OWNER) == ["12 bolts?"]
    await bot.press(OWNER, "Yes")
    assert bot.replies(OWNER) == ["Ordered 12 bolts."]


async def test_help_inside_a_question_is_one_message_and_outside_it_too(
        flow_bot: BotHarness) -> None:
    bot = flow_bot
    await _order_until_count(bot)
    await bot.text(OWNER, "/help")
    [reply] = bot.replies(OWNER)
    assert "/language" in reply and reply.endswith("\n\nHow many?")
    await bot.text(OWNER, "/cancel")
    await bot.text(OWNER, "/help")
    [reply] = bot.replies(OWNER)
    assert "/language" in reply and "How many?" not in reply


def test_held_text_too_long_to_lead_goes_apart_in_messages_that_fit() -> None:
    """Held pieces join as far as Telegram's 4,096 characters allow (counted as Telegram
    does, in UTF-16: an emoji is two), in order, the last with the message they lead."""
    from chat.reply import MAX_TEXT, _pieces

    long = "x" * 3000
    assert _pieces([long, long, "Question?"]) == [long, long + "\n\nQuestion?"]
    assert _pieces(["Note.", "Question?"]) == ["Note.\n\nQuestion?"]
    emoji = "🙂" * 2000  # 4,000 UTF-16 units
    assert _pieces([emoji, "x" * 100]) == [emoji, "x" * 100]
    assert all(len(p.encode("utf-16-le")) // 2 <= MAX_TEXT
               for p in _pieces(["y" * 4096, "z" * 10, "w"]))


async def test_a_refused_command_inside_a_question_leads_the_question(
        flow_bot: BotHarness) -> None:
    """/pending is staff's: inside a question, what anyone gets for an unknown command is
    the first lines of the question asked again, one message."""
    bot = flow_bot
    await _order_until_count(bot)
    await bot.text(OWNER, "/pending")
    [reply] = bot.replies(OWNER)
    assert reply.endswith("\n\nHow many?") and reply != "How many?"
    assert bot.step(OWNER) == "count"
