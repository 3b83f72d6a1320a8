"""The workers' pulse through the bot: buttons with words, "prefer not to answer" on every
question, the follow-up only after a yes, stopping halfway across a restart, and what the
owner sees: totals only where at least five workers answered, only after the close."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from bot.survey_admin import close_now
from chat.context import services_of
from db.models import ResponseStatus, SurveyAnswer, SurveyResponse, SurveyRound
from services.surveys import rounds
from tests import factories
from tests.conftest import STAFF_ID
from tests.harness import BotHarness
from tests.survey_helpers import clock_of, open_round

OWNER = 1001
WORKERS = [2001, 2002, 2003, 2004, 2005, 2006]

# One worker's answers as pressed, Indonesian buttons.
ALL_YES = ["Sering", "Aman", "Selalu", "Ya", "Sudah dijalankan", "Tidak"]


async def answers_of(bot: BotHarness, worker: int) -> dict[str, SurveyAnswer]:
    async with bot.sessionmaker() as session:
        response = await session.scalar(select(SurveyResponse).where(
            SurveyResponse.respondent_id == worker).order_by(SurveyResponse.id.desc()))
        assert response is not None
        return {a.question: a for a in await session.scalars(
            select(SurveyAnswer).where(SurveyAnswer.response_id == response.id))}


async def test_a_worker_answers_with_buttons(survey_bot: BotHarness, exact_release: None) -> None:
    bot = survey_bot
    maju = await factories.enterprise(bot, owner=OWNER)
    await factories.worker(bot, 2001, maju)
    await open_round(bot, "pulse")
    assert "November" in bot.last_text(2001)
    before = len(bot.sandbox.calls_of("answerCallbackQuery"))
    await bot.press(2001, "Mulai survei")
    # The press is answered once (it stops spinning), by the mechanism.
    assert [c.error for c in bot.sandbox.calls_of("answerCallbackQuery")[before:]] == [None]
    texts = bot.sandbox.texts(2001)
    # Who cannot see the answers, and that it is not compulsory, before the first question.
    intro, question = texts[-1].split("\n\n", 1)  # one message
    assert intro.startswith("Atasan, HRD, dan pemilik perusahaan tidak bisa melihat jawaban "
                            "Anda.") and "tidak wajib" in intro
    assert question.startswith("1/6 Selama bulan November")
    labels = [b["text"] for row in bot.sandbox.last_message(2001).buttons for b in row]
    assert labels == ["Tidak pernah", "Jarang", "Kadang-kadang", "Sering", "Selalu",
                      "Tidak ingin menjawab"]
    for label in ALL_YES:
        await bot.press(2001, label)
    assert "Terima kasih" in bot.last_text(2001)
    rows = await answers_of(bot, 2001)
    assert {k: a.choice for k, a in rows.items()} == {
        "supervisor_listens": "often", "feel_safe": "safe", "ppe_available": "always",
        "made_suggestion": "yes", "suggestion_followed": "implemented", "saw_incident": "no"}
    # Never a percentage, never a number to a worker: the texts are words.
    assert not any("%" in text for text in bot.sandbox.texts(2001))


async def test_a_survey_begun_when_answers_had_one_letter_keys_goes_on(
        survey_bot: BotHarness, exact_release: None) -> None:
    """Drafts written before December 2026 keep each answer as {"n","p","c","t","s"}
    (handlers/survey._load): a worker half-way through at the deploy goes on, the yes read
    from that form still bringing its follow-up."""
    bot = survey_bot
    maju = await factories.enterprise(bot, owner=OWNER)
    await factories.worker(bot, 2001, maju)
    await open_round(bot, "pulse")
    await bot.press(2001, "Mulai survei")
    for label in ALL_YES[:4]:
        await bot.press(2001, label)
    answers = bot.draft(2001)["answers"]
    assert answers["made_suggestion"] == {"number": None, "percent": False, "choice": "yes",
                                          "text": None, "skipped": False}
    for key, a in answers.items():
        answers[key] = {"n": a["number"], "p": a["percent"], "c": a["choice"], "t": a["text"],
                        "s": a["skipped"]}
    assert bot.last_text(2001).startswith("5/6")
    for label in ALL_YES[4:]:
        await bot.press(2001, label)
    assert "Terima kasih" in bot.last_text(2001)
    rows = await answers_of(bot, 2001)
    assert {k: a.choice for k, a in rows.items()} == {
        "supervisor_listens": "often", "feel_safe": "safe", "ppe_available": "always",
        "made_suggestion": "yes", "suggestion_followed": "implemented", "saw_incident": "no"}


async def test_the_follow_up_is_asked_only_after_a_yes(survey_bot: BotHarness,
                                                       exact_release: None) -> None:
    bot = survey_bot
    maju = await factories.enterprise(bot, owner=OWNER)
    await factories.worker(bot, 2001, maju, language="en")
    await open_round(bot, "pulse")
    await bot.press(2001, "Start the survey")
    await bot.press(2001, "Prefer not to answer")
    await bot.press(2001, "Safe")
    await bot.text(2001, "always there")  # a choice typed instead of pressed
    assert bot.last_text(2001).startswith("4/6")
    await bot.text(2001, "maybe")  # not a choice
    assert "choose one of the buttons" in bot.last_text(2001)
    await bot.press(2001, "No")
    assert bot.last_text(2001).startswith("5/5")  # the follow-up fell away
    await bot.press(2001, "Yes")
    assert "Thank you" in bot.last_text(2001)
    rows = await answers_of(bot, 2001)
    assert rows["supervisor_listens"].skipped and rows["supervisor_listens"].choice is None
    assert rows["ppe_available"].choice == "always"
    assert "suggestion_followed" not in rows


async def test_a_changed_yes_drops_its_follow_up(survey_bot: BotHarness,
                                                 exact_release: None) -> None:
    """Answering again with a no: the earlier yes's follow-up is not kept in the new one."""
    bot = survey_bot
    maju = await factories.enterprise(bot, owner=OWNER)
    await factories.worker(bot, 2001, maju)
    await open_round(bot, "pulse")
    await bot.press(2001, "Mulai survei")
    for label in ALL_YES:
        await bot.press(2001, label)
    await bot.text(2001, "/survey")
    await bot.press(2001, "Ya, isi lagi")
    for label in ["Sering", "Aman", "Selalu", "Tidak", "Tidak"]:
        await bot.press(2001, label)
    rows = await answers_of(bot, 2001)
    assert rows["made_suggestion"].choice == "no" and "suggestion_followed" not in rows
    async with bot.sessionmaker() as session:
        statuses = [r.status for r in await session.scalars(
            select(SurveyResponse).order_by(SurveyResponse.id))]
    assert statuses == [ResponseStatus.REPLACED, ResponseStatus.FINAL]


