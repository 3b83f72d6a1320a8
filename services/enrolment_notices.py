"""Staff hear of a new enrolment through the outbox, and their notices follow the decision.

Every staff member (STAFF_IDS and those promoted with /staff, `db/queries/staff.py`) gets the
details with Approve and Reject in their own language. The notices are outbox rows of the group
`enrolment:<id>`, so one to a staff member whose chat is briefly unreachable is retried, and
the row keeps the message id to edit it later. When someone decides, notices already sent
are edited (the verdict appended, the buttons gone) and those not sent yet are dropped. A
notice in flight at that very moment still arrives with its buttons; pressing one then
answers "Already decided".
"""

from __future__ import annotations

import html
import logging
from zoneinfo import ZoneInfo

from telegram.error import TelegramError

from chat import notify
from chat.context import BotContext
from chat.i18n import _, current_locale, format_date, format_number, use_locale
from chat.labels import module_name, sector_name
from db.models import Enterprise, EnterpriseStatus
from db.queries import enterprises as ent_db
from db.queries import outbox as outbox_db
from db.queries.review import Card, card_of
from db.queries.staff import staff_ids
from db.queries.users import display_name
from domain.provinces import WIB, by_code

log = logging.getLogger(__name__)


def details(card: Card) -> str:
    enterprise, modules = card.enterprise, card.modules
    province = by_code(enterprise.province)
    return "\n".join([
        _("<b>New enrolment</b>: {name}").format(name=html.escape(enterprise.name)),
        _("Sector: {value}").format(value=html.escape(
            sector_name(enterprise.sector, enterprise.sector_other))),
        _("Province: {value}").format(value=province.name(current_locale()) if province else ""),
        _("City/regency: {value}").format(value=html.escape(enterprise.city)),
        _("Workers: {value}").format(value=format_number(enterprise.worker_count)),
        _("Contact: {value}").format(value=html.escape(enterprise.contact_name)),
        _("Phone: {value}").format(value=enterprise.phone),
        _("Modules: {value}").format(value=", ".join(module_name(m) for m in modules)),
        # Staff work from Jakarta: WIB.
        _("Received: {value}").format(value=format_date(
            enterprise.created_at.astimezone(ZoneInfo(WIB)))),
        *(_rival_line(enterprise, rival) for rival in card.rivals),
    ])


def _rival_line(enterprise: Enterprise, rival: Enterprise) -> str:
    """Another enrolment of the same name and city: staff decide which one is real."""
    if rival.status == EnterpriseStatus.APPROVED:
        text = _("⚠️ No. {other}, of the same name and city, is already approved. This one "
                 "(no. {this}) cannot be approved as well.")
    else:
        text = _("⚠️ No. {other}, of the same name and city, is also waiting (contact: "
                 "{contact}, {phone}). This is no. {this}. Please check which one is real.")
    return text.format(other=rival.id, this=enterprise.id,
                       contact=html.escape(rival.contact_name), phone=rival.phone)


def _group(enterprise_id: int) -> str:
    return f"enrolment:{enterprise_id}"


async def notify_staff(context: BotContext, enterprise_id: int) -> None:
    """Queue the notice for every staff member; an enrolment changed while pending replaces
    its notices that have not gone out yet."""
    svc = context.svc
    async with svc.sessionmaker() as session, session.begin():
        enterprise = await ent_db.get_enterprise(session, enterprise_id)
        assert enterprise is not None
        card = await card_of(session, enterprise)
        await notify.drop(svc, session, group=_group(enterprise_id), reason="replaced")

        def render() -> notify.Message:
            return notify.Message(details(card), [[
                notify.Button("✅ " + _("Approve"), "apr", str(enterprise_id)),
                notify.Button("❌ " + _("Reject"), "rej", str(enterprise_id))]])

        # One notice per version of the enrolment: the same one is never queued twice.
        version = int(enterprise.updated_at.timestamp() * 1000)
        await notify.queue(svc, session, group=_group(enterprise_id),
                           key=f"enrol{enterprise_id}v{version}",
                           to=await staff_ids(session, svc.settings.staff_ids), render=render,
                           priority=notify.URGENT)


