"""The printable A4 join poster: QR code of the deep link, enterprise name,
join code in large letters, and short instructions for workers.

Pure function of its inputs (no I/O besides rendering into memory), so it can
run in a worker thread and be tested without Telegram.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from functools import lru_cache

import qrcode
from PIL import Image, ImageDraw, ImageFont

# A4 portrait at 150 dpi: sharp enough to print, small enough to send quickly.
WIDTH, HEIGHT = 1240, 1754
_MARGIN = 90
_QUIET_ZONE = 4  # modules of white around the QR, as the QR standard asks

_INK = (26, 26, 26)
_GREY = (110, 110, 110)
_BRAND = (30, 45, 190)  # ILO blue
_WHITE = (255, 255, 255)

@dataclass(frozen=True)
class PosterTexts:
    """The poster's words, already translated by the caller (the domain knows no gettext)."""

    headline: str
    code_label: str
    steps: tuple[str, str, str]  # scan, start, type the code by hand
    footer: str


@lru_cache(maxsize=32)
def _font(size: int) -> ImageFont.FreeTypeFont:
    # Pillow >= 10.1 bundles a scalable TrueType font (Aileron), so posters
    # look the same on any server, with or without system fonts. Without
    # FreeType it silently falls back to a tiny bitmap font: fail loudly instead.
    font = ImageFont.load_default(size=size)
    if not isinstance(font, ImageFont.FreeTypeFont):
        raise RuntimeError("Pillow was built without FreeType; the poster needs it")
    return font


def qr_matrix(link: str) -> list[list[bool]]:
    """QR modules of `link` (True = dark), without quiet zone.

    Error correction M survives a folded or slightly dirty printout while
    keeping the modules large for a typical t.me link."""
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=0)
    qr.add_data(link)
    qr.make(fit=True)
    return [list(row) for row in qr.get_matrix()]


def wrap_text(text: str, font: ImageFont.FreeTypeFont, max_width: float) -> list[str]:
    """Greedy word wrap; a word wider than the line is split by characters so
    long names never run off the page."""
    lines: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}" if current else word
        if font.getlength(candidate) <= max_width:
            current = candidate
            continue
        if current:
            lines.append(current)
        current = ""
        for ch in word:
            if current and font.getlength(current + ch) > max_width:
                lines.append(current)
                current = ""
            current += ch
    if current:
        lines.append(current)
    return lines


def _clip_lines(lines: list[str], font: ImageFont.FreeTypeFont, max_width: float,
                max_lines: int) -> list[str]:
    if len(lines) <= max_lines:
        return lines
    kept = lines[:max_lines]
    last = kept[-1]
    while last and font.getlength(last + "...") > max_width:
        last = last[:-1]
    kept[-1] = last.rstrip() + "..."
    return kept


def _line_height(font: ImageFont.FreeTypeFont, spacing: float = 1.15) -> int:
    ascent, descent = font.getmetrics()
    return int((ascent + descent) * spacing)


def render_poster(*, enterprise_name: str, link: str, code: str, texts: PosterTexts) -> bytes:
    """A4 portrait PNG (WIDTH x HEIGHT)."""
    text_width = WIDTH - 2 * _MARGIN

    f_brand, f_name, f_head = _font(40), _font(68), _font(42)
    f_link, f_label, f_step, f_foot = _font(28), _font(40), _font(34), _font(28)

    name_lines = _clip_lines(wrap_text(enterprise_name, f_name, text_width), f_name, text_width, 3)
    steps = texts.steps
    # Numbers are drawn separately so wrapped lines get a hanging indent.
    indent = f_step.getlength("0. ")
    step_lines = [
        (f"{n}." if i == 0 else "", line)
        for n, step in enumerate(steps, start=1)
        for i, line in enumerate(wrap_text(step, f_step, text_width - indent))
    ]
    link_text = link.removeprefix("https://")
    link_lines = _clip_lines(wrap_text(link_text, f_link, text_width), f_link, text_width, 2)
    # Spaced characters are easier to read aloud and copy from a wall; the
    # font shrinks only if an unusually long code would not fit.
    code_text = " ".join(code)
    code_size = 140
    while code_size > 40 and _font(code_size).getlength(code_text) > text_width:
        code_size -= 10
    f_code = _font(code_size)

    # Everything except the QR has a fixed height; the QR gets what is left.
    top_part = (
        _line_height(f_brand) + 16
        + len(name_lines) * _line_height(f_name, 1.05) + 10
        + _line_height(f_head)
    )
    bottom_part = (
        len(link_lines) * _line_height(f_link) + 24
        + _line_height(f_label) + _line_height(f_code, 1.0) + 30
        + len(step_lines) * _line_height(f_step, 1.3)
    )
    footer_h = _line_height(f_foot)
    available = HEIGHT - 2 * _MARGIN - top_part - bottom_part - footer_h - 20

    matrix = qr_matrix(link)
    modules = len(matrix) + 2 * _QUIET_ZONE
    box = max(1, min(available, WIDTH - 2 * 40, 860) // modules)
    qr_block = modules * box

    image = Image.new("RGB", (WIDTH, HEIGHT), _WHITE)
    draw = ImageDraw.Draw(image)
    cx = WIDTH // 2
    y = _MARGIN

    draw.text((cx, y), "SCORE Assistant", font=f_brand, fill=_BRAND, anchor="ma")
    y += _line_height(f_brand) + 16
    for line in name_lines:
        draw.text((cx, y), line, font=f_name, fill=_INK, anchor="ma", stroke_width=1,
                  stroke_fill=_INK)
        y += _line_height(f_name, 1.05)
    y += 10
    draw.text((cx, y), texts.headline, font=f_head, fill=_GREY, anchor="ma")
    y += _line_height(f_head)

    # Free vertical space is split around the QR so the page stays balanced.
    slack = max(0, available - qr_block)
    y += slack // 2
    x0 = cx - len(matrix) * box // 2
    y0 = y + _QUIET_ZONE * box
    for r, row in enumerate(matrix):
        for c, dark in enumerate(row):
            if dark:
                draw.rectangle(
                    (x0 + c * box, y0 + r * box, x0 + (c + 1) * box - 1, y0 + (r + 1) * box - 1),
                    fill=(0, 0, 0),
                )
    y += qr_block
    for line in link_lines:
        draw.text((cx, y), line, font=f_link, fill=_GREY, anchor="ma")
        y += _line_height(f_link)
    y += 24 + slack - slack // 2

    draw.text((cx, y), texts.code_label, font=f_label, fill=_INK, anchor="ma")
    y += _line_height(f_label)
    draw.text((cx, y), code_text, font=f_code, fill=_INK, anchor="ma", stroke_width=2,
              stroke_fill=_INK)
    y += _line_height(f_code, 1.0) + 30
    for number, line in step_lines:
        if number:
            draw.text((_MARGIN, y), number, font=f_step, fill=_BRAND, anchor="la")
        draw.text((_MARGIN + indent, y), line, font=f_step, fill=_INK, anchor="la")
        y += _line_height(f_step, 1.3)

    draw.text((cx, HEIGHT - _MARGIN), texts.footer, font=f_foot, fill=_GREY, anchor="md")

    out = io.BytesIO()
    image.save(out, format="PNG", dpi=(150, 150))
    return out.getvalue()
