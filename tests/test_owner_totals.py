"""What an owner can learn of his workers' survey (domain/owner_totals.py): the attack of an
owner with extra accounts, the noise, the release kept once."""

from __future__ import annotations

import logging
import statistics
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from bot.survey_admin import close_now
from db.models import PulseRelease, SurveyAnswer, SurveyResponse
from domain import join_patterns, owner_totals
from domain.questionnaire import load
from tests import factories
from tests.conftest import STAFF_ID
from tests.harness import BotHarness
from tests.survey_helpers import clock_of, open_round

OWNER = 1001
WORKER = 2001
OWNERS_ACCOUNTS = [2101, 2102, 2103, 2104]
ANSWERS = ["Sering", "Aman", "Selalu", "Tidak", "Tidak"]  # no suggestion: no follow-up


async def _answer(bot: BotHarness, user_id: int, labels: list[str]) -> None:
    await bot.press(user_id, "Mulai survei")
    for label in labels:
        await bot.press(user_id, label)
    assert "Terima kasih" in bot.last_text(user_id)


async def test_an_owner_with_four_accounts_cannot_read_back_his_workers_answer(
        survey_bot: BotHarness) -> None:
    """The owner joins four accounts of his own with the join code before the round and
    answers with them beside his one real worker: five answers, and his own four known. The
    accounts joined less than two weeks before the round opened, so they count for nothing,
    and one eligible answer is never shown, whatever the noise."""
    bot = survey_bot
    maju = await factories.enterprise(bot, owner=OWNER)
    await factories.worker(bot, WORKER, maju, name="Dewi")  # a member for a month
    for account in OWNERS_ACCOUNTS:
        await factories.worker(bot, account, maju, name="Budi", joined_days_ago=3)
    await open_round(bot, "pulse")
    await _answer(bot, WORKER, ["Jarang", "Tidak aman", "Kadang-kadang", "Tidak", "Ya"])
    for account in OWNERS_ACCOUNTS:
        await _answer(bot, account, ANSWERS)
    await close_now(bot.settings, "pulse", "2026-11", clock=clock_of(bot))
    await bot.text(OWNER, "/kpi")
    totals = bot.last_text(OWNER)
    assert "Hasilnya tidak ditampilkan, demi kerahasiaan jawaban setiap pekerja." in totals
    for answer in ("Jarang", "Tidak aman", "Kadang-kadang", "%"):
        assert answer not in totals
    async with bot.sessionmaker() as session:
        release = await session.scalar(select(PulseRelease))
    assert release is not None and release.exact_responses == 1
    # Staff see the four accounts that joined within the hour, in /surveys and /trainers.
    bot.sandbox.add_user(STAFF_ID, "Rina", language_code="en")
    await bot.text(STAFF_ID, "/surveys")
    check = bot.last_text(STAFF_ID)
    assert "before trusting their workers' survey:\nPT Maju Jaya\n⚠️ 4 workers joined within " \
           "one hour" in check
    await bot.text(STAFF_ID, "/trainers PT Maju Jaya")
    assert "⚠️ 4 workers joined within one hour" in bot.last_text(STAFF_ID)


def test_join_patterns_flag_a_burst_and_more_workers_than_enrolled() -> None:
    start = datetime(2026, 12, 1, 3, tzinfo=UTC)
    spread = [start + timedelta(hours=2 * n) for n in range(5)]
    assert not join_patterns.flags(spread, linked=5, enrolled=50).any
    burst = [*spread, start + timedelta(hours=8, minutes=20),
             start + timedelta(hours=8, minutes=50)]
    found = join_patterns.flags(burst, linked=7, enrolled=50)
    assert (found.burst_at, found.burst_size) == (start + timedelta(hours=8), 3)
    assert not found.over_headcount
    assert join_patterns.flags(spread, linked=6, enrolled=5).over_headcount
    # A shift that read the poster in October (five), then four accounts just before a
    # round: the later group is the one to look at, though smaller.
    october = [start - timedelta(days=40, minutes=5 * n) for n in range(5)]
    accounts = [start + timedelta(days=3, minutes=n) for n in range(4)]
    found = join_patterns.flags([*october, *spread, *accounts], linked=14, enrolled=50)
    assert (found.burst_at, found.burst_size) == (start + timedelta(days=3), 4)


async def test_what_an_owner_reads_is_released_once(survey_bot: BotHarness) -> None:
    """Asking again shows the same noisy shares: the noise cannot be averaged away."""
    bot = survey_bot
    maju = await factories.enterprise(bot, owner=OWNER)
    workers = list(range(2001, 2021))
    for worker in workers:
        await factories.worker(bot, worker, maju)
    await open_round(bot, "pulse")
    for n, worker in enumerate(workers):
        await _answer(bot, worker, [["Sering", "Jarang"][n % 2], "Aman", "Selalu", "Tidak",
                                    "Tidak"])
    await close_now(bot.settings, "pulse", "2026-11", clock=clock_of(bot))
    await bot.text(OWNER, "/kpi")
    first = bot.last_text(OWNER)
    for _ in range(3):
        await bot.text(OWNER, "/kpi")
        assert bot.last_text(OWNER) == first
    async with bot.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(PulseRelease)) == 1
    # Shares, whichever questions the noise leaves above five answers.
    assert "Sekitar" in first and "%" in first