async def mark_decided(context: BotContext, enterprise: Enterprise,
                       pressed: tuple[int, int] | None = None) -> None:
    """Every staff member's copy says who decided, and loses its buttons: the notices, and
    the message whose button decided (a /pending card) as well."""
    svc = context.svc
    async with svc.sessionmaker() as session, session.begin():
        await notify.drop(svc, session, group=_group(enterprise.id), reason="decided")
        sent = await outbox_db.sent_messages(session, _group(enterprise.id))
        who = await display_name(session, enterprise.decided_by or 0)
        card = await card_of(session, enterprise)
        if pressed is not None and pressed not in sent:
            sent = [*sent, pressed]
        languages = await outbox_db.languages_of(session, {chat_id for chat_id, _m in sent})
    for chat_id, message_id in sent:
        with use_locale(languages.get(chat_id, svc.settings.default_locale)):
            if enterprise.status == EnterpriseStatus.APPROVED:
                verdict = _("✅ Approved by {who}.").format(who=html.escape(who))
            else:
                verdict = _("❌ Rejected by {who}: {reason}").format(
                    who=html.escape(who), reason=html.escape(enterprise.reject_reason or ""))
            try:
                await context.bot.edit_message_text(
                    details(card) + "\n\n" + verdict, chat_id=chat_id,
                    message_id=message_id, parse_mode="HTML")
            except TelegramError as exc:
                log.info("could not update the staff notice to chat=%s: %s", chat_id, exc)


def change_details(enterprise: Enterprise, waiting: list[Enterprise] | None = None) -> str:
    """An approved enterprise's proposed name, city or province, beside the approved ones;
    with the enrolments `waiting` under the proposed name and city, which approving it
    would keep from being approved."""
    locale = current_locale()
    old_province, new_province = by_code(enterprise.province), by_code(
        enterprise.proposed_province or enterprise.province)
    lines = [_("<b>Change to approve</b>: {name}").format(name=html.escape(enterprise.name))]
    if enterprise.proposed_name and enterprise.proposed_name != enterprise.name:
        lines.append(_("Company: {old} → {new}").format(
            old=html.escape(enterprise.name), new=html.escape(enterprise.proposed_name)))
    if enterprise.proposed_city and enterprise.proposed_city != enterprise.city:
        lines.append(_("City/regency: {old} → {new}").format(
            old=html.escape(enterprise.city), new=html.escape(enterprise.proposed_city)))
    if old_province and new_province and new_province.code != old_province.code:
        lines.append(_("Province: {old} → {new}").format(
            old=old_province.name(locale), new=new_province.name(locale)))
    for other in waiting or []:
        lines.append(_("⚠️ No. {other} is waiting under the proposed name in that city "
                       "(contact: {contact}, {phone}). Once this change is approved, no. "
                       "{other} cannot be approved.").format(
            other=other.id, contact=html.escape(other.contact_name), phone=other.phone))
    return "\n".join(lines)


async def notify_change(context: BotContext, enterprise_id: int) -> None:
    """Every staff member gets the proposed change with Approve and Reject."""
    svc = context.svc
    async with svc.sessionmaker() as session, session.begin():
        enterprise = await ent_db.get_enterprise(session, enterprise_id)
        assert enterprise is not None
        group = f"change:{enterprise_id}"
        await notify.drop(svc, session, group=group, reason="replaced")
        waiting = [e for e in await ent_db.namesakes(
            session, enterprise.proposed_name or enterprise.name,
            enterprise.proposed_city or enterprise.city)
            if e.id != enterprise.id and e.status == EnterpriseStatus.PENDING]

        def render() -> notify.Message:
            return notify.Message(change_details(enterprise, waiting), [[
                notify.Button("✅ " + _("Approve"), "chok", str(enterprise_id)),
                notify.Button("❌ " + _("Reject"), "chno", str(enterprise_id))]])

        version = int(enterprise.updated_at.timestamp() * 1000)
        await notify.queue(svc, session, group=group, key=f"change{enterprise_id}v{version}",
                           to=await staff_ids(session, svc.settings.staff_ids), render=render,
                           priority=notify.URGENT)