async def test_six_workers_one_finishing_after_a_restart_and_the_owner_sees_totals(
        survey_bot: BotHarness, exact_release: None) -> None:
    bot = survey_bot
    maju = await factories.enterprise(bot, owner=OWNER)
    for worker in WORKERS:
        await factories.worker(bot, worker, maju)
    await open_round(bot, "pulse")
    for worker in WORKERS[:4]:
        await bot.press(worker, "Mulai survei")
        for label in ALL_YES:
            await bot.press(worker, label)
    # The fifth prefers not to say whether the supervisor listens: not an answer.
    await bot.press(WORKERS[4], "Mulai survei")
    for label in ["Tidak ingin menjawab", *ALL_YES[1:]]:
        await bot.press(WORKERS[4], label)
    # The sixth stops halfway; the bot restarts; they go on at the same question.
    await bot.press(WORKERS[5], "Mulai survei")
    for label in ALL_YES[:3]:
        await bot.press(WORKERS[5], label)
    await bot.restart(hard=True)
    assert bot.last_text(WORKERS[5]).startswith("4/6")
    await bot.press(WORKERS[5], "Tidak")
    await bot.press(WORKERS[5], "Tidak")
    assert "Terima kasih" in bot.last_text(WORKERS[5])
    # While the round is open the owner sees no totals: they would grow one worker at a time.
    await bot.text(OWNER, "/kpi")
    assert not any("Survei pekerja," in text for text in bot.sandbox.texts(OWNER))
    assert "sedang berjalan. Hasilnya ditampilkan setelah ditutup pada Minggu, 20 Desember " \
           "2026" in bot.last_text(OWNER)
    await close_now(bot.settings, "pulse", "2026-11", clock=clock_of(bot))
    await bot.text(OWNER, "/kpi")
    totals = bot.last_text(OWNER)
    assert "6 pekerja terhubung dengan perusahaan di bot saat survei dibuka" in totals
    # Six answered ("about 5"); five answered the first (the sixth preferred not to): shown
    # as shares (here without the noise: exact_release), never as counts.
    assert "Sekitar 5 pekerja menjawab." in totals
    assert "Atasan mendengarkan usulan: Tidak pernah 0%, Jarang 0%, Kadang-kadang 0%, " \
           "Sering 100%, Selalu 0%" in totals
    assert "Rasa aman saat bekerja: " in totals
    # Five said yes and answered the follow-up.
    assert "Usulan sudah dijalankan: Sudah dijalankan 100%" in totals
    for worker in WORKERS:
        assert str(worker) not in totals