def test_the_release_counts_every_choice_and_states_epsilon() -> None:
    pulse = load("pulse")
    choices = owner_totals.choices_of(pulse)
    exact = owner_totals.release(choices, {"supervisor_listens": {"often": 4}}, 6, noise=list)
    assert exact.counts["supervisor_listens"] == {
        "never": 0, "rarely": 0, "sometimes": 0, "often": 4, "always": 0}
    assert exact.counts["made_suggestion"] == {"yes": 0, "no": 0}
    assert (exact.responses, exact.exact_responses) == (6, 6)
    assert exact.epsilon == (len(pulse.questions) + 1) * 0.5
    # Noise below zero is shown as none.
    negative = owner_totals.release(choices, {}, 5, noise=lambda v: [x - 3 for x in v])
    assert set(negative.counts["feel_safe"].values()) == {0} and negative.responses == 2
    assert not owner_totals.may_show(negative)


def test_shares_are_rounded_to_ten_per_cent() -> None:
    assert owner_totals.shares({"a": 3, "b": 1, "c": 0}) == {"a": 80, "b": 20, "c": 0}
    assert owner_totals.shares({"a": 1, "b": 2}) == {"a": 30, "b": 70}
    assert owner_totals.shares({"a": 0, "b": 0}) == {"a": 0, "b": 0}
    assert owner_totals.about(6) == 5 and owner_totals.about(8) == 10


def test_the_noise_is_discrete_laplace_of_scale_two() -> None:
    draws = [owner_totals.laplace_noise([10])[0] for _ in range(3000)]
    assert all(isinstance(d, int) for d in draws)
    assert abs(statistics.mean(draws) - 10) < 0.4
    # Discrete Laplace of scale 2: variance 2e^(-1/2) / (1 - e^(-1/2))^2, about 7.8.
    assert 6 < statistics.variance(draws) < 10


def test_with_old_accounts_the_noise_still_hides_which_answer_was_the_workers() -> None:
    """The owner planned ahead: his four accounts are old enough to count. He knows their
    four answers ("often") and reads the release; does his worker's answer read back? The
    best guess (which of two answers has more noisy answers beyond his own) is right little
    more often than a coin: at most e/(1+e), 73%, for 0.5-DP counts."""
    choices = owner_totals.choices_of(load("pulse"))
    right = 0
    trials = 2000
    for n in range(trials):
        worker_said = "rarely" if n % 2 else "always"
        counts = {"supervisor_listens": {"often": 4, worker_said: 1}}
        seen = owner_totals.release(choices, counts, 5).counts["supervisor_listens"]
        guess = "rarely" if seen["rarely"] > seen["always"] else (
            "always" if seen["always"] > seen["rarely"] else ("rarely", "always")[n % 2 - 1])
        right += guess == worker_said
    assert right / trials < 0.8


async def test_pulse_answers_are_unlinked_at_the_close_and_keep_only_the_day(
        survey_bot: BotHarness, caplog: pytest.LogCaptureFixture) -> None:
    """Nothing ties a worker to their pulse answers through time: the log line of an answer
    names no one, finishing keeps only the day, and the close unlinks each response (a
    random id instead of the worker) and leaves the answers only their day; what owners
    read was released before, while the answers still said who had joined when."""
    bot = survey_bot
    maju = await factories.enterprise(bot, owner=OWNER)
    workers = list(range(2001, 2006))
    for worker in workers:
        await factories.worker(bot, worker, maju)
    await open_round(bot, "pulse")
    clock_of(bot).advance(3600 * 11 + 1234)  # an evening's minute, not midnight
    with caplog.at_level(logging.INFO, logger="bot.updates"):
        for worker in workers:
            await _answer(bot, worker, ANSWERS)
    # The invitation's button (who opened the survey) is named; no answer is.
    lines = [r.getMessage() for r in caplog.records]
    answers = [line for line in lines if "button:" in line and "button:survey" not in line]
    assert len(answers) == len(workers) * len(ANSWERS)
    assert all(line.startswith("update user=- ") for line in answers)
    async with bot.sessionmaker() as session:
        finished = (await session.scalars(select(SurveyResponse.finished_at).where(
            SurveyResponse.survey == "pulse"))).all()
    assert finished and all(f is not None and (f.hour, f.minute, f.second) == (0, 0, 0)
                            for f in finished)
    await close_now(bot.settings, "pulse", "2026-11", clock=clock_of(bot))
    async with bot.sessionmaker() as session:
        responses = (await session.scalars(select(SurveyResponse).where(
            SurveyResponse.survey == "pulse"))).all()
        times = (await session.scalars(select(SurveyAnswer.answered_at))).all()
        release = await session.scalar(select(PulseRelease))
    assert len(responses) == 5 and {r.respondent_id for r in responses} == {None}
    refs = {r.respondent_ref for r in responses}
    assert len(refs) == 5 and all(ref and len(ref) == 16 for ref in refs)
    for response in responses:
        for moment in (response.started_at, response.updated_at):
            assert (moment.hour, moment.minute, moment.second) == (0, 0, 0)
    assert times and {(t.hour, t.minute, t.second) for t in times} == {(0, 0, 0)}
    assert release is not None and release.exact_responses == 5
