"""Indonesian phone numbers: normalisation to E.164 and masking for logs.

Accepted: "+62 812-3456-7890", "0812 3456 7890", "62812...", "0062 812...",
"(021) 555-1234", and "812 3456 7890" (the leading 0 forgotten after a "+62"
prompt, mobile only). Spaces, dashes, dots, slashes and parentheses are ignored.

Length bounds, counted on the national significant number (NSN: the digits
after the trunk "0" or the country code "62"):
  * 9 digits minimum: the shortest numbers in use, e.g. (021) 555-1234 or an
    old 0811-123456 mobile; anything shorter is a typo or a short code.
  * 12 digits maximum: the longest mobile numbers, 08xx-xxxx-xxxxx; E.164
    would allow 13 after "62", but nothing that long is issued in Indonesia.
The NSN must start with 2-9: "0" would be a doubled trunk prefix and "1"
starts service numbers, not subscriber ones.
"""

from __future__ import annotations

import re

COUNTRY_CODE = "62"
NSN_MIN_DIGITS = 9
NSN_MAX_DIGITS = 12

_SEPARATORS = re.compile(r"[\s\-./()]+")
_NSN = re.compile(rf"[2-9]\d{{{NSN_MIN_DIGITS - 1},{NSN_MAX_DIGITS - 1}}}")


def normalize_phone(text: str | None) -> str | None:
    """E.164 ("+62...") for a valid Indonesian number, else None."""
    if not text:
        return None
    raw = _SEPARATORS.sub("", text.strip())
    international = True
    if raw.startswith("+"):
        # With an explicit "+", only the Indonesian country code is accepted.
        if not raw.startswith("+" + COUNTRY_CODE):
            return None
        nsn = raw[1 + len(COUNTRY_CODE):]
    elif raw.startswith("00"):
        # International dialling prefix as used from Indonesia: 0062...
        if not raw.startswith("00" + COUNTRY_CODE):
            return None
        nsn = raw[2 + len(COUNTRY_CODE):]
    elif raw.startswith(COUNTRY_CODE):
        # Country code without its "+". A landline typed without its trunk 0
        # could also start with 62 (area codes 062x), but dropping the "+" is
        # far more common.
        nsn = raw[len(COUNTRY_CODE):]
    else:
        international = False
        if raw.startswith("0"):
            nsn = raw[1:]
        elif raw.startswith("8"):
            # Mobile number typed without its 0 (common after a "+62" prompt).
            nsn = raw
        else:
            return None
    if international and nsn.startswith("0"):
        # "+62 (0)812...": one redundant trunk 0 is a common way to write it.
        nsn = nsn[1:]
    if not _NSN.fullmatch(nsn):
        return None
    return f"+{COUNTRY_CODE}{nsn}"


def is_mobile(phone: str) -> bool:
    """True for a normalised mobile number (+628...)."""
    return phone.startswith(f"+{COUNTRY_CODE}8")


def mask_phone(phone: str | None) -> str:
    """"+6281234567890" -> "+62812****890": enough to recognise, not to call.

    A fixed number of stars also hides the number's length."""
    if not phone:
        return ""
    value = normalize_phone(phone) or phone.strip()
    if len(value) < 10:
        return "****"
    return f"{value[:6]}****{value[-3:]}"
