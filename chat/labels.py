"""Display names of domain keys, through gettext."""

from __future__ import annotations

from chat.i18n import N_, _

SECTOR_NAMES = {
    "auto_parts": N_("Auto parts and components"),
    "metal": N_("Metal and machinery"),
    "electronics": N_("Electrical and electronics"),
    "food": N_("Food and beverages"),
    "garment": N_("Textiles and garments"),
    "plastic_rubber": N_("Plastics and rubber"),
    "furniture": N_("Wood and furniture"),
    "chemical": N_("Chemicals"),
    "other": N_("Other"),
}

MODULE_NAMES = {
    1: N_("Workplace Cooperation"),
    2: N_("Quality Management"),
    3: N_("Productivity through Cleaner Production"),
    4: N_("Human Resource Management"),
    5: N_("Occupational Safety and Health"),
}

ROLE_NAMES = {
    "owner": N_("Owner"),
    "admin": N_("Enterprise admin"),
    "worker": N_("Worker"),
    "trainer": N_("Trainer"),
    "staff": N_("Staff"),
}


def role_name(role: str | None) -> str:
    return _(ROLE_NAMES[role]) if role in ROLE_NAMES else _("no role")


def sector_name(key: str, other: str | None = None) -> str:
    if key == "other" and other:
        return other
    return _(SECTOR_NAMES.get(key, key))


def module_name(number: int) -> str:
    return _(MODULE_NAMES[number])
