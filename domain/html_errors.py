"""What Telegram's complaint about broken HTML means, so it can be explained in the user's
language instead of shown raw ("Can't parse entities: ...")."""

from __future__ import annotations

import re
from dataclasses import dataclass

NOT_CLOSED, UNSUPPORTED, CROSSED, STRAY_END, UNFINISHED, OTHER = (
    "not_closed", "unsupported", "crossed", "stray_end", "unfinished", "other")


@dataclass(frozen=True)
class HtmlProblem:
    kind: str
    tag: str = ""
    found: str = ""


_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"can't find end tag corresponding to start tag \"(\w+)\"", re.I), NOT_CLOSED),
    (re.compile(r"unsupported start tag \"([^\"]*)\"", re.I), UNSUPPORTED),
    (re.compile(r"unmatched end tag .*expected \"</(\w+)>\", found \"</(\w+)>\"", re.I), CROSSED),
    (re.compile(r"unexpected end tag", re.I), STRAY_END),
    (re.compile(r"unclosed (?:start|end) tag", re.I), UNFINISHED),
)


def explain(message: str) -> HtmlProblem:
    for pattern, kind in _RULES:
        if match := pattern.search(message):
            groups = match.groups()
            return HtmlProblem(kind, groups[0] if groups else "",
                               groups[1] if len(groups) > 1 else "")
    return HtmlProblem(OTHER)
