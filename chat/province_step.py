"""A flow step that asks for a province: a paged list of buttons (a page turned in place),
or the name typed ("jabar", "Sulsel": several that fit are offered as buttons). Enrolment and
workshops both ask it; each says what a chosen province leads to (`chosen`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

from telegram import InlineKeyboardMarkup

from chat.flow import BUTTON, STAY, Flow, Outcome, Run, Step
from chat.i18n import N_, _
from chat.keyboards import province_rows
from chat.reply import edit_or_send
from domain.provinces import by_code, match_province

D = TypeVar("D")

# Where the step keeps the page shown, in the flow's answers (each flow's TypedDict has it).
PAGE_KEY = "prov_page"
# At most this many provinces offered for one typed name.
MAX_MATCHES = 8


def _page(run: Run[Any]) -> int:
    return int(cast(dict[str, Any], run.data).get(PAGE_KEY, 0))


def forget_page(run: Run[Any]) -> None:
    """The page shown is no answer: dropped once a province is chosen."""
    cast(dict[str, Any], run.data).pop(PAGE_KEY, None)


def _value(value: str) -> bool:
    page = value.removeprefix("pg:")
    return by_code(value) is not None or (value.startswith("pg:") and page.isdigit())


def province_step(flow: Flow[D], name: str, *, question: str, kind: str,
                  chosen: Callable[[Run[D], str], Outcome]) -> Step[D]:
    """Declare the step `name` of `flow`: it asks `question` (marked with N_) with the
    provinces as buttons of `kind`, and hands the province's code to `chosen`."""

    def markup(run: Run[D], only: list[str] | None = None) -> InlineKeyboardMarkup:
        return InlineKeyboardMarkup(province_rows(run.keyboard(), kind=kind, page=_page(run),
                                                  only=only))

    async def ask(run: Run[D]) -> None:
        await run.say(_(question), markup(run))

    step = flow.step(name, expects=BUTTON,
                     note=N_("Please choose a province below, or type its name."))(ask)

    @step.on_button(kind, _value)
    async def pressed(run: Run[D], value: str) -> Outcome:
        await run.ack()
        if value.startswith("pg:"):
            # Paging edits the list in place rather than adding a message per page.
            cast(dict[str, Any], run.data)[PAGE_KEY] = int(value.removeprefix("pg:"))
            await edit_or_send(run.update, run.context, _(question), markup(run))
            return STAY
        forget_page(run)
        return chosen(run, value)

    @step.on_text()
    async def typed(run: Run[D], text: str) -> Outcome:
        matches = match_province(text)
        if len(matches) == 1:
            forget_page(run)
            return chosen(run, matches[0].code)
        if not matches:
            return run.retry(_("I do not know that province."))
        await run.say(_("Which one do you mean?"),
                      markup(run, only=[p.code for p in matches[:MAX_MATCHES]]))
        return STAY

    return step
