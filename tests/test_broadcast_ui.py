"""The broadcast composer (/broadcast) and the list (/broadcasts), through the real Application:
texts validated by their preview, a combined audience with its exact count, now or later,
confirmation, rows in the outbox in each recipient's language, cancelling."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from chat.clock import FakeClock
from db.models import (
    Broadcast,
    BroadcastStatus,
    Enterprise,
    EnterpriseStatus,
    MemberRole,
    Membership,
    ModuleInterest,
    OutboxMessage,
    OutboxState,
    Role,
    User,
    UserStatus,
)
from domain import quiet_hours
from domain.provinces import WIB
from tests.conftest import STAFF_ID
from tests.harness import BotHarness
from tests.outbox_helpers import queued_rows, wait_final

# Draft expiry, the join lock, scheduled sends: `make test-dates` runs these at several instants.
pytestmark = pytest.mark.dates

STAFF = STAFF_ID
# Everyone who agreed and has not blocked the bot: 2001, 2002, 2004, 2005, 2007, 2008.
EVERYONE = 6


async def _world(bot: BotHarness, *, open_chats: bool = False) -> None:
    """Two approved enterprises (West and Central Java), a pending one, and their people."""
    now = bot.clock.now()
    async with bot.sessionmaker() as session, session.begin():
        def enterprise(name: str, province: str, status: EnterpriseStatus,
                       modules: list[int]) -> Enterprise:
            e = Enterprise(name=name, name_key=name.lower(), sector="auto_parts",
                           province=province, city="Kota", city_key=f"kota {name.lower()}",
                           worker_count=100, contact_name="X", phone="+628123456789",
                           status=status, created_at=now, updated_at=now)
            session.add(e)
            e.modules_wanted = modules  # type: ignore[attr-defined]
            return e

        maju = enterprise("PT Maju Jaya", "JB", EnterpriseStatus.APPROVED, [1, 5])
        sinar = enterprise("PT Sinar Jaya", "JT", EnterpriseStatus.APPROVED, [2])
        mundur = enterprise("PT Jaya Mundur", "JB", EnterpriseStatus.PENDING, [1])
        await session.flush()
        for e in (maju, sinar, mundur):
            session.add_all(ModuleInterest(enterprise_id=e.id, module=m)
                            for m in e.modules_wanted)  # type: ignore[attr-defined]

        async def person(user_id: int, language: str, role: Role | None, *,
                         member_of: Enterprise | None = None, blocked: bool = False,
                         consent: bool = True, seen_days_ago: int = 1,
                         left: bool = False) -> None:
            session.add(User(id=user_id, name=f"User {user_id}", language=language, role=role,
                             consent_at=now if consent else None,
                             status=UserStatus.BLOCKED if blocked else UserStatus.ACTIVE,
                             created_at=now, last_seen_at=now - timedelta(days=seen_days_ago)))
            await session.flush()  # no ORM relationship orders the inserts for us
            if member_of is not None:
                session.add(Membership(user_id=user_id, enterprise_id=member_of.id,
                                       role=MemberRole(role.value if role else "worker"),
                                       since=now, left_at=now if left else None))

        await person(2001, "id", Role.OWNER, member_of=maju)
        await person(2002, "en", Role.WORKER, member_of=maju, seen_days_ago=40)
        await person(2003, "id", Role.WORKER, member_of=maju, blocked=True)
        await person(2004, "en", Role.WORKER, member_of=sinar)
        await person(2005, "id", Role.ADMIN, member_of=maju)
        await person(2006, "en", Role.WORKER, member_of=maju, consent=False)
        await person(2007, "id", Role.TRAINER)
        await person(2008, "id", Role.WORKER, member_of=maju, left=True)
    bot.sandbox.add_user(STAFF, "Staff Rina", language_code="en")
    await bot.text(STAFF, "/help")
    if open_chats:
        for user_id in (2001, 2002, 2004, 2005, 2007, 2008):
            bot.sandbox.add_user(user_id, f"User {user_id}")
            await bot.text(user_id, "/help")


def _recipients(text: str) -> int:
    match = re.search(r"Recipients now: (\d+)", text)
    assert match, text
    return int(match.group(1))


async def _outbox(bot: BotHarness) -> list[OutboxMessage]:
    async with bot.sessionmaker() as session:
        return list(await session.scalars(select(OutboxMessage).order_by(
            OutboxMessage.recipient_id)))


async def _broadcasts(bot: BotHarness) -> list[Broadcast]:
    async with bot.sessionmaker() as session:
        return list(await session.scalars(select(Broadcast).order_by(Broadcast.id)))


def _data(bot: BotHarness, user_id: int, label: str) -> str:
    """Callback data of a button the bot once sent to this user (edits may have removed it)."""
    for call in reversed(bot.sandbox.calls_of("sendMessage")):
        if call.params.get("chat_id") != user_id:
            continue
        for row in (call.params.get("reply_markup") or {}).get("inline_keyboard", []):
            for button in row:
                if label in button["text"]:
                    return button["callback_data"]
    raise LookupError(label)


async def _write_texts(bot: BotHarness, text_id: str = "<b>Halo</b> semua",
                       text_en: str | None = None) -> None:
    await bot.text(STAFF, "/broadcast")
    await bot.text(STAFF, text_id)
    if text_en is None:
        await bot.press(STAFF, "Skip")
    else:
        await bot.text(STAFF, text_en)


async def test_whole_composer_with_a_combined_audience_sends_now(bot: BotHarness) -> None:
    await _world(bot)
    await bot.text(STAFF, "/broadcast")
    assert "in Indonesian" in bot.last_text(STAFF) and "<b>bold</b>" in bot.last_text(STAFF)

    # Indonesian text: media, broken HTML and an over-long text are asked again.
    bot.sandbox.send_photo(STAFF)
    await bot.settle()
    assert bot.last_text(STAFF).startswith("Please send the message as text.")
    await bot.text(STAFF, "<b>Halo semua")
    texts = bot.texts(STAFF)
    assert "Telegram cannot show this formatting" in texts[-1]
    # Explained in the user's words, never Telegram's raw message.
    assert "the tag &lt;b&gt; is not closed" not in texts[-1]
    assert "the tag <b> is not closed" in texts[-1] and "Can't parse" not in texts[-1]
    assert "in Indonesian" in texts[-1]
    await bot.text(STAFF, "x" * 4097)
    assert "too long" in bot.last_text(STAFF)
    await bot.text(STAFF, "   ")
    assert "empty" in bot.last_text(STAFF)
    # A plain "<" is read as formatting: how to write one.
    await bot.text(STAFF, "APD & helm < 5 menit.")
    assert bot.last_text(STAFF).startswith(
        "Telegram reads < as the start of formatting. For a plain < sign, write &lt; instead.")
    await bot.text(STAFF, "<b>Halo</b> semua, &lt;3")
    # Two messages: the preview as recipients see it, then what it is, and the next question.
    preview, said = bot.sandbox.messages(STAFF)[-2:]
    assert preview.text == "Halo semua, <3" and preview.parse_mode == "HTML"
    assert "This is how recipients will see it" in (said.text or "")
    assert "in English" in bot.last_text(STAFF)

    # English text, with a broken one first.
    await bot.text(STAFF, "<i>Hello everyone")
    assert "the tag <i> is not closed" in bot.last_text(STAFF)
    await bot.text(STAFF, "<i>Hello</i> everyone")
    assert bot.sandbox.messages(STAFF)[-2].text == "Hello everyone"
    assert "Who receives it?" in bot.last_text(STAFF)
    assert _recipients(bot.last_text(STAFF)) == EVERYONE

    # Roles: owners or workers (2008 left the enterprise but is still a worker by role).
    await bot.press(STAFF, "Roles")
    await bot.press(STAFF, "Owner")
    assert _recipients(bot.last_text(STAFF)) == 1
    await bot.press(STAFF, "Worker")
    assert _recipients(bot.last_text(STAFF)) == 4  # 2001, 2002, 2004, 2008
    await bot.press(STAFF, "Back")

    # Provinces: typed, and a name that fits several asks which one.
    await bot.press(STAFF, "Provinces")
    await bot.press(STAFF, "More")
    await bot.text(STAFF, "kalimantan")
    assert "Which one do you mean?" in bot.last_text(STAFF)
    await bot.press(STAFF, "East Kalimantan")
    assert _recipients(bot.last_text(STAFF)) == 0
    await bot.press(STAFF, "East Kalimantan")
    await bot.text(STAFF, "jabar")
    assert "Provinces: West Java" in bot.last_text(STAFF)
    assert _recipients(bot.last_text(STAFF)) == 2  # 2001, 2002
    await bot.press(STAFF, "Back")

    # Modules of interest: 1 or 2 (Central Java's enterprise wants 2, but is not in West Java).
    await bot.press(STAFF, "Modules")
    await bot.press(STAFF, "2.")
    assert _recipients(bot.last_text(STAFF)) == 0
    await bot.press(STAFF, "1.")
    assert _recipients(bot.last_text(STAFF)) == 2
    await bot.press(STAFF, "Back")

    # Language: English only, then both again.
    await bot.press(STAFF, "Language")
    await bot.press(STAFF, "English")
    assert _recipients(bot.last_text(STAFF)) == 1
    await bot.press(STAFF, "English")
    await bot.press(STAFF, "Back")

    # Enterprise by name: only approved ones are found.
    await bot.press(STAFF, "Enterprises")
    await bot.text(STAFF, "nothing like it")
    assert "No approved enterprise" in bot.last_text(STAFF)
    await bot.text(STAFF, "jaya")
    buttons = [b["text"] for row in bot.sandbox.last_message(STAFF).buttons for b in row]
    assert any("PT Maju Jaya" in b for b in buttons) and any("PT Sinar Jaya" in b for b in buttons)
    assert not any("Mundur" in b for b in buttons)
    await bot.press(STAFF, "PT Maju Jaya")
    assert "Enterprises: PT Maju Jaya" in bot.last_text(STAFF)
    assert _recipients(bot.last_text(STAFF)) == 2
    await bot.press(STAFF, "Back")

    # Leave out who has not written in 30 days (2002 wrote 40 days ago); then no limit.
    await bot.press(STAFF, "Recently active")
    await bot.text(STAFF, "thirty")
    assert "number of days from 1 to 365" in bot.last_text(STAFF)
    await bot.text(STAFF, "30")
    assert "last 30 days" in bot.last_text(STAFF)
    assert _recipients(bot.last_text(STAFF)) == 1
    await bot.press(STAFF, "Recently active")
    await bot.press(STAFF, "No limit")
    assert _recipients(bot.last_text(STAFF)) == 2

    # Text where a button is expected.
    await bot.text(STAFF, "send it")
    assert bot.last_text(STAFF).startswith("Please choose one of the buttons below.")
    assert _recipients(bot.last_text(STAFF)) == 2
    await bot.press(STAFF, "Done")

    # When: a past time and nonsense are asked again; then now.
    await bot.text(STAFF, "2020-01-01 08:00")
    assert "already passed" in bot.last_text(STAFF)
    await bot.text(STAFF, "the day after the party")
    assert "Please write the date and time like" in bot.last_text(STAFF)
    await bot.press(STAFF, "Send now")
    summary = bot.last_text(STAFF)
    for part in ("Halo semua, <3", "Hello everyone", "Roles: Owner, Worker",
                 "Provinces: West Java", "Modules: 1. Workplace Cooperation",
                 "Enterprises: PT Maju Jaya", "Recipients now: 2", "When: now"):
        assert part in summary, part
    assert await _broadcasts(bot) == []  # nothing stored before the confirmation
    await bot.press(STAFF, "Confirm")
    # `make test-dates` starts some runs at night: then it says when it will really go out.
    assert ("goes out at 06:00 in each recipient's zone: it is night now. Recipients: 2."
            if quiet_hours.night_zones(bot.clock.now()) else
            "on its way. Recipients: 2.") in bot.last_text(STAFF)
    assert "/broadcasts" in bot.last_text(STAFF)

    [broadcast] = await _broadcasts(bot)
    assert broadcast.status == BroadcastStatus.QUEUED and broadcast.recipient_count == 2
    assert broadcast.created_by == STAFF and broadcast.text_en == "<i>Hello</i> everyone"
    rows = await queued_rows(bot)
    assert [(r.recipient_id, r.text) for r in rows] == [
        (2001, "<b>Halo</b> semua, &lt;3"), (2002, "<i>Hello</i> everyone")]
    assert all(r.group == f"broadcast:{broadcast.id}" and r.parse_mode == "HTML" for r in rows)
    assert bot.app is not None
    assert bot.open_flow(STAFF) is None


async def test_skip_english_schedule_later_then_cancel_from_the_list(bot: BotHarness) -> None:
    await _world(bot)
    await _write_texts(bot, "Jadwal <b>pelatihan</b>")
    assert _recipients(bot.last_text(STAFF)) == EVERYONE
    await bot.press(STAFF, "Done")
    assert "When should it go out?" in bot.last_text(STAFF)
    wita = ZoneInfo("Asia/Makassar")
    day = (bot.clock.now().astimezone(wita) + timedelta(days=2)).date()
    await bot.text(STAFF, f"{day:%Y-%m-%d} 09:30 WITA")
    summary = bot.last_text(STAFF)
    assert "09:30 WITA (08:30 WIB)" in summary and str(day.day) in summary
    assert "none: English readers get the Indonesian text" in summary
    await bot.press(STAFF, "Confirm")
    assert "is scheduled for" in bot.last_text(STAFF)
    assert f"Recipients now: {EVERYONE}" in bot.last_text(STAFF)

    [broadcast] = await _broadcasts(bot)
    assert broadcast.status == BroadcastStatus.SCHEDULED and broadcast.text_en is None
    assert broadcast.send_at == datetime(day.year, day.month, day.day, 1, 30,
                                         tzinfo=UTC)
    assert await _outbox(bot) == []

    await bot.text(STAFF, "/broadcasts")
    listing = bot.last_text(STAFF)
    assert f"#{broadcast.id} · Scheduled" in listing and "08:30 WIB" in listing
    assert f"Recipients if sent now: {EVERYONE}" in listing and "Jadwal pelatihan" in listing
    await bot.press(STAFF, f"Cancel #{broadcast.id}")
    assert "Messages not sent yet are dropped" in bot.last_text(STAFF)
    await bot.press(STAFF, "Yes, cancel it")
    assert f"#{broadcast.id} is cancelled. Messages dropped before sending: 0." in \
        bot.last_text(STAFF)
    [broadcast] = await _broadcasts(bot)
    assert broadcast.status == BroadcastStatus.CANCELLED
    await bot.text(STAFF, "/broadcasts")
    assert "Cancelled" in bot.last_text(STAFF) and not bot.sandbox.last_message(STAFF).buttons


async def _typed_when(bot: BotHarness, when: str) -> str:
    """A new broadcast up to its time, typed: the reply (the summary, or the note asking
    again)."""
    await _write_texts(bot, "Halo")
    await bot.press(STAFF, "Done")
    await bot.text(STAFF, when)
    return bot.last_text(STAFF)


async def test_send_times_typed_as_people_write_dates(bot: BotHarness) -> None:
    """One reader of dates (domain/typed_dates.py): the forms of workshops and visits, WIB
    unless a zone is named, and the reading said back in words before anything is stored."""
    await _world(bot)
    now = bot.clock.now()
    wib, wita = ZoneInfo(WIB), ZoneInfo("Asia/Makassar")
    tomorrow = (now.astimezone(wib) + timedelta(days=1)).date()
    later = (now.astimezone(wib) + timedelta(days=3)).date()
    await _write_texts(bot, "Halo")
    await bot.press(STAFF, "Done")
    prompt = bot.last_text(STAFF)
    assert f"“{tomorrow.day}/{tomorrow.month} 08:00” or “tomorrow 08:00”" in prompt

    typed = [("besok 08.00", datetime.combine(tomorrow, time(8, 0), wib)),
             ("tomorrow 2pm", datetime.combine(tomorrow, time(14, 0), wib)),
             (f"{later.day}/{later.month} 09.00", datetime.combine(later, time(9, 0), wib)),
             (f"{later:%Y-%m-%d} 10:15 WITA", datetime.combine(later, time(10, 15), wita)),
             ("Senin depan jam 9", None)]
    for when, meant in typed:
        summary = await _typed_when(bot, when)
        assert "Please check the broadcast" in summary, (when, summary)
        if meant is not None:
            local = meant.astimezone(wita if "WITA" in when else wib)
            assert f"{local.day} {local:%B} {local.year}" in summary, (when, summary)
            assert f"{local:%H:%M} {'WITA' if 'WITA' in when else 'WIB'}" in summary
        await bot.press(STAFF, "Confirm")
        assert "is scheduled for" in bot.last_text(STAFF), when

    stored = await _broadcasts(bot)
    assert [b.status for b in stored] == [BroadcastStatus.SCHEDULED] * len(typed)
    assert [b.send_at for b in stored[:4]] == [m.astimezone(UTC) for _w, m in typed[:4]
                                               if m is not None]
    # "Senin depan": the coming Monday at 09.00 WIB (next week's, typed on a Monday).
    monday = stored[4].send_at.astimezone(wib)
    assert (monday.weekday(), monday.hour, monday.minute) == (0, 9, 0)
    assert 1 <= (monday.date() - now.astimezone(wib).date()).days <= 7


async def test_send_times_that_cannot_be_used_say_why(bot: BotHarness) -> None:
    await _world(bot)
    now = bot.clock.now().astimezone(ZoneInfo(WIB))
    yesterday = (now - timedelta(days=1)).date()
    reply = await _typed_when(bot, "besok")
    assert reply.startswith("Please add the time, e.g. “") and "When should it go out?" in reply
    for when, note in [("besok 25.00", "That time does not exist."),
                       ("besok 9.75", "That time does not exist."),
                       (f"{yesterday.day}/{yesterday.month} 09.00", "already passed"),
                       ("2020-01-01 08:00", "already passed"),
                       (f"{now.year + 2}-06-01 08:00", "more than a year ahead"),
                       ("31/2 09.00", "Please write the date and time like"),
                       ("next blue moon", "Please write the date and time like")]:
        await bot.text(STAFF, when)
        reply = bot.last_text(STAFF)
        assert note in reply and "When should it go out?" in reply, (when, reply)
    assert await _broadcasts(bot) == []
    # The question is still open: a good time after all that goes on to the summary.
    await bot.text(STAFF, "besok 08.00")
    assert "Please check the broadcast" in bot.last_text(STAFF)


async def test_cancel_drops_pending_keeps_sent_and_second_cancel_is_stale(
        quiet_bot: BotHarness) -> None:
    bot = quiet_bot
    await _world(bot)
    await _write_texts(bot, "Halo")  # no English: English readers get the Indonesian text
    await bot.press(STAFF, "Done")
    await bot.press(STAFF, "Send now")
    await bot.press(STAFF, "Confirm")
    rows = await _outbox(bot)
    assert [r.recipient_id for r in rows] == [2001, 2002, 2004, 2005, 2007, 2008]
    assert {r.text for r in await queued_rows(bot)} == {"Halo"}
    assert {r.state for r in rows} == {OutboxState.PENDING}
    # As if the sender had delivered two of them already.
    async with bot.sessionmaker() as session, session.begin():
        await session.execute(update(OutboxMessage).where(
            OutboxMessage.recipient_id.in_([2001, 2002]))
            .values(state=OutboxState.SENT, sent_at=bot.clock.now()))

    await bot.text(STAFF, "/broadcasts")
    listing = bot.last_text(STAFF)
    assert "· Sending ·" in listing
    assert "Recipients: 6 · sent 2 · pending 4 · skipped 0 · failed 0" in listing
    await bot.press(STAFF, "Cancel #1")
    await bot.press(STAFF, "Yes, cancel it")
    assert "dropped before sending: 4. Already sent: 2." in bot.last_text(STAFF)
    rows = await _outbox(bot)
    assert {r.recipient_id: (r.state, r.last_error) for r in rows} == {
        2001: (OutboxState.SENT, None), 2002: (OutboxState.SENT, None),
        **{u: (OutboxState.SKIPPED, "cancelled") for u in (2004, 2005, 2007, 2008)}}

    # The same confirmation again (the button was removed; the data still verifies).
    bot.sandbox.press(STAFF, _data(bot, STAFF, "Yes, cancel it"))
    await bot.settle()
    assert "no longer active" in (bot.sandbox.callback_answers(STAFF)[-1].get("text") or "")
    bot.sandbox.press(STAFF, _data(bot, STAFF, "Cancel #1"))
    await bot.settle()
    assert "no longer active" in (bot.sandbox.callback_answers(STAFF)[-1].get("text") or "")
    assert {r.state for r in await _outbox(bot)} == {OutboxState.SENT, OutboxState.SKIPPED}
    await bot.text(STAFF, "/broadcasts")
    assert "Cancelled" in bot.last_text(STAFF) and "skipped 4" in bot.last_text(STAFF)


async def test_sent_in_each_recipients_language(bot: BotHarness) -> None:
    await _world(bot, open_chats=True)
    await _write_texts(bot, "<b>Halo</b>", "<b>Hello</b>")
    await bot.press(STAFF, "Language")
    await bot.press(STAFF, "Bahasa Indonesia")
    await bot.press(STAFF, "English")
    await bot.press(STAFF, "Back")
    await bot.press(STAFF, "Done")
    await bot.press(STAFF, "Send now")
    await bot.press(STAFF, "Confirm")
    # Started at night (`make test-dates`): it waits for the morning in WIB, everyone's zone.
    clock = bot.clock
    assert isinstance(clock, FakeClock)
    clock.advance(max(0.0, (quiet_hours.outside_quiet_hours(clock.now(), WIB)
                            - clock.now()).total_seconds()))
    # The sender runs in the app: wait until it delivered all of them.
    await wait_final(bot, EVERYONE)
    states = {r.state for r in await _outbox(bot)}
    assert states == {OutboxState.SENT}
    for user_id in (2001, 2005, 2007, 2008):
        assert bot.last_text(user_id) == "Halo"
    assert bot.last_text(2002) == "Hello" and bot.last_text(2004) == "Hello"
    await bot.text(STAFF, "/broadcasts")
    assert "· Finished ·" in bot.last_text(STAFF)
    assert "sent 6 · pending 0" in bot.last_text(STAFF)
    assert not bot.sandbox.last_message(STAFF).buttons


async def test_commands_and_stray_input_inside_the_composer(bot: BotHarness) -> None:
    await _world(bot)
    await _write_texts(bot, "Halo")
    await bot.text(STAFF, "/staff")
    assert bot.last_text(STAFF).startswith(
        "Please answer the question first. Type /cancel to stop.")
    assert "Who receives it?" in bot.last_text(STAFF)
    await bot.text(STAFF, "/help")
    assert "/broadcasts" in bot.last_text(STAFF) and "Who receives it?" in bot.last_text(STAFF)
    await bot.press(STAFF, "Done")
    await bot.press(STAFF, "Send now")
    await bot.text(STAFF, "yes")
    assert "Please check the broadcast" in bot.last_text(STAFF)
    # The audience buttons of an earlier step are stale now.
    bot.sandbox.press(STAFF, _data(bot, STAFF, "Roles"))
    await bot.settle()
    assert "no longer active" in (bot.sandbox.callback_answers(STAFF)[-1].get("text") or "")
    assert "Please check the broadcast" in bot.last_text(STAFF)
    await bot.text(STAFF, "/cancel")
    assert "No broadcast was sent" in bot.last_text(STAFF)
    assert await _broadcasts(bot) == []
    assert bot.open_flow(STAFF) is None
    # /broadcast again starts afresh, and an empty audience cannot be chosen.
    await _write_texts(bot, "Halo")
    await bot.press(STAFF, "Language")
    await bot.press(STAFF, "English")
    await bot.press(STAFF, "Back")
    await bot.press(STAFF, "Roles")
    await bot.press(STAFF, "Trainer")
    await bot.press(STAFF, "Back")
    assert _recipients(bot.last_text(STAFF)) == 0
    await bot.press(STAFF, "Done")
    assert "Nobody matches" in (bot.sandbox.callback_answers(STAFF)[-1].get("text") or "")
    await bot.press(STAFF, "Everyone")
    assert _recipients(bot.last_text(STAFF)) == EVERYONE


async def test_one_conversation_at_a_time_and_the_composer_across_a_restart(
        bot: BotHarness) -> None:
    await _world(bot)
    # The staff member is half-way through enrolling: the composer waits until that is done
    # or cancelled, and the enrolment question stays answerable.
    await bot.text(STAFF, "/start")
    await bot.press(STAFF, "English")
    await bot.press(STAFF, "Yes, I agree")
    await bot.text(STAFF, "/enrol")
    assert "name of your company" in bot.last_text(STAFF)
    await bot.text(STAFF, "/broadcast")
    assert bot.last_text(STAFF).startswith(
        "Please answer the question first. Type /cancel to stop.")
    assert "name of your company" in bot.last_text(STAFF)
    await bot.text(STAFF, "PT Staff Test")
    assert "What does your company make?" in bot.last_text(STAFF)
    assert bot.draft(STAFF)["enrol"]["name"] == "PT Staff Test"
    await bot.text(STAFF, "/cancel")
    await bot.text(STAFF, "/broadcast")
    await bot.text(STAFF, "Halo")
    await bot.restart()
    await bot.press(STAFF, "Skip")
    assert "Who receives it?" in bot.last_text(STAFF)
    await bot.press(STAFF, "Done")
    await bot.press(STAFF, "Send now")
    await bot.press(STAFF, "Confirm")
    # The staff member is in the audience: the broadcast itself may already follow.
    assert any("on its way" in t or "it is night now" in t for t in bot.texts(STAFF)[-2:])
    assert bot.open_flow(STAFF) is None


async def test_confirm_is_atomic_with_the_draft(quiet_bot: BotHarness) -> None:
    """Killed after the broadcast was stored but before the state was: no second one."""
    bot = quiet_bot
    await _world(bot)
    await _write_texts(bot, "Halo")
    await bot.press(STAFF, "Done")
    await bot.press(STAFF, "Send now")
    assert bot.app is not None and bot.app.persistence is not None

    async def lost(*_args: object) -> None:
        return None

    bot.app.persistence.commit = lost  # type: ignore[attr-defined]
    await bot.press(STAFF, "Confirm")
    await bot.restart(hard=True)
    await bot.press(STAFF, "Confirm")
    assert "no longer active" in (bot.sandbox.callback_answers(STAFF)[-1].get("text") or "")
    assert len(await _broadcasts(bot)) == 1
    assert len(await _outbox(bot)) == EVERYONE


async def test_indonesian_staff_compose_in_indonesian(bot: BotHarness) -> None:
    bot.sandbox.add_user(STAFF, "Staf Rina", language_code="id")
    await bot.text(STAFF, "/broadcast")
    assert "dalam bahasa Indonesia" in bot.last_text(STAFF)
    await bot.text(STAFF, "<b>Halo")
    assert "Telegram tidak bisa menampilkan format ini" in bot.last_text(STAFF)
    await bot.text(STAFF, "<b>Halo</b>")
    await bot.press(STAFF, "Lewati")
    assert "Siapa penerimanya?" in bot.last_text(STAFF)
    await bot.press(STAFF, "Peran")
    await bot.press(STAFF, "Pemilik")
    assert "Peran: Pemilik" in bot.last_text(STAFF)
    assert "Penerima saat ini: 0" in bot.last_text(STAFF)
