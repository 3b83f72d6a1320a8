"""Whole journeys driven through the sandbox, shared by several tests."""

from __future__ import annotations

from sqlalchemy import select

from db.models import Enterprise
from tests.harness import BotHarness

LABELS = {
    "id": {"lang": "Bahasa Indonesia", "agree": "Setuju", "owner": "Pemilik",
           "worker": "Karyawan", "auto": "Suku cadang", "done": "Selesai", "confirm": "Konfirmasi",
           "approve": "Setujui", "reject": "Tolak"},
    "en": {"lang": "English", "agree": "Yes, I agree", "owner": "Owner", "worker": "Employee",
           "auto": "Auto parts", "done": "Done", "confirm": "Confirm", "approve": "Approve",
           "reject": "Reject"},
}


async def onboard(bot: BotHarness, user_id: int, lang: str = "id", role: str | None = "owner",
                  name: str = "Sari") -> None:
    bot.sandbox.add_user(user_id, name, language_code=lang)
    await bot.text(user_id, "/start")
    await bot.press(user_id, LABELS[lang]["lang"])
    await bot.press(user_id, LABELS[lang]["agree"])
    if role:
        await bot.press(user_id, LABELS[lang][role])


async def answer_enrolment(bot: BotHarness, user_id: int, lang: str = "id", *,
                           company: str = "PT Maju Jaya", city: str = "Bekasi",
                           workers: str = "120", contact: str = "Sari Wulandari",
                           phone: str = "0812 3456 7890", province: str = "jabar") -> None:
    """From the company-name question to the summary."""
    labels = LABELS[lang]
    await bot.text(user_id, company)
    await bot.press(user_id, labels["auto"])
    await bot.text(user_id, province)
    await bot.text(user_id, city)
    await bot.text(user_id, workers)
    await bot.text(user_id, contact)
    await bot.text(user_id, phone)
    await bot.press(user_id, "1.")
    await bot.press(user_id, "5.")
    await bot.press(user_id, labels["done"])


async def enrol(bot: BotHarness, user_id: int, lang: str = "id", **answers: str) -> Enterprise:
    await onboard(bot, user_id, lang)
    await answer_enrolment(bot, user_id, lang, **answers)
    await bot.press(user_id, LABELS[lang]["confirm"])
    return await enterprise_of(bot, user_id)


async def enterprise_of(bot: BotHarness, owner_id: int) -> Enterprise:
    async with bot.sessionmaker() as session:
        enterprise = await session.scalar(
            select(Enterprise).where(Enterprise.owner_id == owner_id))
    assert enterprise is not None
    return enterprise