async def test_fewer_than_five_answers_are_never_shown(survey_bot: BotHarness,
                                                       exact_release: None) -> None:
    bot = survey_bot
    maju = await factories.enterprise(bot, owner=OWNER)
    for worker in WORKERS[:4]:
        await factories.worker(bot, worker, maju)
    await open_round(bot, "pulse")
    for worker in WORKERS[:4]:
        await bot.press(worker, "Mulai survei")
        for label in ALL_YES:
            await bot.press(worker, label)
    await close_now(bot.settings, "pulse", "2026-11", clock=clock_of(bot))
    await bot.text(OWNER, "/kpi")
    totals = bot.last_text(OWNER)
    # After the close, why, never "1 more answer is needed".
    assert "Hasilnya tidak ditampilkan, demi kerahasiaan" in totals and "perlu" not in totals
    assert "Sering" not in totals and "Atasan" not in totals


async def test_a_follow_up_with_fewer_than_five_answers_says_no_count(
        survey_bot: BotHarness, exact_release: None) -> None:
    """Five answered, three said yes: how many answered the follow-up would tell how many
    said yes, so it is named without a count."""
    bot = survey_bot
    maju = await factories.enterprise(bot, owner=OWNER)
    for worker in WORKERS[:5]:
        await factories.worker(bot, worker, maju)
    await open_round(bot, "pulse")
    for n, worker in enumerate(WORKERS[:5]):
        await bot.press(worker, "Mulai survei")
        for label in ["Sering", "Aman", "Selalu"]:
            await bot.press(worker, label)
        if n < 3:
            await bot.press(worker, "Ya")
            await bot.press(worker, "Belum")
        else:
            await bot.press(worker, "Tidak")
        await bot.press(worker, "Tidak")
    await close_now(bot.settings, "pulse", "2026-11", clock=clock_of(bot))
    await bot.text(OWNER, "/kpi")
    totals = bot.last_text(OWNER)
    assert "Menyampaikan usulan: Ya, pernah 60%, Tidak pernah 40%" in totals
    assert "demi kerahasiaan: Usulan sudah dijalankan." in totals
    assert "Belum" not in totals


async def test_a_button_of_an_earlier_question_changes_nothing(survey_bot: BotHarness,
                                                               exact_release: None) -> None:
    bot = survey_bot
    maju = await factories.enterprise(bot, owner=OWNER)
    await factories.worker(bot, 2001, maju)
    await open_round(bot, "pulse")
    await bot.press(2001, "Mulai survei")
    await bot.press(2001, "Sering")
    asked = bot.last_text(2001)
    assert asked.startswith("2/6")
    await bot.press(2001, "Selalu")  # question 1's button again: that question is answered
    assert bot.sandbox.callback_answers(2001)[-1].get("text") == "Tombol ini sudah tidak berlaku."
    assert bot.last_text(2001) == asked
    rows = await answers_of(bot, 2001)
    assert rows["supervisor_listens"].choice == "often" and set(rows) == {"supervisor_listens"}


async def test_a_round_moved_while_a_worker_answers_says_when_it_opens_again(
        survey_bot: BotHarness, exact_release: None) -> None:
    bot = survey_bot
    maju = await factories.enterprise(bot, owner=OWNER)
    await factories.worker(bot, WORKERS[0], maju)
    await open_round(bot, "pulse")
    await bot.press(WORKERS[0], "Mulai survei")
    await bot.press(WORKERS[0], "Sering")
    async with bot.sessionmaker() as session:
        pulse = await session.scalar(select(SurveyRound).where(SurveyRound.survey == "pulse"))
    assert pulse is not None
    assert await rounds.move_round(services_of(bot.app), pulse.id,  # type: ignore[arg-type]
                                   date(2026, 12, 8), staff_id=STAFF_ID)
    await bot.press(WORKERS[0], "Aman")
    assert bot.last_text(WORKERS[0]) == (
        "Jadwal survei ini dipindahkan. Survei dibuka lagi pada Selasa, 8 Desember 2026, dan "
        "Anda akan mendapat pesan saat itu. Jawaban yang sudah diisi tetap tersimpan.")
    # /survey says the same, without an invitation at hand.
    await bot.text(WORKERS[0], "/survey")
    assert bot.last_text(WORKERS[0]).startswith(
        "Jadwal survei ini dipindahkan. Survei dibuka pada Selasa, 8 Desember 2026. Bila Anda")
    answers = await answers_of(bot, WORKERS[0])
    assert set(answers) == {"supervisor_listens"}



async def test_survey_typed_again_mid_survey_shows_where_the_worker_was(
        survey_bot: BotHarness, exact_release: None) -> None:
    bot = survey_bot
    maju = await factories.enterprise(bot, owner=OWNER)
    await factories.worker(bot, WORKERS[0], maju)
    await open_round(bot, "pulse")
    await bot.press(WORKERS[0], "Mulai survei")
    await bot.press(WORKERS[0], "Sering")
    await bot.text(WORKERS[0], "/survey")
    assert bot.last_text(WORKERS[0]).startswith("Kita lanjutkan yang tadi, ya.\n\n2/6")
    await bot.press(WORKERS[0], "Aman")
    assert bot.last_text(WORKERS[0]).startswith("3/6")


async def test_an_earlier_questions_button_never_answers_the_open_one(
        survey_bot: BotHarness, exact_release: None) -> None:
    """Question 1's "Selalu" pressed at question 3, whose "Selalu tersedia" carries the same
    value ("always"): stale,
    nothing recorded for question 3, and the question is shown again in the pressed
    message; the buttons of that copy answer question 3 only."""
    bot = survey_bot
    maju = await factories.enterprise(bot, owner=OWNER)
    await factories.worker(bot, 2001, maju)
    await open_round(bot, "pulse")
    await bot.press(2001, "Mulai survei")
    first = bot.sandbox.last_message(2001)
    await bot.press(2001, "Sering")
    await bot.press(2001, "Aman")
    assert bot.last_text(2001).startswith("3/6")
    always = next(b["callback_data"] for row in first.buttons for b in row
                  if b["text"] == "Selalu")
    bot.sandbox.press(2001, always, message_id=first.message_id)
    await bot.settle()
    assert bot.sandbox.callback_answers(2001)[-1].get("text") == "Tombol ini sudah tidak berlaku."
    async with bot.sessionmaker() as session:
        answered = set((await session.scalars(select(SurveyAnswer.question))).all())
    assert answered == {"supervisor_listens", "feel_safe"}
    shown_again = next(m for m in bot.sandbox.messages(2001)
                       if m.message_id == first.message_id)
    assert (shown_again.text or "").startswith("3/6")
    await bot.press(2001, "Kadang-kadang tersedia")
    assert bot.last_text(2001).startswith("4/6")


async def test_every_invitation_says_who_cannot_see_the_answers(
        survey_bot: BotHarness, exact_release: None) -> None:
    """Where workers decide to tap (LANGUAGE.md, "Workers and their trust")."""
    bot = survey_bot
    maju = await factories.enterprise(bot, owner=OWNER)
    await factories.worker(bot, 2001, maju)
    await open_round(bot, "pulse")
    invitation = next(t for t in bot.texts(2001) if t.startswith("Survei singkat"))
    assert "Atasan, HRD, dan pemilik perusahaan tidak bisa melihat jawaban Anda." in invitation
    assert "tidak wajib" in invitation and "sukarela" not in invitation
    await bot.press(2001, "Mulai survei")
    await bot.press(2001, "Sering")
    await bot.press(2001, "Aman")
    labels = [b["text"] for row in bot.sandbox.last_message(2001).buttons for b in row]
    # Each button makes sense without its question: never a bare "Tidak" beside "Kadang-kadang".
    assert labels == ["Selalu tersedia", "Kadang-kadang tersedia", "Tidak tersedia",
                      "Saya tidak perlu APD", "Tidak ingin menjawab"]


async def test_cancel_keeps_the_answers_and_survey_goes_on(survey_bot: BotHarness,
                                                           exact_release: None) -> None:
    """/cancel says what happens: the answers stay, count once finished, and /survey goes
    on at the next question. A yes-or-no question's buttons make sense without it."""
    bot = survey_bot
    maju = await factories.enterprise(bot, owner=OWNER)
    await factories.worker(bot, 2001, maju)
    await open_round(bot, "pulse")
    await bot.press(2001, "Mulai survei")
    for label in ["Sering", "Aman", "Selalu"]:
        await bot.press(2001, label)
    labels = [b["text"] for row in bot.sandbox.last_message(2001).buttons for b in row]
    assert labels == ["Ya, pernah", "Tidak pernah", "Tidak ingin menjawab"]
    await bot.text(2001, "/cancel")
    assert bot.last_text(2001) == (
        "Dihentikan. Jawaban Anda tetap tersimpan sampai survei ditutup, dan baru dihitung "
        "setelah survei selesai diisi. Ketik /survey untuk melanjutkan.")
    assert set(await answers_of(bot, 2001)) == {"supervisor_listens", "feel_safe",
                                                "ppe_available"}
    await bot.text(2001, "/survey")
    assert "4/6" in bot.last_text(2001)
    await bot.press(2001, "Tidak pernah")
    await bot.press(2001, "Tidak pernah")
    assert "Terima kasih" in bot.last_text(2001)
